/**
 * A sender-constrained token (one with a confirmation claim, RFC 7800 `cnf`: `jkt` for DPoP,
 * RFC 9449 section 6; `x5t#S256` for mTLS, RFC 8705 section 3.1) presented as a plain Bearer
 * token, to an API that checks no proof of possession, is refused: 401 invalid_token. The binding
 * check runs after every verification, a verified-token cache hit included.
 */
import request from 'supertest';
import { authErrorHandler, createAuthenticator, requireAuth, type RequireAuthEvent } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { AUDIENCE, EXPRESS_VERSIONS } from '../../express/support.js';

let issuer: LocalIssuer;
beforeAll(async () => {
  issuer = await createLocalIssuer();
});
afterAll(async () => {
  await issuer.close();
});

describe.each(EXPRESS_VERSIONS)('a token with "cnf" presented as a Bearer token is refused (%s)', (_name, makeApp) => {
  const middlewares: Array<{ close(): void }> = [];
  afterAll(() => {
    for (const middleware of middlewares) middleware.close();
  });

  function app(events: RequireAuthEvent[]) {
    const auth = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, onEvent: (event) => events.push(event) });
    middlewares.push(auth);
    const application = makeApp();
    application.get('/me', auth, (req, res) => { res.json({ sub: req.auth?.payload.sub }); });
    application.use(authErrorHandler());
    return application;
  }

  test.each([
    ['a DPoP-bound token (cnf.jkt)', { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' }],
    ['a certificate-bound token (cnf.x5t#S256)', { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' }],
    ['any other confirmation method', { jwk: { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' } }],
  ])('%s: 401 invalid_token, every time (a verified-token cache hit too)', async (_case, cnf) => {
    const events: RequireAuthEvent[] = [];
    const application = app(events);
    const token = await issuer.accessToken({ audience: AUDIENCE, claims: { cnf } });
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const response = await request(application).get('/me').set('Authorization', `Bearer ${token}`);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token", error_description="the token is sender-constrained/);
      expect(response.body.error).toBe('invalid_token');
    }
    expect(events.filter((event) => event.type === 'auth.rejected').map((event) => (event as { code: string }).code))
      .toEqual(['ERR_TOKEN_SENDER_CONSTRAINED', 'ERR_TOKEN_SENDER_CONSTRAINED', 'ERR_TOKEN_SENDER_CONSTRAINED']);
    // The token itself verified (and was cached): only the binding refused it.
    expect(events.filter((event) => event.type === 'verification.rejected')).toHaveLength(0);
  });

  test('the same API still accepts an unbound token', async () => {
    const token = await issuer.accessToken({ audience: AUDIENCE, clientId: 'plain' });
    const response = await request(app([])).get('/me').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ sub: 'plain@clients' });
  });
});

describe('the pipeline without Express refuses it too', () => {
  test('createAuthenticator', async () => {
    const authenticator = createAuthenticator({ issuerBaseURL: issuer.url, audience: AUDIENCE });
    const token = await issuer.accessToken({ audience: AUDIENCE, claims: { cnf: { jkt: 'x' } } });
    const request = { method: 'GET', target: '/', headerLines: (name: string) => (name === 'authorization' ? [`Bearer ${token}`] : []) };
    await expect(Promise.resolve().then(() => authenticator.authenticate(request))).rejects.toMatchObject({ status: 401, code: 'ERR_TOKEN_SENDER_CONSTRAINED' });
    // Twice: the second verification is a cache hit, answered synchronously, and still refused.
    expect(() => authenticator.authenticate(request)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_SENDER_CONSTRAINED' }));
    authenticator.close();
  });
});

describe('createVerifier on its own is a bearer check: a cnf-bound token is refused there too', () => {
  test('synchronously on a cache hit, and on a first verification', async () => {
    const { createVerifier } = await import('express-m2m');
    const verifier = createVerifier({ issuerBaseURL: issuer.url, audience: AUDIENCE });
    const token = await issuer.accessToken({ audience: AUDIENCE, claims: { cnf: { 'x5t#S256': 'abc' } } });
    await expect(Promise.resolve().then(() => verifier.verify(token))).rejects.toMatchObject({ code: 'ERR_TOKEN_SENDER_CONSTRAINED' });
    expect(() => verifier.verify(token)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_SENDER_CONSTRAINED' }));
    const plain = await issuer.accessToken({ audience: AUDIENCE });
    await expect(Promise.resolve(verifier.verify(plain))).resolves.toMatchObject({ token: plain });
    verifier.close();
  });
});
