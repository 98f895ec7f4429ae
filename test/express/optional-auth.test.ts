/**
 * credentialsRequired: false: a request without credentials passes anonymously (no req.auth),
 * while credentials that fail are still refused (express-jwt's semantics, not Auth0's
 * authRequired: false, which lets an invalid token through). Guards after it answer 401.
 */
import request from 'supertest';
import { authErrorHandler, requireAuth, requireScopes, type RequireAuthEvent, type RequireAuthMiddleware } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { AUDIENCE, EXPRESS_VERSIONS } from './support.js';

let issuer: LocalIssuer;
let auth: RequireAuthMiddleware;
const events: RequireAuthEvent[] = [];

beforeAll(async () => {
  issuer = await createLocalIssuer();
  auth = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, credentialsRequired: false, onEvent: (event) => events.push(event) });
});
afterAll(async () => {
  auth.close();
  await issuer.close();
});

describe.each(EXPRESS_VERSIONS)('%s', (_name, makeApp) => {
  function app() {
    const application = makeApp();
    application.get('/feed', auth, (req, res) => { res.json({ who: req.auth?.payload.sub ?? 'anonymous' }); });
    application.get('/admin', auth, requireScopes('admin'), (_req, res) => { res.json({ ok: true }); });
    application.use(authErrorHandler());
    return application;
  }

  test.each([
    ['no Authorization header', undefined],
    ['another scheme (Basic)', 'Basic dXNlcjpwYXNz'],
  ])('%s: anonymous, no req.auth, no rejection reported', async (_case, authorization) => {
    events.length = 0;
    const call = request(app()).get('/feed');
    const response = await (authorization === undefined ? call : call.set('Authorization', authorization));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ who: 'anonymous' });
    expect(events.filter((event) => event.type === 'auth.rejected')).toEqual([]);
  });

  test('a valid token: req.auth as usual', async () => {
    const response = await request(app()).get('/feed').set('Authorization', `Bearer ${await issuer.accessToken({ audience: AUDIENCE, clientId: 'c' })}`);
    expect(response.body).toEqual({ who: 'c@clients' });
  });

  test.each([
    ['an expired token', async () => issuer.accessToken({ audience: AUDIENCE, signOptions: { expiresIn: -60 } }), 401],
    ['a token for another audience', async () => issuer.accessToken({ audience: 'https://other.example' }), 401],
    ['garbage', async () => 'not.a.jwt', 401],
    ['an empty Bearer credential', async () => '', 400],
  ])('credentials that fail are still refused: %s', async (_case, make, status) => {
    const response = await request(app()).get('/feed').set('Authorization', `Bearer ${await make()}`);
    expect(response.status).toBe(status);
  });

  test('a guard after an anonymous request answers 401', async () => {
    const response = await request(app()).get('/admin');
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer');
  });
});

test('credentialsRequired must be a boolean', () => {
  expect(() => requireAuth({ issuerBaseURL: 'https://x.example/', audience: AUDIENCE, credentialsRequired: 'no' as never })).toThrow('requireAuth: "credentialsRequired" must be a boolean');
});
