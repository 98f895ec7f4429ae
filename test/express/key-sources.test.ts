/**
 * requireAuth with each source of keys, end to end on Express 4 and 5: the issuer's JWKS (every
 * asymmetric algorithm, cold start, rotation), a static public key, a shared secret.
 */
import request from 'supertest';
import { createLocalIssuer, LOCAL_ISSUER_ALGORITHMS } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';
import { authErrorHandler, requireAuth } from 'express-m2m';
import type { RequireAuthMiddleware, RequireAuthOptions } from 'express-m2m';
import { AUDIENCE, EXPRESS_VERSIONS } from './support.js';

const SECRET = 'a-shared-secret-of-at-least-64-bytes-for-HS512-0123456789abcdefghij';

describe.each(EXPRESS_VERSIONS)('%s', (_name, makeApp) => {
  let issuer: LocalIssuer;
  const middlewares: RequireAuthMiddleware[] = [];

  beforeEach(async () => {
    issuer = await createLocalIssuer();
  });
  afterEach(async () => {
    for (const middleware of middlewares.splice(0)) middleware.close();
    await issuer.close();
  });

  function app(options: RequireAuthOptions) {
    const middleware = requireAuth({ audience: AUDIENCE, ...options });
    middlewares.push(middleware);
    const application = makeApp();
    application.get('/me', middleware, (req, res) => {
      res.json({ alg: req.auth?.header.alg, sub: req.auth?.payload.sub });
    });
    application.use(authErrorHandler());
    return { application, middleware };
  }

  describe('every asymmetric algorithm verifies from a JWKS found by discovery', () => {
    it(`${LOCAL_ISSUER_ALGORITHMS.join(', ')}`, async () => {
      for (const alg of LOCAL_ISSUER_ALGORITHMS) if (alg !== 'RS256') issuer.addKey(alg);
      const { application } = app({ issuerBaseURL: issuer.url });
      for (const alg of LOCAL_ISSUER_ALGORITHMS) {
        const token = await issuer.accessToken({ audience: AUDIENCE, signOptions: { alg } });
        const response = await request(application).get('/me').set('Authorization', `Bearer ${token}`);
        expect({ alg, status: response.status }).toEqual({ alg, status: 200 });
        expect(response.body.alg).toBe(alg);
      }
      expect(issuer.counts.jwks).toBe(1);
    });
  });

  describe('cold start: concurrent first requests share one discovery and one JWKS fetch', () => {
    it('20 requests at once before warmUp', async () => {
      const { application } = app({ issuerBaseURL: issuer.url });
      const token = await issuer.accessToken({ audience: AUDIENCE });
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => request(application).get('/me').set('Authorization', `Bearer ${token}`)),
      );
      expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
      expect(issuer.counts.jwks).toBe(1);
      expect(issuer.counts.discovery).toBeLessThanOrEqual(2); // OIDC document, then RFC 8414 only if the first fails
    });
  });

  describe('key rotation: a token signed with a new key is verified after one refetch (at most one per cooldown)', () => {
    it('rotates', async () => {
      let offset = 0;
      const { application, middleware } = app({ issuerBaseURL: issuer.url, now: () => Date.now() + offset });
      await middleware.warmUp();
      const oldToken = await issuer.accessToken({ audience: AUDIENCE });
      issuer.rotateKeys();
      const newToken = await issuer.accessToken({ audience: AUDIENCE });
      // Within the cooldown after the start-up fetch, an unknown kid does not cause a refetch.
      await request(application).get('/me').set('Authorization', `Bearer ${newToken}`).expect(401);
      expect(issuer.counts.jwks).toBe(1);
      offset = 31_000; // past the 30 s cooldown
      await request(application).get('/me').set('Authorization', `Bearer ${newToken}`).expect(200);
      expect(issuer.counts.jwks).toBe(2);
      // The previous key is still served (keepPrevious), so its tokens stay valid, without a fetch.
      await request(application).get('/me').set('Authorization', `Bearer ${oldToken}`).expect(200);
      expect(issuer.counts.jwks).toBe(2);
    });
  });

  describe('a static public key (PEM), without any request to the issuer', () => {
    it('verifies the issuer\'s tokens and refuses others', async () => {
      const { application } = app({ issuer: issuer.issuer, publicKey: issuer.publicKeyPem() });
      await request(application).get('/me').set('Authorization', `Bearer ${await issuer.accessToken({ audience: AUDIENCE })}`).expect(200);
      const other = await createLocalIssuer();
      try {
        const foreign = await other.sign({ iss: issuer.issuer, aud: AUDIENCE, sub: 'x@clients' });
        await request(application).get('/me').set('Authorization', `Bearer ${foreign}`).expect(401);
      } finally {
        await other.close();
      }
      expect(issuer.counts).toMatchObject({ jwks: 0, discovery: 0 });
    });
  });

  describe('a shared secret: HS256/384/512 only', () => {
    it('verifies HS tokens signed with the secret, refuses a wrong secret and asymmetric tokens', async () => {
      const { application } = app({ issuer: issuer.issuer, secret: SECRET });
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        const token = await issuer.sign({ aud: AUDIENCE, sub: 'x@clients' }, { alg, key: SECRET });
        await request(application).get('/me').set('Authorization', `Bearer ${token}`).expect(200, { alg, sub: 'x@clients' });
      }
      const wrongSecret = await issuer.sign({ aud: AUDIENCE, sub: 'x@clients' }, { alg: 'HS256', key: `${SECRET}-not` });
      await request(application).get('/me').set('Authorization', `Bearer ${wrongSecret}`).expect(401);
      const rs256 = await issuer.accessToken({ audience: AUDIENCE });
      await request(application).get('/me').set('Authorization', `Bearer ${rs256}`).expect(401);
    });
  });
});
