/**
 * The attack catalogue of the inbound issue, against real Express 4 and 5 apps protected by
 * requireAuth with a real local issuer (discovery + JWKS over HTTP). Each attack asserts the
 * status, the WWW-Authenticate error code, and that the server still answers a good token after.
 * A second local issuer plays the attacker: its JWKS counts the hits header injection would cause.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import request from 'supertest';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer, LocalSignOptions } from 'express-m2m/testing';
import { authErrorHandler, requireAuth } from 'express-m2m';
import type { RequireAuthEvent, RequireAuthMiddleware } from 'express-m2m';
import { AUDIENCE, EXPRESS_VERSIONS, listen, rawGet } from '../express/support.js';

let issuer: LocalIssuer;
let attacker: LocalIssuer;
const middlewares: RequireAuthMiddleware[] = [];

beforeAll(async () => {
  issuer = await createLocalIssuer();
  attacker = await createLocalIssuer();
});
afterAll(async () => {
  for (const middleware of middlewares) middleware.close();
  await issuer.close();
  await attacker.close();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);
const b64 = (text: string) => Buffer.from(text).toString('base64url');
const claims = (extra: Record<string, unknown> = {}) => ({ sub: 'billing@clients', aud: AUDIENCE, scope: 'read:orders', ...extra });

/** The `error` attribute of a WWW-Authenticate challenge, or undefined (no error code). */
function challengeError(header: string | undefined): string | undefined {
  return header === undefined ? undefined : /error="([^"]+)"/.exec(header)?.[1];
}

describe.each(EXPRESS_VERSIONS)('%s', (_name, makeApp) => {
  let middleware: RequireAuthMiddleware;
  let app: ReturnType<typeof makeApp>;
  const rejections: string[] = [];

  beforeAll(async () => {
    middleware = requireAuth({
      issuerBaseURL: issuer.url,
      audience: AUDIENCE,
      onEvent: (event: RequireAuthEvent) => {
        if (event.type === 'auth.rejected') rejections.push(event.code);
      },
    });
    middlewares.push(middleware);
    await middleware.warmUp();
    app = makeApp();
    app.get('/orders', middleware, (req, res) => {
      res.json({ sub: req.auth?.payload.sub });
    });
    app.use(authErrorHandler());
  });

  async function expectRejected(
    authorization: string,
    status: number,
    error: string | undefined,
    code?: string | RegExp,
  ): Promise<void> {
    rejections.length = 0;
    const response = await request(app).get('/orders').set('Authorization', authorization);
    expect(response.status).toBe(status);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(challengeError(response.headers['www-authenticate'])).toBe(error);
    expect(response.body.error).toBe(error ?? 'unauthorized');
    // The stable code says the request was refused for the reason the attack is about.
    if (code !== undefined) expect(rejections).toEqual([expect.stringMatching(code)]);
    await expectStillAnswers();
  }

  async function expectStillAnswers(): Promise<void> {
    const good = await issuer.accessToken({ clientId: 'billing', audience: AUDIENCE });
    const response = await request(app).get('/orders').set('Authorization', `Bearer ${good}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ sub: 'billing@clients' });
  }

  const signed = (extra: Record<string, unknown> = {}, options: LocalSignOptions = {}) => issuer.sign(claims(extra), options);

  describe('alg "none" is never accepted', () => {
    it.each(['none', 'None', 'NONE'])('alg %s', async (alg) => {
      const token = alg === 'none'
        ? await signed({}, { alg: 'none' })
        : `${b64(JSON.stringify({ alg, typ: 'at+jwt' }))}.${b64(JSON.stringify({ ...claims(), iss: issuer.issuer, exp: nowSeconds() + 600 }))}.`;
      await expectRejected(`Bearer ${token}`, 401, 'invalid_token', 'ERR_JWT_ALG_NOT_ALLOWED');
    });
  });

  describe('HS/RS confusion: HS256 signed with the RSA public key PEM as the secret', () => {
    it('against the JWKS', async () => {
      const token = await signed({}, { alg: 'HS256', key: issuer.publicKeyPem() });
      await expectRejected(`Bearer ${token}`, 401, 'invalid_token', 'ERR_JWT_ALG_NOT_ALLOWED');
    });

    it('against a static publicKey (PEM)', async () => {
      const pemAuth = requireAuth({ issuer: issuer.issuer, audience: AUDIENCE, publicKey: issuer.publicKeyPem() });
      middlewares.push(pemAuth);
      const pemApp = makeApp();
      pemApp.get('/orders', pemAuth, (_req, res) => {
        res.json({ ok: true });
      });
      pemApp.use(authErrorHandler());
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        const token = await signed({}, { alg, key: issuer.publicKeyPem() });
        const response = await request(pemApp).get('/orders').set('Authorization', `Bearer ${token}`);
        expect(response.status).toBe(401);
        expect(challengeError(response.headers['www-authenticate'])).toBe('invalid_token');
      }
      await request(pemApp).get('/orders').set('Authorization', `Bearer ${await signed()}`).expect(200);
    });
  });

  describe('wrong key with the right kid', () => {
    it('a token signed by another RSA key, naming the issuer\'s kid', async () => {
      const { privateKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
      const token = await signed({}, { alg: 'RS256', key: privateKey, kid: issuer.currentKid() });
      await expectRejected(`Bearer ${token}`, 401, 'invalid_token', 'ERR_JWT_SIGNATURE_INVALID');
    });

    it('a valid signature with a tampered payload', async () => {
      const [header, , signature] = (await signed()).split('.');
      const tampered = `${header}.${b64(JSON.stringify({ ...claims({ scope: 'admin' }), iss: issuer.issuer, exp: nowSeconds() + 600 }))}.${signature}`;
      await expectRejected(`Bearer ${tampered}`, 401, 'invalid_token', 'ERR_JWT_SIGNATURE_INVALID');
    });
  });

  describe('unknown kid flood: JWKS requests stay bounded', () => {
    it('100 made-up kids cause at most one refetch', async () => {
      const before = issuer.counts.jwks;
      for (let i = 0; i < 100; i++) {
        const token = await signed({}, { header: { kid: randomBytes(8).toString('hex') } });
        const response = await request(app).get('/orders').set('Authorization', `Bearer ${token}`);
        expect(response.status).toBe(401);
        expect(challengeError(response.headers['www-authenticate'])).toBe('invalid_token');
      }
      expect(issuer.counts.jwks - before).toBeLessThanOrEqual(1);
      await expectStillAnswers();
    });
  });

  describe('jku, x5u, jwk and x5c header parameters are never used to find a key', () => {
    const attackerToken = (header: Record<string, unknown>) => attacker.sign(
      { ...claims(), iss: issuer.issuer },
      { header: { kid: issuer.currentKid(), ...header } },
    );

    it.each([
      ['jku', () => ({ jku: attacker.jwksUri })],
      ['x5u', () => ({ x5u: attacker.jwksUri })],
      ['jwk', () => ({ jwk: attacker.publicJwks().keys[0] })],
      ['x5c', () => ({ x5c: [b64('not a certificate')] })],
      ['jku with the attacker\'s kid', () => ({ jku: attacker.jwksUri, kid: attacker.currentKid() })],
    ])('%s', async (_param, header) => {
      const before = attacker.counts.jwks;
      const token = await attackerToken(header());
      await expectRejected(`Bearer ${token}`, 401, 'invalid_token', /^(ERR_JWT_SIGNATURE_INVALID|ERR_JWKS_NO_MATCHING_KEY)$/);
      expect(attacker.counts.jwks - before).toBe(0);
    });
  });

  describe('crit headers are rejected unless understood', () => {
    it('an unknown crit extension', async () => {
      const token = await signed({}, { header: { crit: ['x-unknown'], 'x-unknown': true } });
      await expectRejected(`Bearer ${token}`, 401, 'invalid_token', 'ERR_JWT_CRIT');
    });
  });

  describe('time claims (clock tolerance 5 s)', () => {
    it('expired', async () => {
      await expectRejected(`Bearer ${await signed({ iat: nowSeconds() - 3600, exp: nowSeconds() - 60 })}`, 401, 'invalid_token', 'ERR_JWT_EXPIRED');
    });

    it('nbf in the future', async () => {
      await expectRejected(`Bearer ${await signed({ nbf: nowSeconds() + 600 })}`, 401, 'invalid_token', 'ERR_JWT_NOT_YET_VALID');
    });

    it('iat in the future', async () => {
      await expectRejected(`Bearer ${await signed({ iat: nowSeconds() + 600, exp: nowSeconds() + 3600 })}`, 401, 'invalid_token', 'ERR_JWT_IAT_FUTURE');
    });

    it('missing exp', async () => {
      const token = await signed({ iss: issuer.issuer, iat: nowSeconds() }, { noDefaults: true });
      await expectRejected(`Bearer ${token}`, 401, 'invalid_token', 'ERR_JWT_CLAIM_MISSING');
    });
  });

  describe('issuer and audience', () => {
    it('wrong iss', async () => {
      await expectRejected(`Bearer ${await signed({ iss: 'https://evil.test/' })}`, 401, 'invalid_token', 'ERR_JWT_ISSUER');
    });

    it('wrong aud', async () => {
      await expectRejected(`Bearer ${await signed({ aud: 'https://other-api.test' })}`, 401, 'invalid_token', 'ERR_JWT_AUDIENCE');
    });

    it('no aud', async () => {
      await expectRejected(`Bearer ${await signed({ aud: undefined })}`, 401, 'invalid_token', /^(ERR_JWT_AUDIENCE|ERR_JWT_CLAIM_MISSING)$/);
    });
  });

  describe('malformed base64 or JSON in each segment', () => {
    it.each([
      ['header: not base64url ("+" and "/")', async () => {
        const [, payload, signature] = (await signed()).split('.');
        return `eyJ+/+.${payload}.${signature}`;
      }],
      ['header: not JSON', () => signed({}, { rawHeader: '{"alg":"RS256",' })],
      ['header: JSON but not an object', () => signed({}, { rawHeader: '"RS256"' })],
      ['payload: not base64url', async () => {
        const [header, , signature] = (await signed()).split('.');
        return `${header}.e30+/.${signature}`;
      }],
      ['payload: not JSON', () => signed({}, { rawPayload: '{"sub":' })],
      ['payload: JSON array', () => signed({}, { rawPayload: '[1,2,3]' })],
      ['signature: not base64url', async () => {
        const [header, payload] = (await signed()).split('.');
        return `${header}.${payload}.abc+/def`;
      }],
      ['signature: truncated', async () => (await signed()).slice(0, -10)],
      ['signature: empty', async () => `${(await signed()).split('.').slice(0, 2).join('.')}.`],
    ])('%s', async (_name, build) => {
      await expectRejected(`Bearer ${await build()}`, 401, 'invalid_token', /^(ERR_JWT_MALFORMED|ERR_JWT_SIGNATURE_INVALID)$/);
    });

    it('characters outside b64token are a malformed request: 400 invalid_request', async () => {
      await expectRejected('Bearer eyJ*.e30.c2ln', 400, 'invalid_request', 'ERR_TOKEN_MALFORMED_HEADER');
    });
  });

  describe('huge tokens are rejected before any crypto or key lookup', () => {
    it('a 10 KB token naming an unknown kid: 401, no JWKS request', async () => {
      const before = issuer.counts.jwks;
      const token = await signed({ padding: 'x'.repeat(7_500) }, { header: { kid: 'never-seen-before' } });
      expect(token.length).toBeGreaterThan(8192);
      await expectRejected(`Bearer ${token}`, 401, 'invalid_token', 'ERR_TOKEN_TOO_LARGE');
      expect(issuer.counts.jwks).toBe(before);
    });

    it('a header over node\'s limit is refused by node (431) and the server keeps answering', async () => {
      const server = await listen(app);
      try {
        const response = await rawGet(server.port, '/orders', [['Authorization', `Bearer ${'a'.repeat(20_000)}`]]);
        expect(response.status).toBe(431);
      } finally {
        await server.close();
      }
      await expectStillAnswers();
    });
  });

  describe('malformed requests', () => {
    it('two Authorization headers: 400 invalid_request', async () => {
      const server = await listen(app);
      try {
        const token = await signed();
        const response = await rawGet(server.port, '/orders', [['Authorization', `Bearer ${token}`], ['authorization', `Bearer ${token}`]]);
        expect(response.status).toBe(400);
        expect(challengeError(response.headers['www-authenticate'] as string)).toBe('invalid_request');
      } finally {
        await server.close();
      }
      await expectStillAnswers();
    });

    it('empty Bearer: 400 invalid_request', async () => {
      await expectRejected('Bearer', 400, 'invalid_request', 'ERR_TOKEN_EMPTY');
    });

    it('Basic scheme: 401 without error code', async () => {
      await expectRejected(`Basic ${b64('billing:secret')}`, 401, undefined, 'ERR_TOKEN_MISSING');
    });
  });
});
