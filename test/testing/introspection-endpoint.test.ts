/**
 * The local issuer's RFC 7662 introspection endpoint: advertised in its metadata, the caller
 * authenticated with the token endpoint's client registry, `active: false` for unknown, expired
 * and revoked tokens, its opaque tokens and JWTs described, RFC 9701 signed answers on request,
 * counted and recorded.
 */
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';

let issuer: LocalIssuer;
let now = Date.now();

beforeAll(async () => {
  issuer = await createLocalIssuer({
    now: () => now,
    clients: [
      { clientId: 'api', clientSecret: 'api-secret', audiences: ['https://api'] },
      { clientId: 'opaque-client', clientSecret: 'opaque-secret', audiences: ['https://api'], scopes: ['read'], opaqueTokens: true },
    ],
  });
});
afterAll(() => issuer.close());
beforeEach(() => {
  now = Date.now();
  issuer.resetCounts();
});

function introspect(token: string, init: { auth?: string; accept?: string } = {}): Promise<Response> {
  const authorization = init.auth ?? `Basic ${Buffer.from('api:api-secret').toString('base64')}`;
  return fetch(issuer.introspectionEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization, ...(init.accept === undefined ? {} : { accept: init.accept }) },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
  });
}

describe('discovery names the endpoint', () => {
  test('introspection_endpoint and the methods it accepts are in the metadata', async () => {
    const metadata = await (await fetch(issuer.discoveryUri)).json() as Record<string, unknown>;
    expect(metadata.introspection_endpoint).toBe(`${issuer.url}/oauth/introspect`);
    expect(metadata.introspection_endpoint).toBe(issuer.introspectionEndpoint);
    expect(metadata.introspection_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
  });
});

describe('RFC 7662 section 2.1: the caller authenticates', () => {
  test('without client authentication: 401 invalid_client, and no answer about the token', async () => {
    const token = issuer.mintOpaqueToken({ audience: 'https://api' });
    const response = await fetch(issuer.introspectionEndpoint, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${token}`,
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_client' });
  });

  test('a wrong secret: 401 invalid_client', async () => {
    const response = await introspect('x', { auth: `Basic ${Buffer.from('api:wrong').toString('base64')}` });
    expect(response.status).toBe(401);
  });

  test('client_secret_post works as well; a request without token is 400', async () => {
    const token = issuer.mintOpaqueToken({ audience: 'https://api' });
    const ok = await fetch(issuer.introspectionEndpoint, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, client_id: 'api', client_secret: 'api-secret' }).toString(),
    });
    expect((await ok.json() as { active: boolean }).active).toBe(true);
    const missing = await fetch(issuer.introspectionEndpoint, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_id=api&client_secret=api-secret',
    });
    expect(missing.status).toBe(400);
  });
});

describe('RFC 7662 section 2.2: the answer', () => {
  test('an opaque token minted here: active, with its claims; no dots in the token', async () => {
    const token = issuer.mintOpaqueToken({ clientId: 'billing', audience: 'https://api', scope: ['read', 'write'], expiresIn: 60 });
    expect(token).not.toContain('.');
    const response = await introspect(token);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const nowSeconds = Math.floor(now / 1000);
    expect(await response.json()).toEqual({
      active: true, iss: issuer.issuer, sub: 'billing@clients', aud: 'https://api', scope: 'read write', client_id: 'billing',
      token_type: 'Bearer', iat: nowSeconds, exp: nowSeconds + 60, jti: expect.any(String),
    });
  });

  test('unknown, expired, not yet valid and revoked tokens are inactive, with nothing else said', async () => {
    const expiring = issuer.mintOpaqueToken({ audience: 'https://api', expiresIn: 10 });
    const later = issuer.mintOpaqueToken({ audience: 'https://api', claims: { nbf: Math.floor(now / 1000) + 100 } });
    const revoked = issuer.mintOpaqueToken({ audience: 'https://api' });
    issuer.revokeToken(revoked);
    expect(await (await introspect('made-up')).json()).toEqual({ active: false });
    expect(await (await introspect(later)).json()).toEqual({ active: false });
    expect(await (await introspect(revoked)).json()).toEqual({ active: false });
    expect((await (await introspect(expiring)).json() as { active: boolean }).active).toBe(true);
    now += 11_000;
    expect(await (await introspect(expiring)).json()).toEqual({ active: false });
  });

  test('a JWT of this issuer is described by its claims, and revoking it makes it inactive; a forged one is inactive', async () => {
    const jwt = await issuer.accessToken({ clientId: 'billing', audience: 'https://api', scope: 'read' });
    expect(await (await introspect(jwt)).json()).toMatchObject({ active: true, iss: issuer.issuer, aud: 'https://api', scope: 'read' });
    issuer.revokeToken(jwt);
    expect(await (await introspect(jwt)).json()).toEqual({ active: false });
    const other = await createLocalIssuer();
    try {
      const forged = await other.sign({ iss: issuer.issuer, aud: 'https://api' });
      expect(await (await introspect(forged)).json()).toEqual({ active: false });
    } finally {
      await other.close();
    }
  });

  test('a client with opaqueTokens gets opaque tokens from the token endpoint, which introspect as active', async () => {
    const response = await fetch(issuer.tokenEndpoint, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=opaque-client&client_secret=opaque-secret',
    });
    const { access_token: token, expires_in: expiresIn } = await response.json() as { access_token: string; expires_in: number };
    expect(token).not.toContain('.');
    expect(expiresIn).toBe(3600);
    expect(await (await introspect(token)).json()).toMatchObject({ active: true, client_id: 'opaque-client', aud: 'https://api', scope: 'read' });
  });
});

describe('RFC 9701: a signed answer on Accept: application/token-introspection+jwt', () => {
  test('typ token-introspection+jwt, signed with the issuer\'s key, iss the issuer, aud the caller, the answer in token_introspection', async () => {
    const token = issuer.mintOpaqueToken({ audience: 'https://api', scope: 'read' });
    const response = await introspect(token, { accept: 'application/token-introspection+jwt' });
    expect(response.headers.get('content-type')).toBe('application/token-introspection+jwt');
    const jwt = await response.text();
    expect(decodeProtectedHeader(jwt)).toMatchObject({ typ: 'token-introspection+jwt', kid: issuer.currentKid() });
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(issuer.publicJwks()), {
      issuer: issuer.issuer, audience: 'api', typ: 'token-introspection+jwt', currentDate: new Date(now),
    });
    expect(payload.iat).toBe(Math.floor(now / 1000));
    expect(payload.token_introspection).toMatchObject({ active: true, scope: 'read', aud: 'https://api' });
  });
});

describe('counters and records', () => {
  test('introspection requests are counted apart and recorded (with the caller\'s Accept); resetCounts clears them', async () => {
    await introspect('one');
    await introspect('two', { accept: 'application/token-introspection+jwt' });
    expect(issuer.counts.introspection).toBe(2);
    expect(issuer.counts.token).toBe(0);
    expect(issuer.introspectionRequests.map((request) => request.params.token)).toEqual(['one', 'two']);
    expect(issuer.introspectionRequests[1]?.headers.accept).toBe('application/token-introspection+jwt');
    expect(issuer.tokenRequests).toHaveLength(0);
    issuer.resetCounts();
    expect(issuer.counts.introspection).toBe(0);
    expect(issuer.introspectionRequests).toHaveLength(0);
  });

  test('faults apply to the introspection endpoint', async () => {
    issuer.setFault('introspection', { status: 503, times: 1 });
    expect((await introspect('x')).status).toBe(503);
    expect((await introspect('x')).status).toBe(200);
  });
});
