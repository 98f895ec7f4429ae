/**
 * RFC 7662 introspection as a verifier: the request (section 2.1: form-encoded `token` and
 * `token_type_hint`, the resource server authenticated by each client authentication method), and
 * the answer (section 2.2: `active`, then `iss`, `aud`, `exp`, `nbf`, `iat`, `scope`,
 * `client_id`, `sub` checked as a JWT's), against the local issuer's real endpoint.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createAuthenticator, type AuthenticatorOptions, type RequireAuthEvent, type VerifierEvent } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { AUDIENCE, authenticate, outcome, standIn } from './support.js';

let issuer: LocalIssuer;
const keys = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const closers: Array<() => void> = [];

beforeAll(async () => {
  issuer = await createLocalIssuer({
    clients: [
      { clientId: 'orders-api', clientSecret: 'rs-secret', audiences: [AUDIENCE] },
      { clientId: 'orders-api-keyed', publicKey: keys.publicKey, audiences: [AUDIENCE] },
    ],
  });
});
afterAll(async () => {
  for (const close of closers) close();
  await issuer.close();
});
beforeEach(() => issuer.resetCounts());

function authenticator(options: Partial<AuthenticatorOptions> = {}) {
  const built = createAuthenticator({
    issuerBaseURL: issuer.url,
    audience: AUDIENCE,
    ...options,
    introspection: { clientId: 'orders-api', clientSecret: 'rs-secret', ...options.introspection },
  });
  closers.push(() => built.close());
  return built;
}

describe('RFC 7662 section 2.1: the request', () => {
  test('POST, form-encoded token and token_type_hint=access_token, Accept JSON, client_secret_basic by default', async () => {
    const token = issuer.mintOpaqueToken({ audience: AUDIENCE });
    await authenticate(authenticator(), token);
    const [recorded] = issuer.introspectionRequests;
    expect(recorded?.contentType).toBe('application/x-www-form-urlencoded');
    expect(recorded?.params).toEqual({ token, token_type_hint: 'access_token' });
    expect(recorded?.headers.accept).toBe('application/json');
    expect(recorded?.headers.authorization).toBe(`Basic ${Buffer.from('orders-api:rs-secret').toString('base64')}`);
  });

  test('client_secret_post: the id and secret in the body', async () => {
    const token = issuer.mintOpaqueToken({ audience: AUDIENCE });
    const auth = await authenticate(authenticator({ introspection: { clientId: 'orders-api', clientSecret: 'rs-secret', authMethod: 'client_secret_post' } }), token);
    expect(auth.payload.aud).toBe(AUDIENCE);
    const [recorded] = issuer.introspectionRequests;
    expect(recorded?.params).toEqual({ token, token_type_hint: 'access_token', client_id: 'orders-api', client_secret: 'rs-secret' });
    expect(recorded?.headers.authorization).toBeUndefined();
  });

  test('private_key_jwt: a client assertion whose audience is the introspection endpoint', async () => {
    const token = issuer.mintOpaqueToken({ audience: AUDIENCE });
    const built = createAuthenticator({
      issuerBaseURL: issuer.url, audience: AUDIENCE, introspection: { clientId: 'orders-api-keyed', privateKey: keys.privateKey },
    });
    closers.push(() => built.close());
    expect((await authenticate(built, token)).payload.client_id).toBe('test-client');
    const params = issuer.introspectionRequests[0]?.params as Record<string, string>;
    expect(params.client_assertion_type).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const assertion = JSON.parse(Buffer.from(params.client_assertion!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(assertion).toMatchObject({ iss: 'orders-api-keyed', sub: 'orders-api-keyed', aud: issuer.introspectionEndpoint });
  });

  test('credentials the authorization server refuses: 503 (the caller did nothing wrong), never 401 or 500', async () => {
    const token = issuer.mintOpaqueToken({ audience: AUDIENCE });
    const result = await outcome(authenticator({ introspection: { clientId: 'orders-api', clientSecret: 'wrong' } }), token);
    expect(result).toMatchObject({ status: 503, code: 'ERR_KEY_SOURCE_UNAVAILABLE' });
    expect(result.headers?.['Retry-After']).toMatch(/^\d+$/);
  });
});

describe('RFC 7662 section 2.2: active', () => {
  test('an active token: a VerifiedToken with the answer as payload, its scopes, and no header', async () => {
    const token = issuer.mintOpaqueToken({ clientId: 'billing', audience: AUDIENCE, scope: 'read:orders write:orders' });
    const auth = await authenticate(authenticator(), token);
    expect(auth.token).toBe(token);
    expect(auth.scopes).toEqual(['read:orders', 'write:orders']);
    expect(auth.payload).toMatchObject({ active: true, iss: issuer.issuer, sub: 'billing@clients', client_id: 'billing', aud: AUDIENCE });
    expect(auth.header).toEqual({});
    expect(Object.isFrozen(auth) && Object.isFrozen(auth.payload)).toBe(true);
  });

  test('active: false -> 401 invalid_token ERR_TOKEN_INACTIVE (unknown and revoked tokens alike)', async () => {
    const revoked = issuer.mintOpaqueToken({ audience: AUDIENCE });
    issuer.revokeToken(revoked);
    const verifier = authenticator();
    for (const token of ['made-up-token', revoked]) {
      const result = await outcome(verifier, token);
      expect(result).toMatchObject({ status: 401, code: 'ERR_TOKEN_INACTIVE', message: 'the token is not active' });
      expect(result.headers?.['WWW-Authenticate']).toBe('Bearer error="invalid_token", error_description="the token is not active"');
    }
  });
});

describe('RFC 7662 section 2.2: the claims, checked as a JWT\'s', () => {
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  test('an expired token: the local issuer answers inactive (401 ERR_TOKEN_INACTIVE)', async () => {
    const token = issuer.mintOpaqueToken({ audience: AUDIENCE, claims: { exp: nowSeconds() - 100 } });
    expect(await outcome(authenticator(), token)).toMatchObject({ status: 401, code: 'ERR_TOKEN_INACTIVE' });
  });

  test.each([
    ['expired (exp in the past)', { exp: -100 }, 'ERR_JWT_EXPIRED'],
    ['not yet valid (nbf)', { nbf: 1000 }, 'ERR_JWT_NOT_YET_VALID'],
    ['issued in the future (iat)', { iat: 1000 }, 'ERR_JWT_IAT_FUTURE'],
  ])('a server that says active for a token %s anyway: 401', async (_name, offsets, code) => {
    const claims = Object.fromEntries(Object.entries(offsets).map(([claim, offset]) => [claim, nowSeconds() + offset]));
    const server = await standIn((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ active: true, iss: issuer.issuer, aud: AUDIENCE, ...claims }));
    });
    try {
      const verifier = authenticator({ introspection: { clientId: 'orders-api', clientSecret: 'rs-secret', endpoint: `${server.url}/introspect` } });
      expect(await outcome(verifier, 'opaque-token')).toMatchObject({ status: 401, code });
    } finally {
      await server.close();
    }
  });

  test('another audience -> 401 ERR_JWT_AUDIENCE; an array aud containing ours passes', async () => {
    expect(await outcome(authenticator(), issuer.mintOpaqueToken({ audience: 'https://other.example' }))).toMatchObject({ status: 401, code: 'ERR_JWT_AUDIENCE' });
    expect(await outcome(authenticator(), issuer.mintOpaqueToken({ audience: ['https://other.example', AUDIENCE] }))).toEqual({ status: 200 });
  });

  test('an answer without aud -> 401 missing aud (as for a JWT)', async () => {
    const token = issuer.mintOpaqueToken({ audience: AUDIENCE, claims: { aud: undefined } });
    expect(await outcome(authenticator(), token)).toMatchObject({ status: 401, code: 'ERR_JWT_CLAIM_MISSING' });
  });

  test('another issuer -> 401 ERR_JWT_ISSUER; no iss (optional in RFC 7662) passes', async () => {
    expect(await outcome(authenticator(), issuer.mintOpaqueToken({ audience: AUDIENCE, claims: { iss: 'https://evil.example/' } })))
      .toMatchObject({ status: 401, code: 'ERR_JWT_ISSUER' });
    expect(await outcome(authenticator(), issuer.mintOpaqueToken({ audience: AUDIENCE, claims: { iss: undefined } }))).toEqual({ status: 200 });
  });

  test('no exp (optional in RFC 7662) passes; exp of the wrong type is refused', async () => {
    expect(await outcome(authenticator(), issuer.mintOpaqueToken({ audience: AUDIENCE, claims: { exp: undefined } }))).toEqual({ status: 200 });
    expect(await outcome(authenticator(), issuer.mintOpaqueToken({ audience: AUDIENCE, claims: { exp: 'tomorrow' } })))
      .toMatchObject({ status: 401, code: 'ERR_JWT_CLAIM_INVALID' });
  });

  test.each([
    ['sub', 42], ['client_id', { id: 'x' }], ['iss', 7], ['aud', [AUDIENCE, 3]], ['scope', 12],
  ])('%s of the wrong type is refused (401 ERR_JWT_CLAIM_INVALID)', async (claim, value) => {
    const token = issuer.mintOpaqueToken({ audience: AUDIENCE, claims: { [claim]: value } });
    expect(await outcome(authenticator(), token)).toMatchObject({ status: 401, code: 'ERR_JWT_CLAIM_INVALID' });
  });

  test('scopeClaim, requiredClaims, maxTokenAge and claims rules apply as for JWTs', async () => {
    const token = issuer.mintOpaqueToken({ audience: AUDIENCE, claims: { scp: ['a', 'b'], tenant: 'acme' } });
    expect((await authenticate(authenticator({ scopeClaim: 'scp' }), token)).scopes).toEqual(['a', 'b']);
    expect(await outcome(authenticator({ requiredClaims: ['org_id'] }), token)).toMatchObject({ status: 401, code: 'ERR_JWT_CLAIM_MISSING' });
    expect(await outcome(authenticator({ claims: { tenant: 'globex' } }), token)).toMatchObject({ status: 401, code: 'ERR_JWT_CLAIM_INVALID' });
    expect(await outcome(authenticator({ claims: { tenant: async (tenant) => tenant === 'acme' } }), token)).toEqual({ status: 200 });
    const old = issuer.mintOpaqueToken({ audience: AUDIENCE, claims: { iat: Math.floor(Date.now() / 1000) - 600 } });
    expect(await outcome(authenticator({ maxTokenAge: 60 }), old)).toMatchObject({ status: 401, code: 'ERR_JWT_TOO_OLD' });
  });

  test('a sender-constrained answer (cnf) is refused, as a cnf-bound JWT is', async () => {
    const token = issuer.mintOpaqueToken({ audience: AUDIENCE, claims: { cnf: { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } } });
    expect(await outcome(authenticator(), token)).toMatchObject({ status: 401, code: 'ERR_TOKEN_SENDER_CONSTRAINED' });
  });

  test('rejections are reported as verification.rejected events, without the token', async () => {
    const events: VerifierEvent[] = [];
    const token = issuer.mintOpaqueToken({ audience: 'https://other.example' });
    await outcome(authenticator({ onEvent: (event) => events.push(event) }), token);
    expect(events).toContainEqual({ type: 'verification.rejected', code: 'ERR_JWT_AUDIENCE', reason: "unexpected 'aud' claim value" });
    expect(JSON.stringify(events)).not.toContain(token);
  });
});

describe('tokens: opaque (the default) and all', () => {
  test('opaque: JWTs are verified with the keys (no introspection call), other tokens introspected', async () => {
    const verifier = authenticator();
    const jwt = await issuer.accessToken({ audience: AUDIENCE, scope: 'read' });
    expect((await authenticate(verifier, jwt)).scopes).toEqual(['read']);
    expect(issuer.counts.introspection).toBe(0);
    await authenticate(verifier, issuer.mintOpaqueToken({ audience: AUDIENCE }));
    expect(issuer.counts.introspection).toBe(1);
  });

  test('all: a JWT is introspected too, so its revocation at the server takes effect', async () => {
    const verifier = authenticator({ introspection: { clientId: 'orders-api', clientSecret: 'rs-secret', tokens: 'all', cache: false } });
    const jwt = await issuer.accessToken({ audience: AUDIENCE });
    expect(await outcome(verifier, jwt)).toEqual({ status: 200 });
    expect(issuer.counts.introspection).toBe(1);
    issuer.revokeToken(jwt);
    expect(await outcome(verifier, jwt)).toMatchObject({ status: 401, code: 'ERR_TOKEN_INACTIVE' });
    expect(issuer.counts.jwks).toBe(0);
  });

  test('all without jwtResponse needs no keys: issuer + endpoint is enough, and no discovery or JWKS request is made', async () => {
    const built = createAuthenticator({
      issuer: issuer.issuer, audience: AUDIENCE,
      introspection: { endpoint: issuer.introspectionEndpoint, clientId: 'orders-api', clientSecret: 'rs-secret', tokens: 'all' },
    });
    closers.push(() => built.close());
    expect(await outcome(built, issuer.mintOpaqueToken({ audience: AUDIENCE }))).toEqual({ status: 200 });
    expect(issuer.counts).toEqual({ discovery: 0, jwks: 0, token: 0, introspection: 1 });
  });
});

describe('options: every mistake is a TypeError naming the option', () => {
  const base = { issuerBaseURL: 'https://issuer.example/', audience: AUDIENCE };
  test.each([
    [{ introspection: { clientSecret: 'x' } }, /"introspection.clientId" is required/],
    [{ introspection: { clientId: 'rs' } }, /"introspection.clientSecret" is required for client_secret_basic/],
    [{ introspection: { clientId: 'rs', clientSecret: 'x', tokens: 'jwt' } }, /"introspection.tokens" must be 'opaque' or 'all'/],
    [{ introspection: { clientId: 'rs', clientSecret: 'x', cache: { maxAgee: 1 } } }, /unknown option "introspection.cache.maxAgee" \(did you mean "introspection.cache.maxAge"\?\)/],
    [{ introspection: { clientId: 'rs', clientSecret: 'x', endpoint: 'http://auth.example/introspect' } }, /"introspection.endpoint" must be an https URL/],
    [{ introspection: { clientId: 'rs', clientSecret: 'x', maxConcurrent: 0 } }, /"introspection.maxConcurrent" must be a positive integer/],
    [{ introspection: { clientId: 'rs', clientSecret: 'x', privateKeyKid: 'k1' } }, /"introspection.privateKeyKid" applies only to private_key_jwt/],
    [{ introspection: { clientId: 'rs', clientSecret: 'x', privateKey: 'not a key' } }, /give "clientSecret" or "privateKey", not both/],
    [{ introspection: { clientId: 'rs', privateKey: 'not a key' } }, /"introspection.privateKey" must be a private key: a PEM string, a private JWK, a private KeyObject or a CryptoKey/],
    [{ introspection: { clientId: 'rs', clientSecret: 'x', tokens: 'all' }, jwksUri: 'https://issuer.example/jwks' }, /"jwksUri" is not used/],
  ])('%j', (options, message) => {
    expect(() => createAuthenticator({ ...base, ...options } as AuthenticatorOptions)).toThrow(message);
  });

  test('without issuerBaseURL the endpoint is required', () => {
    expect(() => createAuthenticator({ issuer: 'https://issuer.example/', audience: AUDIENCE, introspection: { clientId: 'rs', clientSecret: 'x', tokens: 'all' } }))
      .toThrow(/"introspection.endpoint" is required without "issuerBaseURL"/);
  });

  test('requireAuth-shaped events type-check with the new event', () => {
    const event: RequireAuthEvent = { type: 'introspection.failed', endpoint: 'https://issuer.example/introspect', error: new Error('x') };
    expect(event.type).toBe('introspection.failed');
  });
});
