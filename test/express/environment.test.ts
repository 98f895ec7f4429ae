/**
 * requireAuth's environment variables, read like express-oauth2-jwt-bearer's (same precedence:
 * an explicit option wins; a key source option turns the key variables off): ISSUER_BASE_URL,
 * ISSUER, AUDIENCE (one value or a list), JWKS_URI, SECRET and TOKEN_SIGNING_ALG.
 */
import request from 'supertest';
import { authErrorHandler, requireAuth, REQUIRE_AUTH_ENV, type RequireAuthMiddleware } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { EXPRESS_VERSIONS } from './support.js';

const VARIABLES = Object.keys(REQUIRE_AUTH_ENV);
const SECRET = 'a shared secret of at least thirty-two bytes!';
let issuer: LocalIssuer;
const saved = { ...process.env };
const middlewares: RequireAuthMiddleware[] = [];

beforeAll(async () => {
  issuer = await createLocalIssuer();
});
afterAll(async () => {
  await issuer.close();
});
afterEach(() => {
  for (const middleware of middlewares.splice(0)) middleware.close();
  for (const name of VARIABLES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

function app(middleware: RequireAuthMiddleware) {
  middlewares.push(middleware);
  const [, makeApp] = EXPRESS_VERSIONS[0]!;
  const application = makeApp();
  application.get('/me', middleware, (req, res) => { res.json({ aud: req.auth?.payload.aud }); });
  application.use(authErrorHandler());
  return application;
}

describe('AUDIENCE holds one audience or a list separated by commas or spaces', () => {
  test.each([
    ['comma-separated', 'https://a.example,https://b.example'],
    ['comma and space', 'https://a.example, https://b.example'],
    ['space-separated', 'https://a.example https://b.example'],
  ])('%s: a token for either is accepted, another refused', async (_name, value) => {
    process.env.ISSUER_BASE_URL = issuer.url;
    process.env.AUDIENCE = value;
    const application = app(requireAuth());
    for (const aud of ['https://a.example', 'https://b.example']) {
      await request(application).get('/me').set('Authorization', `Bearer ${await issuer.accessToken({ audience: aud })}`).expect(200);
    }
    const other = await request(application).get('/me').set('Authorization', `Bearer ${await issuer.accessToken({ audience: 'https://c.example' })}`);
    expect(other.status).toBe(401);
  });

  test('an explicit audience wins over the list', async () => {
    process.env.ISSUER_BASE_URL = issuer.url;
    process.env.AUDIENCE = 'https://a.example,https://b.example';
    const application = app(requireAuth({ audience: 'https://c.example' }));
    const response = await request(application).get('/me').set('Authorization', `Bearer ${await issuer.accessToken({ audience: 'https://a.example' })}`);
    expect(response.status).toBe(401);
  });
});

describe('SECRET and TOKEN_SIGNING_ALG configure a shared secret (HS256/384/512)', () => {
  test('ISSUER + AUDIENCE + SECRET: an HS256 token with that secret is accepted; an RS256 one refused', async () => {
    process.env.ISSUER = issuer.issuer;
    process.env.AUDIENCE = 'https://api.example';
    process.env.SECRET = SECRET;
    const application = app(requireAuth());
    const hs = await issuer.sign({ aud: 'https://api.example' }, { alg: 'HS256', key: Buffer.from(SECRET) });
    await request(application).get('/me').set('Authorization', `Bearer ${hs}`).expect(200);
    const rs = await issuer.sign({ aud: 'https://api.example' });
    expect((await request(application).get('/me').set('Authorization', `Bearer ${rs}`)).status).toBe(401);
  });

  test('TOKEN_SIGNING_ALG restricts the allowlist to that algorithm', async () => {
    process.env.ISSUER = issuer.issuer;
    process.env.AUDIENCE = 'https://api.example';
    process.env.SECRET = 'x'.repeat(64);
    process.env.TOKEN_SIGNING_ALG = 'HS512';
    const application = app(requireAuth());
    const hs512 = await issuer.sign({ aud: 'https://api.example' }, { alg: 'HS512', key: Buffer.from('x'.repeat(64)) });
    await request(application).get('/me').set('Authorization', `Bearer ${hs512}`).expect(200);
    const hs256 = await issuer.sign({ aud: 'https://api.example' }, { alg: 'HS256', key: Buffer.from('x'.repeat(64)) });
    const refused = await request(application).get('/me').set('Authorization', `Bearer ${hs256}`);
    expect(refused.status).toBe(401);
    expect(refused.body.error_description).toBe("the token 'alg' is not allowed");
  });

  test('an explicit key source turns SECRET off; explicit algorithms turn TOKEN_SIGNING_ALG off', () => {
    process.env.SECRET = 'too short';
    process.env.TOKEN_SIGNING_ALG = 'HS256';
    expect(() => middlewares.push(requireAuth({ issuerBaseURL: issuer.url, audience: 'https://api.example', algorithms: ['RS256'] }))).not.toThrow();
  });

  test('bad values name the variable; the secret itself is never shown', () => {
    process.env.ISSUER = issuer.issuer;
    process.env.AUDIENCE = 'https://api.example';
    process.env.SECRET = 'short-secret-value';
    expect(() => requireAuth()).toThrow(/^requireAuth: "secret" \(from the environment variable SECRET\) must be at least 32 bytes/);
    let message = '';
    try {
      requireAuth();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toContain('short-secret-value');
    process.env.SECRET = SECRET;
    process.env.TOKEN_SIGNING_ALG = 'RS256';
    expect(() => requireAuth()).toThrow('requireAuth: "algorithms" (from the environment variable TOKEN_SIGNING_ALG) contains RS256, which cannot be verified with "secret"');
  });

  test('two key sources from the environment contradict each other: both variables are named', () => {
    process.env.ISSUER = issuer.issuer;
    process.env.AUDIENCE = 'https://api.example';
    process.env.JWKS_URI = issuer.jwksUri;
    process.env.SECRET = SECRET;
    expect(() => requireAuth()).toThrow('requireAuth: "jwksUri" (from the environment variable JWKS_URI) and "secret" (from the environment variable SECRET) cannot be used together');
  });
});
