/**
 * requireAuth end to end: real Express 4 and 5 apps, a real local issuer (discovery + JWKS over
 * HTTP on 127.0.0.1), supertest. One describe per rule of the inbound issue / README.
 */
import { createPublicKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';
import { authErrorHandler, requireAuth, MissingTokenError } from 'express-m2m';
import type { RequireAuthEvent, RequireAuthMiddleware, RequireAuthOptions } from 'express-m2m';
import type { KeySource } from 'express-m2m/extend';
import { AUDIENCE, EXPRESS_VERSIONS, listen, parsersOf, rawGet } from './support.js';

const SECRET = 'a-shared-secret-of-at-least-32-bytes-for-HS256!';
let issuer: LocalIssuer;
const middlewares: RequireAuthMiddleware[] = [];

beforeAll(async () => {
  issuer = await createLocalIssuer({ clients: [{ clientId: 'billing', clientSecret: 'billing-secret', audiences: [AUDIENCE], scopes: ['read:orders'] }] });
});
afterAll(async () => {
  for (const middleware of middlewares) middleware.close();
  await issuer.close();
});

function auth(options: RequireAuthOptions = {}): RequireAuthMiddleware {
  const middleware = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, ...options });
  middlewares.push(middleware);
  return middleware;
}

describe.each(EXPRESS_VERSIONS)('%s', (name, makeApp) => {
  function app(middleware: RequireAuthMiddleware = auth(), withHandler = true) {
    const { urlencoded, json } = parsersOf(name);
    const application = makeApp();
    application.use(urlencoded({ extended: false }), json());
    application.use(middleware);
    application.all('/me', (req, res) => {
      res.json({ auth: req.auth });
    });
    if (withHandler) application.use(authErrorHandler());
    return application;
  }

  describe('on success, req.auth = { token, header, payload, scopes }', () => {
    it('gives the handler the verified token', async () => {
      const token = await issuer.accessToken({ clientId: 'billing', audience: AUDIENCE, scope: 'read:orders write:orders' });
      const response = await request(app()).get('/me').set('Authorization', `Bearer ${token}`);
      expect(response.status).toBe(200);
      const { auth: result } = response.body as { auth: Record<string, unknown> };
      expect(Object.keys(result).sort()).toEqual(['header', 'payload', 'scopes', 'token']);
      expect(result.token).toBe(token);
      expect(result.header).toMatchObject({ alg: 'RS256', kid: issuer.currentKid(), typ: 'at+jwt' });
      expect(result.payload).toMatchObject({ iss: issuer.issuer, aud: AUDIENCE, sub: 'billing@clients', scope: 'read:orders write:orders' });
      expect(result.scopes).toEqual(['read:orders', 'write:orders']);
    });

    it('verifies tokens shaped like the seeds\' (sub <client_id>@clients, empty scope)', async () => {
      const token = await issuer.accessToken({ clientId: 'seed-client', audience: AUDIENCE, scope: '' });
      const response = await request(app()).get('/me').set('Authorization', `Bearer ${token}`);
      expect(response.status).toBe(200);
      expect(response.body.auth.payload).toMatchObject({ sub: 'seed-client@clients', scope: '' });
      expect(response.body.auth.scopes).toEqual([]);
    });

    it.each([
      ['typ JWT (Auth0)', { typ: 'JWT' }],
      ['no typ', {}],
    ])('verifies exactly the seeds\' claim set {iss, sub, aud, exp, iat, scope: ""} with %s', async (_name, header) => {
      const now = Math.floor(Date.now() / 1000);
      const token = await issuer.sign(
        { iss: issuer.issuer, sub: 'AbC123xyz@clients', aud: AUDIENCE, exp: now + 86400, iat: now, scope: '' },
        { noDefaults: true, header },
      );
      const response = await request(app()).get('/me').set('Authorization', `Bearer ${token}`);
      expect(response.status).toBe(200);
      expect(response.body.auth.payload).toEqual({ iss: issuer.issuer, sub: 'AbC123xyz@clients', aud: AUDIENCE, exp: now + 86400, iat: now, scope: '' });
      expect(response.body.auth.scopes).toEqual([]);
    });

    it('verifies a token minted by the issuer\'s token endpoint (client_credentials)', async () => {
      const minted = await request(issuer.url).post('/oauth/token').type('form')
        .send({ grant_type: 'client_credentials', client_id: 'billing', client_secret: 'billing-secret', audience: AUDIENCE });
      expect(minted.status).toBe(200);
      const response = await request(app()).get('/me').set('Authorization', `Bearer ${minted.body.access_token as string}`);
      expect(response.status).toBe(200);
      expect(response.body.auth.scopes).toEqual(['read:orders']);
    });

    it('calls next() synchronously when the token verifies from the cache (no promise on the hot path)', async () => {
      const middleware = auth();
      const token = await issuer.accessToken({ audience: AUDIENCE });
      await request(app(middleware)).get('/me').set('Authorization', `Bearer ${token}`).expect(200);
      const req = { headers: { authorization: `Bearer ${token}` }, rawHeaders: ['Authorization', `Bearer ${token}`], method: 'GET' };
      let called: unknown[] | undefined;
      middleware(req as never, {} as never, (...args: unknown[]) => {
        called = args;
      });
      expect(called).toEqual([]);
      expect((req as { auth?: { token: string } }).auth?.token).toBe(token);
    });

    it('calls next(error) synchronously for a request without a token', () => {
      let called: unknown[] | undefined;
      auth()({ headers: {}, rawHeaders: [], method: 'GET' } as never, {} as never, (...args: unknown[]) => {
        called = args;
      });
      expect(called?.[0]).toBeInstanceOf(MissingTokenError);
    });
  });

  describe('RFC 6750 section 2.1: the Authorization header, scheme matched case-insensitively', () => {
    it.each(['Bearer', 'bearer', 'BEARER'])('accepts the scheme %s', async (scheme) => {
      const token = await issuer.accessToken({ audience: AUDIENCE });
      await request(app()).get('/me').set('Authorization', `${scheme} ${token}`).expect(200);
    });

    it('answers 400 invalid_request to two Authorization headers', async () => {
      const token = await issuer.accessToken({ audience: AUDIENCE });
      const server = await listen(app());
      try {
        const response = await rawGet(server.port, '/me', [['Authorization', `Bearer ${token}`], ['Authorization', `Bearer ${token}`]]);
        expect(response.status).toBe(400);
        expect(response.headers['www-authenticate']).toMatch(/^Bearer error="invalid_request", error_description="the request has more than one Authorization header"$/);
        expect(JSON.parse(response.body)).toEqual({ error: 'invalid_request', error_description: 'the request has more than one Authorization header' });
      } finally {
        await server.close();
      }
    });

    it('answers 400 invalid_request to an empty Bearer credential', async () => {
      const response = await request(app()).get('/me').set('Authorization', 'Bearer ');
      expect(response.status).toBe(400);
      expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_request", error_description="the Bearer credentials are empty"');
    });

    it('answers 401 with a bare challenge to the Basic scheme (no credentials of ours)', async () => {
      const response = await request(app()).get('/me').set('Authorization', 'Basic YmlsbGluZzpzZWNyZXQ=');
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.body).toEqual({ error: 'unauthorized', error_description: 'the Authorization header does not use the Bearer scheme' });
    });
  });

  describe('RFC 6750 sections 2.2 and 2.3: query and form-body tokens are off unless enabled', () => {
    it('does not accept ?access_token= by default', async () => {
      const token = await issuer.accessToken({ audience: AUDIENCE });
      const response = await request(app()).get(`/me?access_token=${token}`);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.body.error_description).toMatch(/query string is not accepted/);
    });

    it('never reads req.query on the no-token path when query tokens are off (Express 5 parses it on each access)', async () => {
      let reads = 0;
      const counting = (middleware: RequireAuthMiddleware) => {
        const application = makeApp();
        application.use((req, _res, next) => {
          const query = { ...(req.query as object) };
          Object.defineProperty(req, 'query', { configurable: true, enumerable: true, get: () => { reads++; return query; } });
          next();
        });
        application.use(middleware);
        application.use(authErrorHandler());
        return application;
      };
      const plain = await request(counting(auth())).get('/me?page=2');
      expect(plain.status).toBe(401);
      expect(plain.body.error_description).toBe('no access token in the request');
      // The explanation for a query token comes from a substring search of req.url, not from parsing.
      const queryToken = await request(counting(auth())).get('/me?page=2&access_token=abc');
      expect(queryToken.status).toBe(401);
      expect(queryToken.body.error_description).toMatch(/query string is not accepted/);
      const lookalike = await request(counting(auth())).get('/me?not_access_token=abc');
      expect(lookalike.body.error_description).toBe('no access token in the request');
      expect(reads).toBe(0);
      // The counter works: with query tokens on, the query is read.
      await request(counting(auth({ allowQueryToken: true }))).get('/me?page=2').expect(401);
      expect(reads).toBeGreaterThan(0);
    });

    it('accepts ?access_token= with allowQueryToken', async () => {
      const token = await issuer.accessToken({ audience: AUDIENCE });
      const response = await request(app(auth({ allowQueryToken: true }))).get(`/me?access_token=${token}`);
      expect(response.status).toBe(200);
      expect(response.body.auth.token).toBe(token);
    });

    it('does not accept a form-body access_token by default', async () => {
      const token = await issuer.accessToken({ audience: AUDIENCE });
      const response = await request(app()).post('/me').type('form').send({ access_token: token });
      expect(response.status).toBe(401);
      expect(response.body.error_description).toMatch(/request body is not accepted/);
    });

    it('accepts a form-body access_token with allowBodyToken, but not in a JSON body', async () => {
      const token = await issuer.accessToken({ audience: AUDIENCE });
      const middleware = auth({ allowBodyToken: true });
      await request(app(middleware)).post('/me').type('form').send({ access_token: token }).expect(200);
      const json = await request(app(middleware)).post('/me').send({ access_token: token });
      expect(json.status).toBe(401);
    });

    it('answers 400 invalid_request when the token comes by more than one method', async () => {
      const token = await issuer.accessToken({ audience: AUDIENCE });
      const middleware = auth({ allowQueryToken: true, allowBodyToken: true });
      const response = await request(app(middleware)).post(`/me?access_token=${token}`).set('Authorization', `Bearer ${token}`);
      expect(response.status).toBe(400);
      expect(response.headers['www-authenticate']).toContain('error="invalid_request"');
      expect(response.body.error).toBe('invalid_request');
    });

    it('answers 400 to a repeated access_token query parameter', async () => {
      const token = await issuer.accessToken({ audience: AUDIENCE });
      const response = await request(app(auth({ allowQueryToken: true }))).get(`/me?access_token=${token}&access_token=${token}`);
      expect(response.status).toBe(400);
      expect(response.body.error_description).toMatch(/repeated/);
    });
  });

  describe('RFC 6750 section 3: every rejection has its status, WWW-Authenticate and JSON body', () => {
    it('no token: 401, bare "Bearer" challenge, no error code', async () => {
      const response = await request(app()).get('/me');
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toEqual({ error: 'unauthorized', error_description: 'no access token in the request' });
    });

    it('an invalid token: 401 invalid_token with a description that does not echo the token', async () => {
      const token = await issuer.accessToken({ audience: 'https://another-api.test' });
      const response = await request(app()).get('/me').set('Authorization', `Bearer ${token}`);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token", error_description="[^"]*aud[^"]*"$/);
      expect(response.body.error).toBe('invalid_token');
      expect(response.body.error_description).toMatch(/aud/);
      expect(JSON.stringify(response.body)).not.toContain(token);
      expect(JSON.stringify(response.headers)).not.toContain(token.split('.')[2]);
    });

    it('puts the configured realm in every challenge', async () => {
      const middleware = auth({ realm: 'orders' });
      const missing = await request(app(middleware)).get('/me');
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="orders"');
      const token = await issuer.accessToken({ audience: 'https://another-api.test' });
      const invalid = await request(app(middleware)).get('/me').set('Authorization', `Bearer ${token}`);
      expect(invalid.headers['www-authenticate']).toMatch(/^Bearer realm="orders", error="invalid_token", error_description="/);
      const malformed = await request(app(middleware)).get('/me').set('Authorization', 'Bearer a b');
      expect(malformed.status).toBe(400);
      expect(malformed.headers['www-authenticate']).toMatch(/^Bearer realm="orders", error="invalid_request", error_description="/);
    });

    it('without authErrorHandler, Express\'s default handler still answers with the error\'s status and headers', async () => {
      const application = app(auth(), false);
      const response = await request(application).get('/me');
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });
  });

  describe('authErrorHandler renders BearerErrors and passes everything else on', () => {
    it('leaves other errors to the next error handler', async () => {
      const application = makeApp();
      application.get('/boom', () => {
        throw new Error('not ours');
      });
      application.use(authErrorHandler());
      application.use((error: Error, _req: unknown, res: { status: (n: number) => { json: (b: unknown) => void } }, _next: unknown) => {
        res.status(599).json({ seen: error.message });
      });
      const response = await request(application).get('/boom');
      expect(response.status).toBe(599);
      expect(response.body).toEqual({ seen: 'not ours' });
    });

    it('renders a BearerError thrown by any handler', async () => {
      const application = makeApp();
      application.get('/custom', () => {
        throw new MissingTokenError('custom');
      });
      application.use(authErrorHandler());
      const response = await request(application).get('/custom');
      expect(response.status).toBe(401);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.body).toEqual({ error: 'unauthorized', error_description: 'custom' });
    });

    it('a malformed JSON body is the body parser\'s 400, not ours, and never a 500', async () => {
      const token = await issuer.accessToken({ audience: AUDIENCE });
      const response = await request(app()).post('/me').set('Authorization', `Bearer ${token}`)
        .set('Content-Type', 'application/json').send('{"a":');
      expect(response.status).toBe(400);
    });
  });

  describe('iss exact match: an issuer URL that extends or prefixes the discovered one is another issuer (401 invalid_token)', () => {
    it.each([
      ['a tenant path after the trailing slash', (iss: string) => `${iss}tenant`],
      ['the issuer without its trailing slash', (iss: string) => iss.replace(/\/$/, '')],
    ])('%s', async (_name, variant) => {
      const events: RequireAuthEvent[] = [];
      const iss = variant(issuer.issuer);
      expect(iss).not.toBe(issuer.issuer);
      const token = await issuer.sign({ iss, sub: 'billing@clients', aud: AUDIENCE, scope: 'read:orders' });
      const response = await request(app(auth({ onEvent: (event) => events.push(event) }))).get('/me').set('Authorization', `Bearer ${token}`);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token", error_description="[^"]*iss[^"]*"$/);
      expect(response.body).toEqual({ error: 'invalid_token', error_description: "unexpected 'iss' claim value" });
      expect(events.filter((event) => event.type === 'auth.rejected')).toEqual([expect.objectContaining({ status: 401, code: 'ERR_JWT_ISSUER' })]);
    });
  });

  describe('never a 500 for anything a client sends: malformed credentials 400 invalid_request, non-JWTs 401 invalid_token (RFC 6750 section 3.1)', () => {
    // RFC 6750 section 3.1: a credential that is not one b64token (section 2.1) is a malformed
    // request (400 invalid_request); a well-formed b64token that is not a valid JWT is an invalid
    // token (401 invalid_token). The code is the one the auth.rejected event reports.
    const header = (json: string) => `Bearer ${Buffer.from(json).toString('base64url')}.e30.c2ln`;
    it.each([
      ['garbage', 'Bearer !!!', 400, 'invalid_request', 'ERR_TOKEN_MALFORMED_HEADER'],
      ['one segment', 'Bearer abc', 401, 'invalid_token', 'ERR_JWT_MALFORMED'],
      ['two segments', 'Bearer abc.def', 401, 'invalid_token', 'ERR_JWT_MALFORMED'],
      ['four segments', 'Bearer a.b.c.d', 401, 'invalid_token', 'ERR_JWT_MALFORMED'],
      ['empty segments', 'Bearer ..', 401, 'invalid_token', 'ERR_JWT_MALFORMED'],
      ['non-JSON header', header('nope'), 401, 'invalid_token', 'ERR_JWT_MALFORMED'],
      ['JSON array header', header('[1]'), 401, 'invalid_token', 'ERR_JWT_MALFORMED'],
      ['null header', header('null'), 401, 'invalid_token', 'ERR_JWT_MALFORMED'],
      ['number kid', header('{"alg":"RS256","kid":5}'), 401, 'invalid_token', 'ERR_JWT_MALFORMED'],
      ['object alg', header('{"alg":{"x":1}}'), 401, 'invalid_token', 'ERR_JWT_MALFORMED'],
      // "__proto__" is an own property of the parsed header, not a prototype: no kid "x" is looked
      // up, the issuer's RS256 key is, and the made-up signature does not match it
      ['__proto__ header', header('{"alg":"RS256","__proto__":{"kid":"x"}}'), 401, 'invalid_token', 'ERR_JWT_SIGNATURE_INVALID'],
      ['unicode', 'Bearer \u00e9\u00e9', 400, 'invalid_request', 'ERR_TOKEN_MALFORMED_HEADER'],
    ])('%s: %j -> %i %s %s', async (_name, authorization, status, error, code) => {
      const events: RequireAuthEvent[] = [];
      const response = await request(app(auth({ onEvent: (event) => events.push(event) }))).get('/me').set('Authorization', authorization);
      expect(response.status).toBe(status);
      expect(response.headers['www-authenticate']).toMatch(new RegExp(`^Bearer error="${error}", error_description="[^"]+"$`));
      expect(response.body).toEqual({ error, error_description: expect.any(String) });
      expect(events.filter((event) => event.type === 'auth.rejected')).toEqual([expect.objectContaining({ status, code })]);
    });
  });

  describe('options from the environment (ISSUER_BASE_URL, ISSUER, AUDIENCE, JWKS_URI); explicit options win', () => {
    const saved = { ...process.env };
    afterEach(() => {
      for (const key of ['ISSUER_BASE_URL', 'ISSUER', 'AUDIENCE', 'JWKS_URI']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    });

    it('requireAuth() works with ISSUER_BASE_URL and AUDIENCE alone', async () => {
      process.env.ISSUER_BASE_URL = issuer.url;
      process.env.AUDIENCE = AUDIENCE;
      const middleware = requireAuth();
      middlewares.push(middleware);
      const token = await issuer.accessToken({ audience: AUDIENCE });
      await request(app(middleware)).get('/me').set('Authorization', `Bearer ${token}`).expect(200);
    });

    it('requireAuth() works with ISSUER, JWKS_URI and AUDIENCE alone', async () => {
      process.env.ISSUER = issuer.issuer;
      process.env.JWKS_URI = issuer.jwksUri;
      process.env.AUDIENCE = AUDIENCE;
      const middleware = requireAuth();
      middlewares.push(middleware);
      const token = await issuer.accessToken({ audience: AUDIENCE });
      await request(app(middleware)).get('/me').set('Authorization', `Bearer ${token}`).expect(200);
    });

    it('an explicit audience wins over AUDIENCE', async () => {
      process.env.ISSUER_BASE_URL = issuer.url;
      process.env.AUDIENCE = 'https://from-env.test';
      const middleware = requireAuth({ audience: AUDIENCE });
      middlewares.push(middleware);
      const token = await issuer.accessToken({ audience: AUDIENCE });
      await request(app(middleware)).get('/me').set('Authorization', `Bearer ${token}`).expect(200);
    });

    describe('ISSUER_BASE_URL and JWKS_URI are ignored when any key source is passed: the environment\'s URLs are never contacted', () => {
      // The environment points at a server that answers nothing useful and counts every request
      // (any path): a middleware that read ISSUER_BASE_URL or JWKS_URI would contact it.
      let envServer: Server;
      let envRequests: string[];
      let envUrl: string;
      beforeAll(async () => {
        envRequests = [];
        envServer = createServer((req, res) => {
          envRequests.push(req.url ?? '');
          res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
        });
        await new Promise<void>((resolve) => envServer.listen(0, '127.0.0.1', resolve));
        envUrl = `http://127.0.0.1:${(envServer.address() as AddressInfo).port}`;
      });
      afterAll(async () => {
        envServer.closeAllConnections();
        await new Promise((resolve) => envServer.close(resolve));
      });
      beforeEach(() => {
        envRequests.length = 0;
        issuer.resetCounts();
        process.env.ISSUER_BASE_URL = `${envUrl}/env-issuer`;
        process.env.JWKS_URI = `${envUrl}/env-issuer/.well-known/jwks.json`;
      });

      /** A KeySource of the test's own: the issuer's public key, counting its calls. */
      function countingKeySource(): KeySource & { calls: number } {
        const key = createPublicKey(issuer.publicKeyPem());
        return {
          calls: 0,
          algorithms: ['RS256'],
          generation: 1,
          getKey() {
            this.calls += 1;
            return key;
          },
          async warmUp() {},
        };
      }

      it('the counting server sees a middleware that does read the environment (control)', async () => {
        const middleware = requireAuth({ audience: AUDIENCE });
        middlewares.push(middleware);
        await expect(middleware.warmUp()).rejects.toThrow();
        expect(envRequests.length).toBeGreaterThan(0);
      });

      it.each([
        ['publicKey', () => ({ options: { issuer: issuer.issuer, publicKey: issuer.publicKeyPem() }, used: () => issuer.counts.jwks + issuer.counts.discovery === 0 })],
        ['secret', () => ({ options: { issuer: issuer.issuer, secret: SECRET }, alg: 'HS256', used: () => issuer.counts.jwks + issuer.counts.discovery === 0 })],
        ['jwksUri', () => ({ options: { issuer: issuer.issuer, jwksUri: issuer.jwksUri }, used: () => issuer.counts.jwks > 0 })],
        ['issuerBaseURL', () => ({ options: { issuerBaseURL: issuer.url }, used: () => issuer.counts.discovery > 0 && issuer.counts.jwks > 0 })],
        ['keySource', () => {
          const keySource = countingKeySource();
          return { options: { issuer: issuer.issuer, keySource }, used: () => keySource.calls > 0 };
        }],
      ] as Array<[string, () => { options: RequireAuthOptions; alg?: string; used: () => boolean }]>)(
        'with %s: warmUp() and requests use it, and the environment\'s server gets no request',
        async (_name, setup) => {
          const { options, alg, used } = setup();
          const middleware = requireAuth({ audience: AUDIENCE, ...options });
          middlewares.push(middleware);
          await middleware.warmUp();
          const token = alg === undefined
            ? await issuer.accessToken({ audience: AUDIENCE })
            : await issuer.sign({ aud: AUDIENCE, sub: 'billing@clients' }, { alg, key: SECRET });
          const response = await request(app(middleware)).get('/me').set('Authorization', `Bearer ${token}`);
          expect(response.status).toBe(200);
          expect(response.body.auth.token).toBe(token);
          expect(used()).toBe(true);
          expect(envRequests).toEqual([]);
        },
      );
    });

    it('without env or options, fails at construction naming the option', () => {
      for (const key of ['ISSUER_BASE_URL', 'ISSUER', 'AUDIENCE', 'JWKS_URI']) delete process.env[key];
      expect(() => requireAuth()).toThrow(/^requireAuth: "issuer" or "issuerBaseURL" is required/);
    });
  });

  describe('bad options fail at construction with a message naming the option', () => {
    it.each([
      [{ audience: 42 }, /requireAuth: "audience" must be/],
      [{ allowQueryToken: 'yes' }, /requireAuth: "allowQueryToken" must be a boolean/],
      [{ allowBodyToken: 1 }, /requireAuth: "allowBodyToken" must be a boolean/],
      [{ realm: 'a"b' }, /requireAuth: "realm" must be/],
      [{ onEvent: 'log' }, /requireAuth: "onEvent" must be a function/],
      [{ jwksUri: 'https://issuer.test/jwks', secret: 'x'.repeat(32) }, /requireAuth: "jwksUri" and "secret" cannot be used together/],
      [{ algorithms: ['none'] }, /requireAuth: "algorithms" must not contain "none"/],
      [{ clockTolerence: 5 }, /requireAuth: unknown option "clockTolerence" \(did you mean "clockTolerance"\?\)/],
    ])('%p', (options, message) => {
      expect(() => requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, ...(options as object) })).toThrow(message);
    });
  });

  describe('warmUp() fetches discovery and keys at start-up, so the first request does not wait', () => {
    it('fetches once, then requests need no fetch', async () => {
      const fresh = await createLocalIssuer();
      try {
        const middleware = requireAuth({ issuerBaseURL: fresh.url, audience: AUDIENCE });
        middlewares.push(middleware);
        expect(fresh.counts).toMatchObject({ discovery: 0, jwks: 0 });
        await middleware.warmUp();
        expect(fresh.counts.discovery).toBeGreaterThanOrEqual(1);
        expect(fresh.counts.jwks).toBe(1);
        const token = await fresh.accessToken({ audience: AUDIENCE });
        let called: unknown[] | undefined;
        const req = { headers: { authorization: `Bearer ${token}` }, rawHeaders: [], method: 'GET' };
        middleware(req as never, {} as never, (...args: unknown[]) => {
          called = args;
        });
        // The key was at hand: verification finished synchronously.
        expect(called).toEqual([]);
        expect(fresh.counts.jwks).toBe(1);
      } finally {
        await fresh.close();
      }
    });

    it('rejects when the issuer is down', async () => {
      const fresh = await createLocalIssuer();
      fresh.setFault('discovery', { status: 500 });
      try {
        const middleware = requireAuth({ issuerBaseURL: fresh.url, audience: AUDIENCE });
        middlewares.push(middleware);
        await expect(middleware.warmUp()).rejects.toThrow();
      } finally {
        await fresh.close();
      }
    });
  });

  describe('outages: no usable key because the issuer is unreachable -> 503 with Retry-After', () => {
    let fresh: LocalIssuer;
    beforeEach(async () => {
      fresh = await createLocalIssuer();
    });
    afterEach(async () => {
      await fresh.close();
    });

    it.each([
      ['JWKS answers 500', 'jwks', { status: 500 }],
      ['JWKS answers HTML', 'jwks', { html: true }],
      ['JWKS answers garbage JSON', 'jwks', { status: 200, body: '{"keys": 5}' }],
      ['JWKS drops the connection', 'jwks', { destroy: true }],
      ['JWKS hangs', 'jwks', { hang: true }],
      ['discovery answers 500', 'discovery', { status: 500 }],
      ['discovery answers HTML', 'discovery', { html: true }],
    ] as const)('%s', async (_name, endpoint, fault) => {
      fresh.setFault(endpoint, fault);
      const middleware = requireAuth({
        issuerBaseURL: fresh.url, audience: AUDIENCE, jwks: { timeoutDuration: 300 },
      });
      middlewares.push(middleware);
      const token = await fresh.accessToken({ audience: AUDIENCE });
      const response = await request(app(middleware)).get('/me').set('Authorization', `Bearer ${token}`);
      expect(response.status).toBe(503);
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      expect(response.body.error).toBe('temporarily_unavailable');
      // The server still answers, and recovers once the issuer does (after the cooldown).
      fresh.setFault(endpoint, null);
      const again = await request(app(middleware)).get('/me');
      expect(again.status).toBe(401);
    });
  });
});
