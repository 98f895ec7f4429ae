/**
 * RFC 9728 section 5.1: with requireAuth's resourceMetadata, every WWW-Authenticate challenge
 * (requireAuth's 401 and 400, the guards' 403 and 401) carries resource_metadata="<url>", quoted,
 * next to what the rejection says; a 503 has no challenge. Bad values are refused at construction.
 */
import request from 'supertest';
import {
  authErrorHandler, protectedResourceMetadata, requireAuth, requireScopes, type RequireAuthMiddleware, type RequireAuthOptions,
} from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { AUDIENCE, EXPRESS_VERSIONS } from './support.js';

const METADATA_URL = `${AUDIENCE}/.well-known/oauth-protected-resource`;

/** The auth-params of one `Bearer` challenge (RFC 9110 section 11.2: token=quoted-string), strictly parsed. */
function parseBearer(header: string | undefined): Record<string, string> {
  expect(header).toMatch(/^Bearer(?: |$)/);
  const rest = (header as string).slice('Bearer'.length).trim();
  const params: Record<string, string> = {};
  const pair = /([a-z_]+)="((?:[^"\\]|\\.)*)"(?:, |$)/gy;
  let consumed = 0;
  for (const match of rest.matchAll(pair)) {
    params[match[1] as string] = (match[2] as string).replace(/\\(.)/g, '$1');
    consumed += match[0].length;
  }
  expect(consumed).toBe(rest.length);
  return params;
}

let issuer: LocalIssuer;
let down: LocalIssuer;
const made: RequireAuthMiddleware[] = [];
function auth(options: RequireAuthOptions): RequireAuthMiddleware {
  const middleware = requireAuth(options);
  made.push(middleware);
  return middleware;
}

beforeAll(async () => {
  [issuer, down] = await Promise.all([createLocalIssuer(), createLocalIssuer()]);
});
afterAll(async () => {
  for (const middleware of made) middleware.close();
  await Promise.all([issuer.close(), down.close().catch(() => undefined)]);
});

describe.each(EXPRESS_VERSIONS)('%s', (_name, makeApp) => {
  function app(options: Partial<RequireAuthOptions> = {}) {
    const application = makeApp();
    const middleware = auth({ issuerBaseURL: issuer.url, audience: AUDIENCE, resourceMetadata: METADATA_URL, ...options });
    application.get('/orders', middleware, requireScopes('read:orders'), (_req, res) => { res.json({ ok: true }); });
    application.use(authErrorHandler());
    return application;
  }

  test('401 without a token: Bearer resource_metadata="<url>" (the section 5.1 example\'s shape)', async () => {
    const response = await request(app()).get('/orders');
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe(`Bearer resource_metadata="${METADATA_URL}"`);
  });

  test('401 with a bad token: error, error_description, then resource_metadata', async () => {
    const response = await request(app()).get('/orders').set('Authorization', 'Bearer not.a.jwt');
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="[^"]+"$/);
    expect(parseBearer(response.headers['www-authenticate'])).toEqual({
      error: 'invalid_token', error_description: expect.any(String), resource_metadata: METADATA_URL,
    });
  });

  test('401 with an expired token of the right issuer', async () => {
    const token = await issuer.accessToken({ audience: AUDIENCE, scope: 'read:orders', signOptions: { expiresIn: -60 } });
    const response = await request(app()).get('/orders').set('Authorization', `Bearer ${token}`);
    expect(parseBearer(response.headers['www-authenticate']).resource_metadata).toBe(METADATA_URL);
  });

  test('403 from requireScopes (insufficient_scope): scope and resource_metadata', async () => {
    const token = await issuer.accessToken({ audience: AUDIENCE, scope: 'write:orders' });
    const response = await request(app()).get('/orders').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(403);
    expect(parseBearer(response.headers['www-authenticate'])).toEqual({
      error: 'insufficient_scope', error_description: expect.any(String), scope: 'read:orders', resource_metadata: METADATA_URL,
    });
  });

  test('400 invalid_request (the token sent twice) carries it too', async () => {
    const withQuery = await request(app({ allowQueryToken: true })).get('/orders?access_token=b').set('Authorization', 'Bearer a');
    expect(withQuery.status).toBe(400);
    expect(parseBearer(withQuery.headers['www-authenticate'])).toMatchObject({ error: 'invalid_request', resource_metadata: METADATA_URL });
  });

  test('with a realm: both, realm first', async () => {
    const response = await request(app({ realm: 'orders' })).get('/orders');
    expect(response.headers['www-authenticate']).toBe(`Bearer realm="orders", resource_metadata="${METADATA_URL}"`);
  });

  test('a good token with the scope passes: no challenge', async () => {
    const token = await issuer.accessToken({ audience: AUDIENCE, scope: 'read:orders' });
    const response = await request(app()).get('/orders').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(200);
    expect(response.headers['www-authenticate']).toBeUndefined();
  });

  test('credentialsRequired: false: the guard\'s 401 for an anonymous request carries the realm and resource_metadata of its requireAuth', async () => {
    const response = await request(app({ credentialsRequired: false, realm: 'orders' })).get('/orders');
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe(`Bearer realm="orders", resource_metadata="${METADATA_URL}"`);
  });

  test('503 (the issuer unreachable) has no challenge, so no resource_metadata', async () => {
    const unreachable = `http://127.0.0.1:${new URL(down.url).port}`;
    await down.close();
    const application = makeApp();
    application.get('/orders', auth({ issuerBaseURL: unreachable, audience: AUDIENCE, resourceMetadata: METADATA_URL }), (_req, res) => { res.end(); });
    application.use(authErrorHandler());
    const token = await issuer.accessToken({ audience: AUDIENCE });
    const response = await request(application).get('/orders').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(503);
    expect(response.headers['www-authenticate']).toBeUndefined();
  });

  test('resourceMetadata: the protectedResourceMetadata() middleware gives its URL (path-suffixed), which it serves', async () => {
    const metadata = protectedResourceMetadata({ resource: `${AUDIENCE}/v1`, authorizationServers: [issuer.url] });
    const application = makeApp();
    application.use(metadata);
    application.get('/v1/orders', auth({ issuerBaseURL: issuer.url, audience: `${AUDIENCE}/v1`, resourceMetadata: metadata }), (_req, res) => { res.end(); });
    application.use(authErrorHandler());
    const refused = await request(application).get('/v1/orders');
    const url = parseBearer(refused.headers['www-authenticate']).resource_metadata as string;
    expect(url).toBe(`${AUDIENCE}/.well-known/oauth-protected-resource/v1`);
    // The client follows it (section 5.1) and checks the identifier it finds (section 3.3).
    const fetched = await request(application).get(new URL(url).pathname);
    expect(fetched.body).toMatchObject({ resource: `${AUDIENCE}/v1`, authorization_servers: [issuer.url] });
  });
});

describe('without resourceMetadata, challenges are as before', () => {
  test('401 without a token: a bare Bearer challenge', async () => {
    const application = EXPRESS_VERSIONS[0]![1]();
    application.get('/orders', auth({ issuerBaseURL: issuer.url, audience: AUDIENCE }), (_req, res) => { res.end(); });
    application.use(authErrorHandler());
    expect((await request(application).get('/orders')).headers['www-authenticate']).toBe('Bearer');
  });
});

describe('resourceMetadata values are checked at construction (a value that could break the quotes is refused)', () => {
  test('a URL with percent-encoded characters is rendered as given', async () => {
    const url = 'https://api.example/.well-known/oauth-protected-resource/caf%C3%A9%22x';
    const application = EXPRESS_VERSIONS[0]![1]();
    application.get('/orders', auth({ issuerBaseURL: issuer.url, audience: AUDIENCE, resourceMetadata: url }), (_req, res) => { res.end(); });
    application.use(authErrorHandler());
    expect((await request(application).get('/orders')).headers['www-authenticate']).toBe(`Bearer resource_metadata="${url}"`);
  });

  test.each<[string, unknown, RegExp]>([
    ['a number', 42, /"resourceMetadata" must be a URL, or the protectedResourceMetadata\(\) middleware/],
    ['an object without url', {}, /"resourceMetadata" must be a URL, or the protectedResourceMetadata\(\) middleware/],
    ['not a URL', '/.well-known/oauth-protected-resource', /"resourceMetadata" must be the absolute https URL of the protected resource metadata/],
    ['plain http off loopback', 'http://api.example/.well-known/oauth-protected-resource', /"resourceMetadata" must be an https URL \(plain http only on loopback\)/],
    ['a fragment', 'https://api.example/.well-known/oauth-protected-resource#x', /"resourceMetadata" must have no fragment/],
    ['a double quote', 'https://api.example/.well-known/oauth-protected-resource?a="b', /"resourceMetadata" must be printable ASCII without spaces, quotes or backslashes/],
    ['a backslash', 'https://api.example/.well-known/oauth-protected-resource?a=\\b', /must be printable ASCII without spaces, quotes or backslashes/],
    ['a line break', 'https://api.example/x\r\nSet-Cookie: a=b', /"resourceMetadata" must/],
    ['non-ASCII', 'https://api.example/.well-known/oauth-protected-resource/café', /must be printable ASCII/],
    ['an object whose url is bad', { url: 'ftp://api.example/x' }, /"resourceMetadata" must be the absolute https URL/],
  ])('%s', (_case, value, message) => {
    const options = { issuerBaseURL: issuer.url, audience: AUDIENCE, resourceMetadata: value } as RequireAuthOptions;
    expect(() => requireAuth(options)).toThrow(TypeError);
    expect(() => requireAuth(options)).toThrow(/^requireAuth: /);
    expect(() => requireAuth(options)).toThrow(message);
  });
});
