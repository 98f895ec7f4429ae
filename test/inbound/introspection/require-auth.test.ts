/**
 * requireAuth end to end with opaque tokens: the `introspection` option of a single issuer and of
 * one entry of `issuers`, the guards unchanged (scopes, claims), and the configurations refused
 * (two introspecting issuers, `introspection` at the top level next to `issuers`).
 */
import request from 'supertest';
import { authErrorHandler, claimEquals, requireAuth, requireScopes, type RequireAuthMiddleware, type RequireAuthOptions } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { EXPRESS_VERSIONS } from '../../express/support.js';
import { AUDIENCE } from './support.js';

let a: LocalIssuer;
let b: LocalIssuer;
const middlewares: RequireAuthMiddleware[] = [];

beforeAll(async () => {
  [a, b] = await Promise.all([
    createLocalIssuer({ clients: [{ clientId: 'orders-api', clientSecret: 'rs-secret', audiences: [AUDIENCE] }] }),
    createLocalIssuer({ alg: 'ES256', clients: [{ clientId: 'orders-api', clientSecret: 'b-secret', audiences: [AUDIENCE] }] }),
  ]);
});
afterAll(async () => {
  for (const middleware of middlewares) middleware.close();
  await Promise.all([a.close(), b.close()]);
});
beforeEach(() => {
  a.resetCounts();
  b.resetCounts();
});

describe.each(EXPRESS_VERSIONS)('%s: requireAuth({ introspection }) for one issuer', (_name, makeApp) => {
  function app(options: RequireAuthOptions) {
    const auth = requireAuth(options);
    middlewares.push(auth);
    const application = makeApp();
    application.get('/orders', auth, requireScopes('read:orders'), (req, res) => { res.json({ client: req.auth?.payload.client_id, scopes: req.auth?.scopes }); });
    application.get('/admin', auth, claimEquals('client_id', 'admin'), (_req, res) => { res.json({ ok: true }); });
    application.use(authErrorHandler());
    return application;
  }
  const options: RequireAuthOptions = { issuerBaseURL: '', audience: AUDIENCE, introspection: { clientId: 'orders-api', clientSecret: 'rs-secret' } };
  const withIssuer = () => ({ ...options, issuerBaseURL: a.url });

  test('an opaque token with the scope: 200 with req.auth; without it: 403 insufficient_scope', async () => {
    const application = app(withIssuer());
    const good = a.mintOpaqueToken({ clientId: 'billing', audience: AUDIENCE, scope: 'read:orders' });
    const answer = await request(application).get('/orders').set('Authorization', `Bearer ${good}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ client: 'billing', scopes: ['read:orders'] });
    const noScope = a.mintOpaqueToken({ audience: AUDIENCE, scope: 'write:orders' });
    const refused = await request(application).get('/orders').set('Authorization', `Bearer ${noScope}`);
    expect(refused.status).toBe(403);
    expect(refused.headers['www-authenticate']).toBe('Bearer error="insufficient_scope", error_description="the token needs the scope read:orders", scope="read:orders"');
  });

  test('claim guards work on the introspected claims', async () => {
    const application = app(withIssuer());
    const admin = a.mintOpaqueToken({ clientId: 'admin', audience: AUDIENCE });
    expect((await request(application).get('/admin').set('Authorization', `Bearer ${admin}`)).status).toBe(200);
    const user = a.mintOpaqueToken({ clientId: 'user', audience: AUDIENCE });
    expect((await request(application).get('/admin').set('Authorization', `Bearer ${user}`)).status).toBe(403);
  });

  test('a revoked or unknown opaque token: 401 invalid_token; an outage: 503 with Retry-After, never 500', async () => {
    const application = app(withIssuer());
    const revoked = a.mintOpaqueToken({ audience: AUDIENCE, scope: 'read:orders' });
    a.revokeToken(revoked);
    const answer = await request(application).get('/orders').set('Authorization', `Bearer ${revoked}`);
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ error: 'invalid_token', error_description: 'the token is not active' });
    a.setFault('introspection', { status: 500, times: 1 });
    const down = await request(application).get('/orders').set('Authorization', `Bearer ${a.mintOpaqueToken({ audience: AUDIENCE })}`);
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBe('1');
    expect(down.body.error).toBe('temporarily_unavailable');
  });

  test('JWTs of the issuer still work (verified with its keys, no introspection call)', async () => {
    const application = app(withIssuer());
    const jwt = await a.accessToken({ audience: AUDIENCE, scope: 'read:orders' });
    expect((await request(application).get('/orders').set('Authorization', `Bearer ${jwt}`)).status).toBe(200);
    expect(a.counts.introspection).toBe(0);
  });

  test('a client whose token endpoint issues opaque tokens, end to end through the token endpoint', async () => {
    const client = a.registerClient({ audiences: [AUDIENCE], scopes: ['read:orders'], opaqueTokens: true });
    const response = await fetch(a.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }).toString(),
    });
    const { access_token: token } = await response.json() as { access_token: string };
    const answer = await request(app(withIssuer())).get('/orders').set('Authorization', `Bearer ${token}`);
    expect(answer.status).toBe(200);
    expect(answer.body.client).toBe(client.clientId);
  });
});

describe('several issuers, one of them introspecting', () => {
  function app(options: RequireAuthOptions) {
    const auth = requireAuth(options);
    middlewares.push(auth);
    const [, makeApp] = EXPRESS_VERSIONS[0]!;
    const application = makeApp();
    application.get('/me', auth, (req, res) => { res.json({ iss: req.auth?.payload.iss, client: req.auth?.payload.client_id }); });
    application.use(authErrorHandler());
    return application;
  }
  const call = (application: ReturnType<typeof app>, token: string) => request(application).get('/me').set('Authorization', `Bearer ${token}`);

  test('opaque tokens go to the introspecting issuer; JWTs of either issuer to their own keys', async () => {
    const application = app({
      audience: AUDIENCE,
      issuers: [{ issuerBaseURL: a.url }, { issuerBaseURL: b.url, introspection: { clientId: 'orders-api', clientSecret: 'b-secret' } }],
    });
    expect((await call(application, b.mintOpaqueToken({ clientId: 'from-b', audience: AUDIENCE }))).body).toEqual({ iss: b.issuer, client: 'from-b' });
    expect(b.counts.introspection).toBe(1);
    expect((await call(application, await a.accessToken({ clientId: 'jwt-a', audience: AUDIENCE }))).body).toEqual({ iss: a.issuer, client: 'jwt-a' });
    expect((await call(application, await b.accessToken({ clientId: 'jwt-b', audience: AUDIENCE }))).body).toEqual({ iss: b.issuer, client: 'jwt-b' });
    // An opaque token of issuer A is sent to B's endpoint only (B does not know it: 401); A is never asked.
    expect((await call(application, a.mintOpaqueToken({ audience: AUDIENCE }))).status).toBe(401);
    expect(a.counts.introspection).toBe(0);
    expect(b.counts.introspection).toBe(2);
  });

  test('an introspection answer naming another issuer is refused', async () => {
    const application = app({
      audience: AUDIENCE,
      issuers: [{ issuerBaseURL: a.url }, { issuerBaseURL: b.url, introspection: { clientId: 'orders-api', clientSecret: 'b-secret' } }],
    });
    const answer = await call(application, b.mintOpaqueToken({ audience: AUDIENCE, claims: { iss: a.issuer } }));
    expect(answer.status).toBe(401);
    expect(answer.body.error_description).toBe("unexpected 'iss' claim value");
  });

  test('without an introspecting issuer, an opaque token is refused as before (401, no call)', async () => {
    const application = app({ audience: AUDIENCE, issuers: [{ issuerBaseURL: a.url }, { issuerBaseURL: b.url }] });
    expect((await call(application, 'opaque-token')).status).toBe(401);
    expect(a.counts.introspection + b.counts.introspection).toBe(0);
  });

  test('two introspecting issuers are refused at construction (an opaque token names no issuer)', () => {
    expect(() => requireAuth({
      audience: AUDIENCE,
      issuers: [
        { issuerBaseURL: a.url, introspection: { clientId: 'orders-api', clientSecret: 'rs-secret' } },
        { issuerBaseURL: b.url, introspection: { clientId: 'orders-api', clientSecret: 'b-secret' } },
      ],
    })).toThrow('requireAuth: "issuers[0].introspection" and "issuers[1].introspection": at most one issuer may introspect tokens');
  });

  test('introspection at the top level next to issuers is refused: it belongs to one issuer', () => {
    expect(() => requireAuth({
      audience: AUDIENCE,
      introspection: { clientId: 'orders-api', clientSecret: 'rs-secret' },
      issuers: [{ issuerBaseURL: a.url }],
    })).toThrow(/requireAuth: "introspection" belongs in the entry of "issuers" whose tokens are introspected/);
  });

  test('an issuers function may return an introspecting configuration for JWTs (tokens: all)', async () => {
    const application = app({
      audience: AUDIENCE,
      issuers: ({ issuer }) => (issuer === b.issuer
        ? { issuerBaseURL: b.url, introspection: { clientId: 'orders-api', clientSecret: 'b-secret', tokens: 'all' } }
        : undefined),
    });
    const jwt = await b.accessToken({ clientId: 'jwt-b', audience: AUDIENCE });
    expect((await call(application, jwt)).body).toEqual({ iss: b.issuer, client: 'jwt-b' });
    expect(b.counts.introspection).toBe(1);
  });
});
