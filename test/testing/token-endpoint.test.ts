/**
 * Conformance of the local issuer's token endpoint: RFC 6749 section 4.4 (client_credentials),
 * section 2.3 (client authentication), section 5.2 (errors), RFC 7523 (private_key_jwt), RFC 8707
 * (resource), and the Auth0 token shape of the seeds.
 */
import { SignJWT, createRemoteJWKSet, decodeProtectedHeader, exportJWK, exportSPKI, generateKeyPair, jwtVerify } from 'jose';
import type { CryptoKey } from 'jose';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';

const API = 'https://api.example.com';
const OTHER_API = 'https://other.example.com';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
// Needs RFC 6749 section 2.3.1 form-encoding: space, colon, plus, percent, ampersand, non-ASCII.
const SPECIAL_ID = 'svc: a+b&c%d é';
const SPECIAL_SECRET = 'p:w d+%2F/=&é';

interface TokenAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** RFC 6749 appendix B: application/x-www-form-urlencoded (space as '+'). */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(secret)}`).toString('base64')}`;
}

async function post(issuer: LocalIssuer, body: string, headers: Record<string, string>): Promise<TokenAnswer> {
  const response = await fetch(issuer.tokenEndpoint, { method: 'POST', headers, body });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

function form(issuer: LocalIssuer, params: Record<string, string>, headers: Record<string, string> = {}): Promise<TokenAnswer> {
  return post(issuer, new URLSearchParams(params).toString(), { 'content-type': 'application/x-www-form-urlencoded', ...headers });
}

function json(issuer: LocalIssuer, params: Record<string, unknown>, headers: Record<string, string> = {}): Promise<TokenAnswer> {
  return post(issuer, JSON.stringify(params), { 'content-type': 'application/json', ...headers });
}

function expectOAuthError(answer: TokenAnswer, status: number, error: string): void {
  expect({ status: answer.status, error: answer.body.error }).toEqual({ status, error });
  expect(typeof answer.body.error_description).toBe('string');
  expect(answer.headers.get('cache-control')).toBe('no-store');
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
}

let issuer: LocalIssuer;
let clientKeys: { publicKey: CryptoKey; privateKey: CryptoKey };
let otherKeys: { publicKey: CryptoKey; privateKey: CryptoKey };

beforeAll(async () => {
  clientKeys = await generateKeyPair('ES256', { extractable: true });
  otherKeys = await generateKeyPair('ES256', { extractable: true });
  issuer = await createLocalIssuer({
    clients: [
      { clientId: 'svc', clientSecret: 'svc-secret', audiences: [API, OTHER_API], scopes: ['read:orders', 'write:orders'] },
      { clientId: SPECIAL_ID, clientSecret: SPECIAL_SECRET, audiences: [API] },
      { clientId: 'keyed', publicKey: await exportJWK(clientKeys.publicKey), audiences: [API], scopes: ['read:orders'] },
      { clientId: 'keyed-pem', publicKey: await exportSPKI(clientKeys.publicKey), audiences: [API] },
    ],
  });
});
afterAll(() => issuer.close());

describe('RFC 6749 section 2.3.1: client_secret_basic', () => {
  it('issues a token for valid Basic credentials', async () => {
    const answer = await form(issuer, { grant_type: 'client_credentials', audience: API }, { authorization: basic('svc', 'svc-secret') });
    expect(answer.status).toBe(200);
    expect(answer.body.token_type).toBe('Bearer');
  });

  it('form-decodes the client id and secret before comparing them (special characters)', async () => {
    const answer = await form(issuer, { grant_type: 'client_credentials' }, { authorization: basic(SPECIAL_ID, SPECIAL_SECRET) });
    expect(answer.status).toBe(200);
    const payload = JSON.parse(Buffer.from(String(answer.body.access_token).split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(payload.sub).toBe(`${SPECIAL_ID}@clients`);
  });

  it('does not accept the raw, not form-encoded, secret when it contains "+" or "%"', async () => {
    issuer.registerClient({ clientId: 'plus', clientSecret: 'a+b%2Fc', audiences: [API] });
    const raw = `Basic ${Buffer.from('plus:a+b%2Fc').toString('base64')}`;
    expectOAuthError(await form(issuer, { grant_type: 'client_credentials' }, { authorization: raw }), 401, 'invalid_client');
    expect((await form(issuer, { grant_type: 'client_credentials' }, { authorization: basic('plus', 'a+b%2Fc') })).status).toBe(200);
  });

  it('answers 401 invalid_client with WWW-Authenticate: Basic for a wrong secret', async () => {
    const answer = await form(issuer, { grant_type: 'client_credentials' }, { authorization: basic('svc', 'wrong') });
    expectOAuthError(answer, 401, 'invalid_client');
    expect(answer.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(JSON.stringify(answer.body)).not.toContain('wrong');
  });

  it('answers 401 invalid_client for an unknown client and for malformed Basic credentials', async () => {
    expectOAuthError(await form(issuer, { grant_type: 'client_credentials' }, { authorization: basic('nobody', 'x') }), 401, 'invalid_client');
    expectOAuthError(await form(issuer, { grant_type: 'client_credentials' }, { authorization: 'Basic !!!notbase64' }), 401, 'invalid_client');
    expectOAuthError(
      await form(issuer, { grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }),
      401,
      'invalid_client',
    );
  });

  it('answers 401 invalid_client for broken percent-encoding in Basic credentials', async () => {
    const broken = `Basic ${Buffer.from('svc:%zz').toString('base64')}`;
    expectOAuthError(await form(issuer, { grant_type: 'client_credentials' }, { authorization: broken }), 401, 'invalid_client');
  });

  it('rejects a client_id in the body that differs from the Basic one', async () => {
    const answer = await form(issuer, { grant_type: 'client_credentials', client_id: 'other' }, { authorization: basic('svc', 'svc-secret') });
    expectOAuthError(answer, 400, 'invalid_request');
  });
});

describe('RFC 6749 section 2.3.1: client_secret_post', () => {
  it('issues a token for credentials in a form body', async () => {
    const answer = await form(issuer, { grant_type: 'client_credentials', client_id: 'svc', client_secret: 'svc-secret', audience: API });
    expect(answer.status).toBe(200);
  });

  it('issues a token for credentials in a JSON body (Auth0)', async () => {
    const answer = await json(issuer, { grant_type: 'client_credentials', client_id: 'svc', client_secret: 'svc-secret', audience: API });
    expect(answer.status).toBe(200);
  });

  it('answers 401 invalid_client for a wrong secret', async () => {
    expectOAuthError(await form(issuer, { grant_type: 'client_credentials', client_id: 'svc', client_secret: 'nope' }), 401, 'invalid_client');
  });

  it('answers 401 invalid_client when the client has no secret (a private_key_jwt client)', async () => {
    expectOAuthError(await form(issuer, { grant_type: 'client_credentials', client_id: 'keyed', client_secret: 'x' }), 401, 'invalid_client');
  });

  it('answers 401 invalid_client without any client authentication', async () => {
    expectOAuthError(await form(issuer, { grant_type: 'client_credentials', client_id: 'svc' }), 401, 'invalid_client');
  });
});

describe('RFC 7523 section 2.2: private_key_jwt', () => {
  async function assertion(
    claims: Record<string, unknown> = {},
    options: { key?: CryptoKey; expiresIn?: number | null; jti?: string | null; aud?: string } = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('keyed')
      .setSubject('keyed')
      .setAudience(options.aud ?? issuer.tokenEndpoint)
      .setIssuedAt(now);
    if (options.expiresIn !== null) jwt.setExpirationTime(now + (options.expiresIn ?? 60));
    if (options.jti !== null) jwt.setJti(options.jti ?? `jti-${Math.random()}`);
    return jwt.sign(options.key ?? clientKeys.privateKey);
  }

  function withAssertion(clientAssertion: string, extra: Record<string, string> = {}): Promise<TokenAnswer> {
    return form(issuer, {
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: clientAssertion,
      ...extra,
    });
  }

  it('issues a token for a valid assertion (client registered with a JWK)', async () => {
    const answer = await withAssertion(await assertion(), { client_id: 'keyed' });
    expect(answer.status).toBe(200);
    expect(answer.body.scope).toBe('read:orders');
  });

  it('takes the client from the assertion when client_id is absent, and accepts the issuer as aud', async () => {
    expect((await withAssertion(await assertion({}, { aud: issuer.issuer }))).status).toBe(200);
  });

  it('accepts a client registered with a PEM public key', async () => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('keyed-pem')
      .setSubject('keyed-pem')
      .setAudience(issuer.tokenEndpoint)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .setJti('pem-1')
      .sign(clientKeys.privateKey);
    expect((await withAssertion(jwt)).status).toBe(200);
  });

  it('rejects a replayed jti', async () => {
    const jwt = await assertion({}, { jti: 'once-only' });
    expect((await withAssertion(jwt)).status).toBe(200);
    expectOAuthError(await withAssertion(jwt), 401, 'invalid_client');
  });

  it('rejects a wrong aud, without echoing the assertion', async () => {
    const jwt = await assertion({}, { aud: 'https://elsewhere/oauth/token' });
    const answer = await withAssertion(jwt);
    expectOAuthError(answer, 401, 'invalid_client');
    expect(JSON.stringify(answer.body)).not.toContain(jwt.split('.')[2]);
  });

  it('rejects an expired assertion, one without exp, and one that lives too long', async () => {
    expectOAuthError(await withAssertion(await assertion({}, { expiresIn: -120 })), 401, 'invalid_client');
    expectOAuthError(await withAssertion(await assertion({}, { expiresIn: null })), 401, 'invalid_client');
    expectOAuthError(await withAssertion(await assertion({}, { expiresIn: 3600 })), 401, 'invalid_client');
  });

  it('rejects an assertion without jti', async () => {
    expectOAuthError(await withAssertion(await assertion({}, { jti: null })), 401, 'invalid_client');
  });

  it('rejects an assertion signed by another key', async () => {
    expectOAuthError(await withAssertion(await assertion({}, { key: otherKeys.privateKey })), 401, 'invalid_client');
  });

  it('rejects an unsigned (alg none) assertion and an HS256 one (client_secret_jwt is not offered)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: 'keyed', sub: 'keyed', aud: issuer.tokenEndpoint, exp: now + 60, jti: 'unsigned' };
    expectOAuthError(await withAssertion(await issuer.sign(claims, { alg: 'none', noDefaults: true })), 401, 'invalid_client');
    const hs = await issuer.sign({ ...claims, jti: 'hs' }, { alg: 'HS256', key: 'a-secret-that-is-long-enough-32b!', noDefaults: true });
    expectOAuthError(await withAssertion(hs), 401, 'invalid_client');
  });

  it('rejects garbage as an assertion and a client_id that is not the assertion subject', async () => {
    expectOAuthError(await withAssertion('not.a.jwt'), 401, 'invalid_client');
    expectOAuthError(await withAssertion(await assertion(), { client_id: 'svc' }), 401, 'invalid_client');
  });

  it('answers 400 invalid_request for a wrong or missing client_assertion_type', async () => {
    const jwt = await assertion();
    expectOAuthError(
      await form(issuer, { grant_type: 'client_credentials', client_assertion_type: 'urn:other', client_assertion: jwt }),
      400,
      'invalid_request',
    );
    expectOAuthError(await form(issuer, { grant_type: 'client_credentials', client_assertion: jwt }), 400, 'invalid_request');
  });
});

describe('RFC 6749 section 2.3: one client authentication method per request', () => {
  it('answers 400 invalid_request for Basic plus client_secret in the body', async () => {
    const answer = await form(
      issuer,
      { grant_type: 'client_credentials', client_id: 'svc', client_secret: 'svc-secret' },
      { authorization: basic('svc', 'svc-secret') },
    );
    expectOAuthError(answer, 400, 'invalid_request');
  });

  it('answers 400 invalid_request for client_secret plus a client assertion', async () => {
    const answer = await form(issuer, {
      grant_type: 'client_credentials',
      client_id: 'svc',
      client_secret: 'svc-secret',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: 'x.y.z',
    });
    expectOAuthError(answer, 400, 'invalid_request');
  });
});

describe('RFC 6749 section 3.2 / Auth0: request bodies', () => {
  const credentials = { client_id: 'svc', client_secret: 'svc-secret' };

  it('answers 400 invalid_request for malformed JSON, a JSON array, and a non-string parameter', async () => {
    expectOAuthError(await post(issuer, '{"grant_type":', { 'content-type': 'application/json' }), 400, 'invalid_request');
    expectOAuthError(await post(issuer, '[1,2]', { 'content-type': 'application/json' }), 400, 'invalid_request');
    expectOAuthError(await json(issuer, { grant_type: 'client_credentials', ...credentials, scope: 42 }), 400, 'invalid_request');
  });

  it('treats a JSON "__proto__" parameter as data: no crash, recorded as a parameter', async () => {
    const body = '{"grant_type":"client_credentials","client_id":"svc","client_secret":"svc-secret","__proto__":"x"}';
    const answer = await post(issuer, body, { 'content-type': 'application/json' });
    expect(answer.status).toBe(200);
    expect(Object.getOwnPropertyDescriptor(issuer.lastTokenRequest!.params, '__proto__')?.value).toBe('x');
  });

  it('accepts a content type with parameters (charset)', async () => {
    const answer = await post(issuer, 'grant_type=client_credentials&client_id=svc&client_secret=svc-secret', {
      'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
    });
    expect(answer.status).toBe(200);
  });

  it('answers 400 invalid_request for an unsupported content type', async () => {
    expectOAuthError(await post(issuer, 'grant_type=client_credentials', { 'content-type': 'text/plain' }), 400, 'invalid_request');
  });

  it('answers 400 invalid_request for a repeated parameter', async () => {
    const body = 'grant_type=client_credentials&grant_type=client_credentials&client_id=svc&client_secret=svc-secret';
    expectOAuthError(await post(issuer, body, { 'content-type': 'application/x-www-form-urlencoded' }), 400, 'invalid_request');
  });

  it('answers 413 for a body over the size limit, and still serves the next request', async () => {
    const huge = `grant_type=client_credentials&pad=${'x'.repeat(200_000)}`;
    expectOAuthError(await post(issuer, huge, { 'content-type': 'application/x-www-form-urlencoded' }), 413, 'invalid_request');
    expect((await form(issuer, { grant_type: 'client_credentials', ...credentials })).status).toBe(200);
  });

  it('answers 405 to GET and 404 to an unknown path', async () => {
    const get = await fetch(issuer.tokenEndpoint);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await fetch(`${issuer.url}/nope`)).status).toBe(404);
    expect((await fetch(issuer.jwksUri, { method: 'POST' })).status).toBe(405);
  });
});

describe('RFC 6749 section 5.2: error responses', () => {
  const credentials = { client_id: 'svc', client_secret: 'svc-secret' };

  it('unsupported_grant_type for another grant, invalid_request without grant_type', async () => {
    expectOAuthError(await form(issuer, { grant_type: 'password', ...credentials }), 400, 'unsupported_grant_type');
    expectOAuthError(await form(issuer, { ...credentials }), 400, 'invalid_request');
  });

  it('invalid_scope when a requested scope is not allowed for the client', async () => {
    expectOAuthError(await form(issuer, { grant_type: 'client_credentials', ...credentials, scope: 'read:orders admin' }), 400, 'invalid_scope');
  });

  it('invalid_target (RFC 8707) for an audience or resource the client is not authorized for', async () => {
    expectOAuthError(await form(issuer, { grant_type: 'client_credentials', ...credentials, audience: 'https://unknown' }), 400, 'invalid_target');
    expectOAuthError(await form(issuer, { grant_type: 'client_credentials', ...credentials, resource: 'https://unknown' }), 400, 'invalid_target');
    expectOAuthError(await form(issuer, { grant_type: 'client_credentials', ...credentials, resource: 'not a uri' }), 400, 'invalid_target');
  });
});

describe('Seeds / RFC 9068: shape of issued tokens', () => {
  const jwks = () => createRemoteJWKSet(new URL(issuer.jwksUri));

  it('answers access_token, token_type Bearer, expires_in, scope with Cache-Control: no-store', async () => {
    const answer = await json(issuer, {
      grant_type: 'client_credentials',
      client_id: 'svc',
      client_secret: 'svc-secret',
      audience: API,
      scope: 'read:orders',
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, scope: 'read:orders' });
  });

  it('signs an Auth0-shaped JWT that verifies against the served JWKS', async () => {
    const answer = await form(issuer, { grant_type: 'client_credentials', client_id: 'svc', client_secret: 'svc-secret', audience: API, scope: 'read:orders' });
    const { payload, protectedHeader } = await jwtVerify(String(answer.body.access_token), jwks(), { issuer: issuer.issuer, audience: API });
    expect(protectedHeader).toEqual({ alg: 'RS256', kid: issuer.currentKid(), typ: 'at+jwt' });
    expect(payload).toEqual({
      iss: issuer.issuer,
      sub: 'svc@clients',
      aud: API,
      iat: expect.any(Number),
      exp: payload.iat! + 3600,
      scope: 'read:orders',
      azp: 'svc',
      client_id: 'svc',
      gty: 'client-credentials',
      jti: expect.any(String),
    });
  });

  it('grants every allowed scope when none is requested, and an empty scope when asked for ""', async () => {
    const all = await form(issuer, { grant_type: 'client_credentials', client_id: 'svc', client_secret: 'svc-secret' });
    expect(all.body.scope).toBe('read:orders write:orders');
    const none = await form(issuer, { grant_type: 'client_credentials', client_id: 'svc', client_secret: 'svc-secret', scope: '' });
    expect(none.body.scope).toBe('');
    const { payload } = await jwtVerify(String(none.body.access_token), jwks());
    expect(payload.scope).toBe('');
  });

  it('uses the first registered audience when none is requested; several resources give an array aud', async () => {
    const first = await form(issuer, { grant_type: 'client_credentials', client_id: 'svc', client_secret: 'svc-secret' });
    expect((await jwtVerify(String(first.body.access_token), jwks())).payload.aud).toBe(API);
    const body = `grant_type=client_credentials&client_id=svc&client_secret=svc-secret&resource=${encodeURIComponent(API)}&resource=${encodeURIComponent(OTHER_API)}`;
    const both = await post(issuer, body, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(both.status).toBe(200);
    expect((await jwtVerify(String(both.body.access_token), jwks())).payload.aud).toEqual([API, OTHER_API]);
  });

  it('honours alg, tokenType and tokenLifetime options (ES256, typ JWT, 60 s)', async () => {
    const es = await createLocalIssuer({
      alg: 'ES256',
      tokenType: 'JWT',
      tokenLifetime: 60,
      clients: [{ clientId: 'c', clientSecret: 's', audiences: [API] }],
    });
    try {
      const answer = await form(es, { grant_type: 'client_credentials', client_id: 'c', client_secret: 's' });
      expect(answer.body.expires_in).toBe(60);
      const token = String(answer.body.access_token);
      expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', typ: 'JWT' });
      const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(es.jwksUri)));
      expect(payload.exp! - payload.iat!).toBe(60);
    } finally {
      await es.close();
    }
  });

  it('uses a client\'s own tokenLifetime', async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [API], tokenLifetime: 120 });
    const answer = await form(issuer, { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
    expect(answer.body.expires_in).toBe(120);
    const { payload } = await jwtVerify(String(answer.body.access_token), jwks());
    expect(payload.exp! - payload.iat!).toBe(120);
  });

  it('signs EdDSA on request', async () => {
    const ed = await createLocalIssuer({ alg: 'EdDSA', clients: [{ clientId: 'c', clientSecret: 's', audiences: [API] }] });
    try {
      const answer = await form(ed, { grant_type: 'client_credentials', client_id: 'c', client_secret: 's' });
      const token = String(answer.body.access_token);
      expect(decodeProtectedHeader(token).alg).toBe('EdDSA');
      await expect(jwtVerify(token, createRemoteJWKSet(new URL(ed.jwksUri)))).resolves.toBeDefined();
    } finally {
      await ed.close();
    }
  });
});

describe('lastTokenRequest: what the client put on the wire', () => {
  it('records headers, raw body, content type and parsed params (also for failed requests)', async () => {
    await form(issuer, { grant_type: 'client_credentials', audience: API }, { authorization: basic('svc', 'bad') });
    const recorded = issuer.lastTokenRequest!;
    expect(recorded.contentType).toBe('application/x-www-form-urlencoded');
    expect(recorded.body).toBe(`grant_type=client_credentials&audience=${encodeURIComponent(API)}`);
    expect(recorded.params).toEqual({ grant_type: 'client_credentials', audience: API });
    expect(recorded.headers.authorization).toBe(basic('svc', 'bad'));
  });
});

describe('registerClient', () => {
  it('generates an id and a secret that work at the token endpoint', async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [API], scopes: ['x'] });
    expect(clientId).toMatch(/\S/);
    const answer = await form(issuer, { grant_type: 'client_credentials' }, { authorization: basic(clientId, clientSecret!) });
    expect(answer.status).toBe(200);
    expect(answer.body.scope).toBe('x');
  });

  it('fails with a message naming the option for bad client definitions', () => {
    expect(() => issuer.registerClient({ audiences: [] })).toThrow(/"audiences"/);
    expect(() => issuer.registerClient({ audiences: [API], scopes: ['a b'] })).toThrow(/"scopes"/);
    expect(() => issuer.registerClient({ audiences: [API], publicKey: 'not a pem' })).toThrow(/"publicKey"/);
  });
});
