/**
 * Issuer outages and the operator hook, end to end: a fake clock (`now`) moves time, the local
 * issuer's fault injection takes its JWKS down, and `onEvent` sees what happened.
 */
import request from 'supertest';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';
import { authErrorHandler, requireAuth } from 'express-m2m';
import type { RequireAuthEvent, RequireAuthMiddleware, RequireAuthOptions } from 'express-m2m';
import { AUDIENCE, EXPRESS_VERSIONS } from './support.js';

const MINUTE = 60_000;

describe.each(EXPRESS_VERSIONS)('%s', (_name, makeApp) => {
  let issuer: LocalIssuer;
  let middleware: RequireAuthMiddleware | undefined;
  let offset: number;
  let events: RequireAuthEvent[];

  beforeEach(async () => {
    issuer = await createLocalIssuer();
    offset = 0;
    events = [];
  });
  afterEach(async () => {
    middleware?.close();
    middleware = undefined;
    await issuer.close();
  });

  function app(options: RequireAuthOptions = {}) {
    middleware = requireAuth({
      issuer: issuer.issuer,
      jwksUri: issuer.jwksUri,
      audience: AUDIENCE,
      now: () => Date.now() + offset,
      onEvent: (event) => events.push(event),
      verifiedTokenCache: false,
      ...options,
    });
    const application = makeApp();
    application.get('/me', middleware, (req, res) => {
      res.json({ sub: req.auth?.payload.sub });
    });
    application.use(authErrorHandler());
    return application;
  }

  const longLivedToken = () => issuer.accessToken({ audience: AUDIENCE, signOptions: { expiresIn: 7 * 24 * 3600 } });

  describe('stale keys keep working for a bounded window while the JWKS endpoint is down', () => {
    it('serves with stale keys (reported), then answers 503 + Retry-After after maxStale', async () => {
      const application = app({ jwks: { cacheMaxAge: 10 * MINUTE, maxStale: 60 * MINUTE, cooldownDuration: 1000 } });
      await middleware!.warmUp();
      const token = await longLivedToken();
      await request(application).get('/me').set('Authorization', `Bearer ${token}`).expect(200);
      const fetchesBefore = issuer.counts.jwks;

      issuer.setFault('jwks', { status: 500 });
      offset = 11 * MINUTE; // past the cache lifetime, inside the stale window
      const stale = await request(application).get('/me').set('Authorization', `Bearer ${token}`);
      expect(stale.status).toBe(200);
      // Wait for the refresh the request may have started in the background, then ask again.
      for (let i = 0; i < 50 && !events.some((event) => event.type === 'keys.fetch_failed'); i++) {
        await new Promise((resolve) => setImmediate(resolve));
        await request(application).get('/me').set('Authorization', `Bearer ${token}`).expect(200);
      }
      expect(issuer.counts.jwks).toBeGreaterThan(fetchesBefore);
      expect(events.some((event) => event.type === 'keys.fetch_failed')).toBe(true);
      expect(events.some((event) => event.type === 'keys.stale_used')).toBe(true);

      offset = 72 * MINUTE; // past cache lifetime + maxStale
      const expired = await request(application).get('/me').set('Authorization', `Bearer ${token}`);
      expect(expired.status).toBe(503);
      expect(Number(expired.headers['retry-after'])).toBeGreaterThan(0);
      expect(expired.headers['www-authenticate']).toBeUndefined();
      expect(expired.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
      expect(events).toContainEqual({ type: 'auth.rejected', status: 503, code: 'ERR_KEY_SOURCE_UNAVAILABLE', method: 'GET', path: '/me' });

      // The issuer comes back: after the cooldown, the keys are fetched again and requests pass.
      issuer.setFault('jwks', null);
      offset += 2000;
      await request(application).get('/me').set('Authorization', `Bearer ${token}`).expect(200);
    });
  });

  describe('the event hook sees failures without tokens or secrets', () => {
    it('reports rejections of every kind, and verification details', async () => {
      const application = app();
      const wrongAudience = await issuer.accessToken({ audience: 'https://other.test' });
      await request(application).get('/me').expect(401);
      await request(application).get('/me').set('Authorization', 'Bearer ').expect(400);
      await request(application).get('/me').set('Authorization', `Bearer ${wrongAudience}`).expect(401);
      expect(events).toContainEqual({ type: 'auth.rejected', status: 401, code: 'ERR_TOKEN_MISSING', method: 'GET', path: '/me' });
      expect(events).toContainEqual({ type: 'auth.rejected', status: 400, code: 'ERR_TOKEN_EMPTY', method: 'GET', path: '/me' });
      expect(events).toContainEqual(expect.objectContaining({ type: 'verification.rejected', code: 'ERR_JWT_AUDIENCE' }));
      expect(events).toContainEqual({
        type: 'auth.rejected', status: 401, code: 'ERR_JWT_AUDIENCE', method: 'GET', path: '/me',
        client: 'test-client', claim: 'aud', expected: AUDIENCE, received: 'https://other.test',
      });
      const text = JSON.stringify(events, (_key, value: unknown) => (value instanceof Error ? value.message : value));
      expect(text).not.toContain(wrongAudience.split('.')[2]);
    });

    it('reports key-fetch failures', async () => {
      issuer.setFault('jwks', { status: 500 });
      const application = app();
      const token = await longLivedToken();
      await request(application).get('/me').set('Authorization', `Bearer ${token}`).expect(503);
      expect(events).toContainEqual(expect.objectContaining({ type: 'keys.fetch_failed', uri: issuer.jwksUri }));
    });

    it('a throwing hook changes nothing', async () => {
      middleware = requireAuth({
        issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE, onEvent: () => {
          throw new Error('observer bug');
        },
      });
      const application = makeApp();
      application.get('/me', middleware, (_req, res) => {
        res.json({ ok: true });
      });
      application.use(authErrorHandler());
      await request(application).get('/me').expect(401);
      await request(application).get('/me').set('Authorization', `Bearer ${await longLivedToken()}`).expect(200);
    });
  });
});
