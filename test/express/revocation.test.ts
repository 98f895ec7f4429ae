/**
 * isRevoked: the application's revocation hook after verification, its answer cached per token
 * (not revoked: revocationCache.maxAge capped at exp; revoked: until exp), asked once for
 * concurrent requests, 401 ERR_TOKEN_REVOKED when revoked, 503 when it fails or hangs.
 */
import request from 'supertest';
import express from 'express';
import { authErrorHandler, createAuthenticator, requireAuth, type InboundRequest, type RequireAuthEvent, type RevocationHook, type VerifiedToken } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { AUDIENCE } from './support.js';

let issuer: LocalIssuer;
let clock = Date.now();
const now = () => clock;

beforeAll(async () => {
  issuer = await createLocalIssuer();
});
afterAll(async () => {
  await issuer.close();
});

function appWith(hook: RevocationHook, options: Record<string, unknown> = {}, events: RequireAuthEvent[] = []) {
  const auth = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, isRevoked: hook, now, onEvent: (event) => events.push(event), ...options });
  const app = express();
  app.get('/orders', auth, (req, res) => { res.json({ client: req.auth?.payload.client_id }); });
  app.use(authErrorHandler());
  return { app, auth };
}

const tokenFor = (clientId: string, expiresIn = 3600) => issuer.accessToken({ audience: AUDIENCE, clientId, signOptions: { expiresIn } });

test('the hook sees the verified token and the request; true -> 401 invalid_token ERR_TOKEN_REVOKED, false -> admitted', async () => {
  const seen: Array<[string | undefined, string, string]> = [];
  const events: RequireAuthEvent[] = [];
  const { app, auth } = appWith((token: VerifiedToken, req: InboundRequest) => {
    seen.push([token.payload.client_id as string | undefined, req.method, req.target]);
    return token.payload.client_id === 'revoked';
  }, {}, events);
  const ok = await request(app).get('/orders?x=1').set('Authorization', `Bearer ${await tokenFor('fine')}`);
  expect(ok.status).toBe(200);
  const refused = await request(app).get('/orders').set('Authorization', `Bearer ${await tokenFor('revoked')}`);
  expect(refused.status).toBe(401);
  expect(refused.headers['www-authenticate']).toBe('Bearer error="invalid_token", error_description="the token has been revoked"');
  expect(seen).toEqual([['fine', 'GET', '/orders?x=1'], ['revoked', 'GET', '/orders']]);
  expect(events.filter((event) => event.type === 'auth.rejected')).toEqual([
    expect.objectContaining({ status: 401, code: 'ERR_TOKEN_REVOKED', client: 'revoked' }),
  ]);
  auth.close();
});

test('answers are cached per token: "not revoked" for maxAge, "revoked" until the token expires; other tokens are asked', async () => {
  const revoked = new Set<string>();
  let calls = 0;
  const { app, auth } = appWith(async (token) => {
    calls += 1;
    return revoked.has(token.payload.client_id as string);
  }, { revocationCache: { maxAge: 10_000 } });
  const alice = await tokenFor('alice');
  const call = (token: string) => request(app).get('/orders').set('Authorization', `Bearer ${token}`);
  expect((await call(alice)).status).toBe(200);
  expect((await call(alice)).status).toBe(200);
  expect(calls).toBe(1);
  revoked.add('alice');
  // Still within maxAge: the cached answer stands (the revocation takes effect within maxAge).
  clock += 9_000;
  expect((await call(alice)).status).toBe(200);
  expect(calls).toBe(1);
  clock += 1_001;
  expect((await call(alice)).status).toBe(401);
  expect(calls).toBe(2);
  // A revoked answer is not asked again (a revoked token never comes back), long after maxAge.
  revoked.delete('alice');
  clock += 60_000;
  expect((await call(alice)).status).toBe(401);
  expect(calls).toBe(2);
  // Another token is its own entry.
  expect((await call(await tokenFor('bob'))).status).toBe(200);
  expect(calls).toBe(3);
  auth.close();
});

test('"not revoked" is never cached past the token\'s exp (within the clock tolerance it is asked again)', async () => {
  let calls = 0;
  const authenticator = createAuthenticator({
    issuerBaseURL: issuer.url, audience: AUDIENCE, now, isRevoked: () => { calls += 1; return false; }, revocationCache: { maxAge: 3_600_000 },
    clockTolerance: 30,
  });
  const token = await issuer.accessToken({ audience: AUDIENCE, claims: { exp: Math.floor(clock / 1000) + 20 } });
  const inbound = { method: 'GET', target: '/', headerLines: (name: string) => (name === 'authorization' ? [`Bearer ${token}`] : []) };
  await authenticator.authenticate(inbound);
  await authenticator.authenticate(inbound);
  expect(calls).toBe(1);
  // Past exp, still accepted thanks to the tolerance: the hour-long maxAge does not carry the answer past exp.
  clock += 25_000;
  await authenticator.authenticate(inbound);
  expect(calls).toBe(2);
  authenticator.close();
});

test('revocationCache: false asks on every request; maxEntries bounds the tokens remembered', async () => {
  let calls = 0;
  const hook = () => { calls += 1; return false; };
  const uncached = appWith(hook, { revocationCache: false });
  const token = await tokenFor('c');
  await request(uncached.app).get('/orders').set('Authorization', `Bearer ${token}`);
  await request(uncached.app).get('/orders').set('Authorization', `Bearer ${token}`);
  expect(calls).toBe(2);
  uncached.auth.close();

  calls = 0;
  const bounded = appWith(hook, { revocationCache: { maxEntries: 2 } });
  const tokens = [await tokenFor('a'), await tokenFor('b'), await tokenFor('c')];
  for (const t of tokens) await request(bounded.app).get('/orders').set('Authorization', `Bearer ${t}`);
  expect(calls).toBe(3);
  // The first was pushed out by the third; the last two are still remembered.
  await request(bounded.app).get('/orders').set('Authorization', `Bearer ${tokens[2]}`);
  await request(bounded.app).get('/orders').set('Authorization', `Bearer ${tokens[1]}`);
  expect(calls).toBe(3);
  await request(bounded.app).get('/orders').set('Authorization', `Bearer ${tokens[0]}`);
  expect(calls).toBe(4);
  bounded.auth.close();
});

test('concurrent requests with the same token ask the hook once', async () => {
  let calls = 0;
  let release: (value: boolean) => void = () => undefined;
  const answer = new Promise<boolean>((resolve) => { release = resolve; });
  const { app, auth } = appWith(() => { calls += 1; return answer; });
  const token = await tokenFor('busy');
  const responses = Array.from({ length: 5 }, () => request(app).get('/orders').set('Authorization', `Bearer ${token}`).then((r) => r.status));
  await new Promise((resolve) => setTimeout(resolve, 100));
  release(false);
  expect(await Promise.all(responses)).toEqual([200, 200, 200, 200, 200]);
  expect(calls).toBe(1);
  auth.close();
});

test.each([
  ['throws', () => { throw new Error('denylist down'); }],
  ['rejects', async () => { throw new Error('denylist down'); }],
  ['answers something that is not a boolean', () => 'yes' as unknown as boolean],
  ['hangs past revocationTimeout', () => new Promise<boolean>(() => undefined)],
])('a hook that %s: 503 with Retry-After, nothing cached, the cause not sent', async (_case, hook) => {
  let calls = 0;
  const { app, auth } = appWith(() => { calls += 1; return hook(); }, { revocationTimeout: 50 });
  const token = await tokenFor('c');
  for (let i = 0; i < 2; i += 1) {
    const response = await request(app).get('/orders').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(JSON.stringify(response.body)).not.toContain('denylist');
  }
  expect(calls).toBe(2);
  auth.close();
});

test('the hook is not asked for a token that fails verification, nor without a token', async () => {
  let calls = 0;
  const { app, auth } = appWith(() => { calls += 1; return false; });
  expect((await request(app).get('/orders').set('Authorization', `Bearer ${await issuer.accessToken({ audience: 'https://other.example' })}`)).status).toBe(401);
  expect((await request(app).get('/orders')).status).toBe(401);
  expect(calls).toBe(0);
  auth.close();
});

test('options: misspelt, wrong types, cache options without a hook', () => {
  const base = { issuerBaseURL: 'https://issuer.example/', audience: AUDIENCE };
  expect(() => requireAuth({ ...base, isRevokd: () => false } as never)).toThrow('did you mean "isRevoked"?');
  expect(() => requireAuth({ ...base, isRevoked: true as never })).toThrow('requireAuth: "isRevoked" must be a function (auth, request) => boolean | Promise<boolean>');
  expect(() => requireAuth({ ...base, revocationCache: { maxAge: 5 } })).toThrow('requireAuth: "revocationCache" applies only with "isRevoked"');
  expect(() => requireAuth({ ...base, isRevoked: () => false, revocationCache: { maxAgee: 5 } as never })).toThrow('did you mean "revocationCache.maxAge"?');
  expect(() => requireAuth({ ...base, isRevoked: () => false, revocationCache: true as never })).toThrow('"revocationCache" must be false or an object');
  expect(() => requireAuth({ ...base, isRevoked: () => false, revocationTimeout: -1 })).toThrow('"revocationTimeout"');
});
