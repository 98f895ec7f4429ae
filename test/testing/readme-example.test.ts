// docs/testing.md "A Jest test that runs as written": this file is that example, as written.
import express from 'express';
import request from 'supertest';
import { authErrorHandler, requireAuth, requireScopes } from 'express-m2m';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';

const AUDIENCE = 'https://orders.example.com';

let issuer: LocalIssuer;
let auth: ReturnType<typeof requireAuth>;
let app: express.Express;

beforeAll(async () => {
  issuer = await createLocalIssuer({
    clients: [{ clientId: 'billing', clientSecret: 'billing-secret', audiences: [AUDIENCE], scopes: ['read:orders'] }],
  });
  auth = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE });
  app = express();
  app.get('/orders', auth, requireScopes('read:orders'), (req, res) => {
    res.json({ client: req.auth?.payload.sub });
  });
  app.use(authErrorHandler());
});

afterAll(async () => {
  auth.close();
  await issuer.close();
});

test('accepts a token from the client-credentials grant', async () => {
  const response = await fetch(issuer.tokenEndpoint, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: 'billing',
      client_secret: 'billing-secret',
      audience: AUDIENCE,
    }),
  });
  const { access_token } = (await response.json()) as { access_token: string };

  await request(app).get('/orders').set('Authorization', `Bearer ${access_token}`).expect(200, { client: 'billing@clients' });
});

test('rejects a token without the scope with 403 insufficient_scope', async () => {
  const token = await issuer.accessToken({ clientId: 'billing', audience: AUDIENCE, scope: '' });

  const res = await request(app).get('/orders').set('Authorization', `Bearer ${token}`);
  expect(res.status).toBe(403);
  expect(res.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
});

test('rejects an expired token with 401 invalid_token', async () => {
  const now = Math.floor(Date.now() / 1000);
  const token = await issuer.sign({ sub: 'billing@clients', aud: AUDIENCE, scope: 'read:orders', iat: now - 7200, exp: now - 3600 });

  const res = await request(app).get('/orders').set('Authorization', `Bearer ${token}`);
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
});

test('rejects an unsigned token (alg: none)', async () => {
  const token = await issuer.sign(
    { sub: 'billing@clients', aud: AUDIENCE, scope: 'read:orders' },
    { alg: 'none' }, // or { key: someOtherPrivateKey }, { header: { jku: '...' } }, ...
  );

  await request(app).get('/orders').set('Authorization', `Bearer ${token}`).expect(401);
});
