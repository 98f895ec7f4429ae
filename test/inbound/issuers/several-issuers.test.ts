/**
 * Several trusted issuers (requireAuth({ issuers })): the token's unverified `iss` only chooses a
 * configuration; everything is verified against it. Two real local issuers, and a third that
 * counts requests to prove an untrusted issuer is refused without any network call.
 */
import request from 'supertest';
import { authErrorHandler, requireAuth, type IssuerOptions, type RequireAuthEvent, type RequireAuthMiddleware } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { AUDIENCE, EXPRESS_VERSIONS } from '../../express/support.js';

let a: LocalIssuer;
let b: LocalIssuer;
let stranger: LocalIssuer;
const middlewares: RequireAuthMiddleware[] = [];

beforeAll(async () => {
  [a, b, stranger] = await Promise.all([createLocalIssuer(), createLocalIssuer({ alg: 'ES256' }), createLocalIssuer()]);
});
afterAll(async () => {
  for (const middleware of middlewares) middleware.close();
  await Promise.all([a.close(), b.close(), stranger.close()]);
});

function app(auth: RequireAuthMiddleware) {
  middlewares.push(auth);
  const [, makeApp] = EXPRESS_VERSIONS[0]!;
  const application = makeApp();
  application.get('/me', auth, (req, res) => { res.json({ iss: req.auth?.payload.iss, sub: req.auth?.payload.sub }); });
  application.use(authErrorHandler());
  return application;
}

const call = (application: ReturnType<typeof app>, token: string) => request(application).get('/me').set('Authorization', `Bearer ${token}`);

describe('a list of trusted issuers, each with its own keys; shared options at the top level', () => {
  test('each issuer\'s tokens are accepted with its own keys and audience', async () => {
    const application = app(requireAuth({
      audience: AUDIENCE,
      issuers: [{ issuerBaseURL: a.url }, { issuerBaseURL: b.url, audience: 'https://b-api.example' }],
    }));
    expect((await call(application, await a.accessToken({ audience: AUDIENCE, clientId: 'from-a' }))).body).toEqual({ iss: a.issuer, sub: 'from-a@clients' });
    expect((await call(application, await b.accessToken({ audience: 'https://b-api.example', clientId: 'from-b' }))).body).toEqual({ iss: b.issuer, sub: 'from-b@clients' });
    // B's entry has its own audience: a token of B for the top-level audience is refused.
    expect((await call(application, await b.accessToken({ audience: AUDIENCE }))).status).toBe(401);
  });

  test('a token claiming issuer A but signed with issuer B\'s key is refused', async () => {
    const application = app(requireAuth({ audience: AUDIENCE, issuers: [{ issuerBaseURL: a.url }, { issuerBaseURL: b.url }] }));
    const forged = await b.sign({ iss: a.issuer, aud: AUDIENCE, sub: 'x@clients' });
    const response = await call(application, forged);
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_token');
  });

  test('an untrusted issuer is refused (401) without any request to it', async () => {
    const events: RequireAuthEvent[] = [];
    const application = app(requireAuth({ audience: AUDIENCE, issuers: [{ issuerBaseURL: a.url }], onEvent: (event) => events.push(event) }));
    stranger.resetCounts();
    const response = await call(application, await stranger.accessToken({ audience: AUDIENCE }));
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: 'invalid_token', error_description: "the token's issuer is not trusted here" });
    expect(stranger.counts).toEqual({ discovery: 0, jwks: 0, token: 0, introspection: 0 });
    expect(events).toContainEqual(expect.objectContaining({ type: 'auth.rejected', code: 'ERR_JWT_ISSUER', claim: 'iss', received: stranger.issuer }));
  });

  test('matching normalises scheme and host case and one trailing slash, never a prefix; verification stays exact', async () => {
    const application = app(requireAuth({ audience: AUDIENCE, issuers: [{ issuer: a.issuer, jwksUri: a.jwksUri }] }));
    const upper = a.issuer.replace('http://127.0.0.1', 'HTTP://127.0.0.1');
    // Chosen by the normalised key, then refused by the exact check (the token's iss is not the configured one).
    expect((await call(application, await a.sign({ iss: upper, aud: AUDIENCE }))).body.error_description).toBe("unexpected 'iss' claim value");
    expect((await call(application, await a.sign({ iss: a.issuer.slice(0, -1), aud: AUDIENCE }))).body.error_description).toBe("unexpected 'iss' claim value");
    // A longer issuer is another issuer altogether.
    expect((await call(application, await a.sign({ iss: `${a.issuer}evil`, aud: AUDIENCE }))).body.error_description).toBe("the token's issuer is not trusted here");
    expect((await call(application, await a.accessToken({ audience: AUDIENCE }))).status).toBe(200);
  });

  test('matching stays the same for every spelling, past the spellings the resolver remembers (64)', async () => {
    const configured = 'https://issuer.example';
    const application = app(requireAuth({ audience: AUDIENCE, issuers: [{ issuer: configured, jwksUri: a.jwksUri }] }));
    // 80 spellings of the same issuer (host case, a trailing slash): each chosen by the normalised
    // key, then refused by the exact check; asked twice, the second time from what was remembered.
    const host = 'issuer.example';
    const spellings = Array.from({ length: 80 }, (_, i) => {
      const cased = [...host].map((c, k) => ((i >> (k % 7)) & 1 ? c.toUpperCase() : c)).join('');
      return `https://${cased}${i >= 40 ? '/' : ''}`;
    }).filter((spelling) => spelling !== configured);
    expect(new Set(spellings).size).toBeGreaterThan(64);
    for (const round of [1, 2]) {
      for (const iss of spellings) {
        const response = await call(application, await a.sign({ iss, aud: AUDIENCE }));
        expect([round, iss, response.body.error_description]).toEqual([round, iss, "unexpected 'iss' claim value"]);
      }
    }
    expect((await call(application, await a.sign({ iss: configured, aud: AUDIENCE }))).status).toBe(200);
    expect((await call(application, await a.sign({ iss: 'https://issuer.example.evil', aud: AUDIENCE }))).body.error_description).toBe("the token's issuer is not trusted here");
  });

  test('one issuer\'s outage does not affect the other', async () => {
    const application = app(requireAuth({ audience: AUDIENCE, issuers: [{ issuerBaseURL: a.url }, { issuerBaseURL: b.url }] }));
    b.setFault('discovery', { status: 503 });
    b.setFault('jwks', { status: 503 });
    try {
      expect((await call(application, await b.accessToken({ audience: AUDIENCE }))).status).toBe(503);
      expect((await call(application, await a.accessToken({ audience: AUDIENCE }))).status).toBe(200);
    } finally {
      b.clearFaults();
    }
  });

  test('a token without iss, or not a JWT, is refused before any lookup', async () => {
    const application = app(requireAuth({ audience: AUDIENCE, issuers: [{ issuerBaseURL: a.url }] }));
    expect((await call(application, await a.sign({ aud: AUDIENCE, iss: undefined }))).body.error_description).toBe("missing required 'iss' claim");
    expect((await call(application, 'opaque-token-value')).body.error).toBe('invalid_token');
  });
});

describe('bad issuer lists fail at construction, naming the entry', () => {
  test.each<[string, () => unknown, string | RegExp]>([
    ['an empty list', () => requireAuth({ audience: AUDIENCE, issuers: [] }), 'requireAuth: "issuers" must be a non-empty array of issuer options, or a function'],
    ['a top-level issuer with issuers', () => requireAuth({ audience: AUDIENCE, issuerBaseURL: 'https://x.example/', issuers: [{ issuerBaseURL: 'https://y.example/' }] }), /^requireAuth: "issuerBaseURL" belongs in an entry of "issuers"/],
    ['the same issuer twice', () => requireAuth({ audience: AUDIENCE, issuers: [{ issuerBaseURL: 'https://x.example/' }, { issuerBaseURL: 'https://X.example' }] }), /^requireAuth: "issuers\[1\]" trusts the same issuer as an earlier entry/],
    ['a bad entry option', () => requireAuth({ audience: AUDIENCE, issuers: [{ issuerBaseURL: 'https://x.example/', clockTolerance: -1 }] }), 'requireAuth: "issuers[0].clockTolerance" must be a finite number of seconds, 0 or more'],
    ['a misspelt entry option', () => requireAuth({ audience: AUDIENCE, issuers: [{ issuerBaseURL: 'https://x.example/', scopeClam: 'scp' } as IssuerOptions] }), 'requireAuth: unknown option "issuers[0].scopeClam" (did you mean "issuers[0].scopeClaim"?)'],
    ['an option no entry may set', () => requireAuth({ audience: AUDIENCE, issuers: [{ issuerBaseURL: 'https://x.example/', onEvent: () => undefined } as IssuerOptions] }), /^requireAuth: unknown option "issuers\[0\]\.onEvent"/],
    ['an issuer URL with userinfo', () => requireAuth({ audience: AUDIENCE, issuers: [{ issuerBaseURL: 'https://user:pw@x.example/' }] }), 'requireAuth: "issuers[0].issuerBaseURL" must not contain userinfo (user:password@)'],
    ['an issuer with a query', () => requireAuth({ audience: AUDIENCE, issuers: [{ issuer: 'https://x.example/?tenant=a', jwksUri: 'https://x.example/jwks' }] }), 'requireAuth: "issuers[0].issuer" must not contain a query'],
    ['no audience anywhere', () => requireAuth({ issuers: [{ issuerBaseURL: 'https://x.example/' }] }), /^requireAuth: "issuers\[0\]\.audience" is required/],
    ['maxIssuers with a list', () => requireAuth({ audience: AUDIENCE, maxIssuers: 5, issuers: [{ issuerBaseURL: 'https://x.example/' }] }), 'requireAuth: "maxIssuers" applies only when "issuers" is a function'],
  ])('%s', (_name, construct, message) => {
    expect(construct).toThrow(message);
  });

  test('an audience from the environment is named in an entry\'s message', () => {
    const saved = process.env.AUDIENCE;
    process.env.AUDIENCE = ' , ';
    try {
      expect(() => requireAuth({ issuers: [{ issuerBaseURL: 'https://x.example/' }] }))
        .toThrow('requireAuth: "issuers[0].audience" (from the environment variable AUDIENCE) must be a non-empty string or an array of non-empty strings');
      // An entry's own audience is its own: no variable is named.
      expect(() => requireAuth({ issuers: [{ issuerBaseURL: 'https://x.example/', audience: [] }] }))
        .toThrow(/^requireAuth: "issuers\[0\]\.audience" must be/);
    } finally {
      if (saved === undefined) delete process.env.AUDIENCE;
      else process.env.AUDIENCE = saved;
    }
  });
});

describe('issuers from a function: called once per issuer, bounded, and refused with a 503 when it fails', () => {
  test('the configuration it returns is used and kept; untrusted issuers are remembered', async () => {
    const asked: string[] = [];
    const application = app(requireAuth({
      audience: AUDIENCE,
      issuers: ({ issuer }) => {
        asked.push(issuer);
        return issuer === a.issuer ? { issuerBaseURL: a.url } : undefined;
      },
    }));
    for (let i = 0; i < 3; i += 1) expect((await call(application, await a.accessToken({ audience: AUDIENCE }))).status).toBe(200);
    for (let i = 0; i < 3; i += 1) expect((await call(application, await stranger.accessToken({ audience: AUDIENCE }))).status).toBe(401);
    expect(asked).toEqual([a.issuer, stranger.issuer]);
  });

  test('a configuration for another issuer than the token\'s is never used', async () => {
    const application = app(requireAuth({ audience: AUDIENCE, issuers: () => ({ issuerBaseURL: a.url }) }));
    stranger.resetCounts();
    const response = await call(application, await stranger.accessToken({ audience: AUDIENCE }));
    expect(response.status).toBe(401);
    expect(stranger.counts.jwks + stranger.counts.discovery).toBe(0);
  });

  test('a function that throws, or does not answer in time, gets the request a 503', async () => {
    const throwing = app(requireAuth({ audience: AUDIENCE, issuers: () => { throw new Error('directory down'); } }));
    expect((await call(throwing, await a.accessToken({ audience: AUDIENCE }))).status).toBe(503);
    const hanging = app(requireAuth({ audience: AUDIENCE, issuerResolverTimeout: 100, issuers: () => new Promise(() => undefined) }));
    const response = await call(hanging, await a.accessToken({ audience: AUDIENCE }));
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
  });

  test('at most maxIssuers verifiers are kept: the least recently used goes first', async () => {
    const asked: string[] = [];
    const issuers = [a, b, stranger];
    const application = app(requireAuth({
      audience: AUDIENCE,
      maxIssuers: 2,
      issuers: ({ issuer }) => {
        asked.push(issuer);
        const found = issuers.find((candidate) => candidate.issuer === issuer);
        return found === undefined ? undefined : { issuerBaseURL: found.url };
      },
    }));
    for (const issuer of [a, b, stranger, a]) expect((await call(application, await issuer.accessToken({ audience: AUDIENCE }))).status).toBe(200);
    // a was evicted when stranger came (2 at most): it is asked for again.
    expect(asked).toEqual([a.issuer, b.issuer, stranger.issuer, a.issuer]);
  });
});
