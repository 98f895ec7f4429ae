/**
 * Nobody could see why a request was refused: every rejection (requireAuth's and the guards')
 * now emits one `auth.rejected` event with the route (method, path without query), the client
 * when the token verified, the code and, for mismatches, what was expected and what came; never
 * the token. authErrorHandler({ onRejection }) observes what it renders.
 */
import request from 'supertest';
import {
  authErrorHandler, claimCheck, claimEquals, requireAuth, requireScopes,
  type RenderedRejection, type RequireAuthEvent, type RequireAuthMiddleware,
} from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { AUDIENCE, EXPRESS_VERSIONS } from './support.js';

let issuer: LocalIssuer;
let auth: RequireAuthMiddleware;
const events: RequireAuthEvent[] = [];
const rendered: RenderedRejection[] = [];

beforeAll(async () => {
  issuer = await createLocalIssuer();
  auth = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, onEvent: (event) => events.push(event) });
});
afterAll(async () => {
  auth.close();
  await issuer.close();
});
beforeEach(() => {
  events.length = 0;
  rendered.length = 0;
});

const rejections = () => events.filter((event) => event.type === 'auth.rejected');

describe.each(EXPRESS_VERSIONS)('%s', (_name, makeApp) => {
  function app() {
    const application = makeApp();
    const ok = (_req: unknown, res: { json: (body: unknown) => void }) => res.json({ ok: true });
    application.get('/orders', auth, requireScopes('read:orders write:orders'), ok);
    application.get('/acme', auth, claimEquals('org_id', 'acme'), ok);
    application.get('/v2', auth, claimCheck(() => false, 'version 2 required'), ok);
    application.use(authErrorHandler({ onRejection: (rejection) => rendered.push(rejection) }));
    return application;
  }

  test('a guard\'s 403 is reported: route, client, the scopes expected and granted', async () => {
    const token = await issuer.accessToken({ audience: AUDIENCE, clientId: 'billing', scope: 'read:orders' });
    await request(app()).get('/orders?page=2&access_key=secret').set('Authorization', `Bearer ${token}`).expect(403);
    expect(rejections()).toEqual([{
      type: 'auth.rejected', status: 403, code: 'ERR_INSUFFICIENT_SCOPE', method: 'GET', path: '/orders',
      client: 'billing', claim: 'scope', expected: 'read:orders write:orders', received: 'read:orders',
    }]);
  });

  test('a claim guard says what was expected and what came', async () => {
    const token = await issuer.accessToken({ audience: AUDIENCE, clientId: 'billing', claims: { org_id: 'evil' } });
    await request(app()).get('/acme').set('Authorization', `Bearer ${token}`).expect(403);
    expect(rejections()).toEqual([expect.objectContaining({ code: 'ERR_INSUFFICIENT_CLAIMS', claim: 'org_id', expected: 'acme', received: 'evil', client: 'billing' })]);
  });

  test('a wrong audience: expected and received, and the client (the signature verified)', async () => {
    const token = await issuer.accessToken({ audience: 'https://billing.example', clientId: 'orders' });
    const response = await request(app()).get('/orders').set('Authorization', `Bearer ${token}`).expect(401);
    // Claim names are quoted with single quotes: they survive the quoted header attribute as they are.
    expect(response.headers['www-authenticate']).toBe("Bearer error=\"invalid_token\", error_description=\"unexpected 'aud' claim value\"");
    expect(rejections()).toEqual([{
      type: 'auth.rejected', status: 401, code: 'ERR_JWT_AUDIENCE', method: 'GET', path: '/orders',
      client: 'orders', claim: 'aud', expected: AUDIENCE, received: 'https://billing.example',
    }]);
  });

  test('a forged signature names no client (its claims are not authentic)', async () => {
    const token = await issuer.sign({ aud: AUDIENCE, sub: 'admin@clients' }, { key: (await createLocalIssuer().then(async (other) => {
      const key = other.privateKey();
      await other.close();
      return key;
    })) });
    await request(app()).get('/orders').set('Authorization', `Bearer ${token}`).expect(401);
    const [event] = rejections();
    expect(event).toEqual({ type: 'auth.rejected', status: 401, code: 'ERR_JWT_SIGNATURE_INVALID', method: 'GET', path: '/orders' });
  });

  test('no event ever carries the token', async () => {
    const token = await issuer.accessToken({ audience: AUDIENCE, claims: { org_id: 'evil' } });
    await request(app()).get('/acme').set('Authorization', `Bearer ${token}`).expect(403);
    await request(app()).get('/v2').set('Authorization', `Bearer ${token}`).expect(403);
    expect(JSON.stringify(events)).not.toContain(token.split('.')[2]);
    expect(JSON.stringify(rendered)).not.toContain(token.split('.')[2]);
  });

  test('authErrorHandler({ onRejection }) sees what it renders, with the description the client got', async () => {
    const token = await issuer.accessToken({ audience: AUDIENCE, scope: 'read:orders' });
    const response = await request(app()).get('/orders').set('Authorization', `Bearer ${token}`).expect(403);
    expect(rendered).toEqual([expect.objectContaining({
      status: 403, code: 'ERR_INSUFFICIENT_SCOPE', method: 'GET', path: '/orders', description: response.body.error_description,
    })]);
    await request(app()).get('/orders').expect(401);
    expect(rendered[1]).toEqual({ type: 'auth.rejected', status: 401, code: 'ERR_TOKEN_MISSING', method: 'GET', path: '/orders', description: 'no access token in the request' });
  });

  test('an observer that throws changes nothing', async () => {
    const application = makeApp();
    application.get('/x', auth, (_req, res) => { res.json({}); });
    application.use(authErrorHandler({ onRejection: () => { throw new Error('observer bug'); } }));
    const response = await request(application).get('/x');
    expect(response.status).toBe(401);
  });
});

describe('guards included: every rejection of a guard emits one event', () => {
  test('an anonymous request (credentialsRequired: false) refused by a guard is reported, as the guard answers it', async () => {
    const seen: RequireAuthEvent[] = [];
    const optional = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, credentialsRequired: false, onEvent: (event) => seen.push(event) });
    const [, makeApp] = EXPRESS_VERSIONS[0] as (typeof EXPRESS_VERSIONS)[number];
    const application = makeApp();
    application.get('/orders', optional, requireScopes('read:orders'), (_req, res) => { res.json({}); });
    await request(application).get('/orders?token=abc').expect(401);
    optional.close();
    expect(seen).toEqual([{ type: 'auth.rejected', status: 401, code: 'ERR_TOKEN_MISSING', method: 'GET', path: '/orders' }]);
  });

});
