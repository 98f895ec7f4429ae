/**
 * The introspection endpoint down, slow or answering garbage: a 503 with `Retry-After` (as for a
 * JWKS outage), never a 401 for the caller's token and never a 500; the endpoint found by
 * discovery (whose issuer must be the configured one); and RFC 9701 signed answers, valid and
 * forged (another key, wrong `typ`, wrong `aud`, plain JSON when a signed answer was asked for).
 */
import { createAuthenticator, type AuthenticatorOptions, type VerifierEvent } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { AUDIENCE, outcome, standIn } from './support.js';

let issuer: LocalIssuer;
let other: LocalIssuer;
const closers: Array<() => void> = [];

beforeAll(async () => {
  [issuer, other] = await Promise.all([
    createLocalIssuer({ clients: [{ clientId: 'orders-api', clientSecret: 'rs-secret', audiences: [AUDIENCE] }] }),
    createLocalIssuer(),
  ]);
});
afterAll(async () => {
  for (const close of closers) close();
  await Promise.all([issuer.close(), other.close()]);
});
beforeEach(() => {
  issuer.clearFaults();
  issuer.resetCounts();
});

function authenticator(options: Partial<AuthenticatorOptions> = {}) {
  const built = createAuthenticator({
    issuerBaseURL: issuer.url,
    audience: AUDIENCE,
    ...options,
    introspection: { clientId: 'orders-api', clientSecret: 'rs-secret', ...options.introspection },
  });
  closers.push(() => built.close());
  return built;
}

describe('the endpoint down, slow or answering garbage: 503 with Retry-After, reported once per failed call', () => {
  test.each([
    ['HTTP 500', { status: 500 }, /answered HTTP 500/],
    ['HTTP 503', { status: 503 }, /answered HTTP 503/],
    ['a dropped connection', { destroy: true }, /is unreachable/],
    ['an HTML page', { html: true }, /did not answer with JSON/],
    ['a body that is not JSON', { body: '{"active": tr' }, /did not answer with JSON/],
    ['a JSON array', { body: '[true]' }, /did not answer with a JSON object/],
    ['no boolean active', { body: '{"active": "true", "aud": "x"}' }, /without a boolean "active"/],
  ])('%s', async (_name, fault, reason) => {
    const events: VerifierEvent[] = [];
    const verifier = authenticator({ onEvent: (event) => events.push(event) });
    issuer.setFault('introspection', fault);
    const token = issuer.mintOpaqueToken({ audience: AUDIENCE });
    const result = await outcome(verifier, token);
    expect(result).toMatchObject({ status: 503, code: 'ERR_KEY_SOURCE_UNAVAILABLE', message: "the token issuer's introspection endpoint is temporarily unavailable" });
    expect(result.headers).toEqual({ 'Retry-After': '1' });
    const failed = events.filter((event) => event.type === 'introspection.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ endpoint: issuer.introspectionEndpoint });
    expect((failed[0] as { error: Error }).error.message).toMatch(reason);
    expect(JSON.stringify(events) + (failed[0] as { error: Error }).error.message).not.toContain(token);
  });

  test('a busy endpoint\'s own Retry-After (429/503) is followed: no call before it, and the client is told so', async () => {
    let now = Date.now();
    const verifier = authenticator({ now: () => now });
    issuer.setFault('introspection', { status: 429, headers: { 'Retry-After': '120' }, times: 1 });
    expect(await outcome(verifier, issuer.mintOpaqueToken({ audience: AUDIENCE }))).toMatchObject({ status: 503, headers: { 'Retry-After': '120' } });
    now += 119_000;
    expect(await outcome(verifier, issuer.mintOpaqueToken({ audience: AUDIENCE }))).toMatchObject({ status: 503, headers: { 'Retry-After': '1' } });
    expect(issuer.counts.introspection).toBe(1);
    now += 1000;
    expect(await outcome(verifier, issuer.mintOpaqueToken({ audience: AUDIENCE }))).toEqual({ status: 200 });
  });

  test('slow: no answer within timeoutDuration is a 503', async () => {
    issuer.setFault('introspection', { hang: true });
    const events: VerifierEvent[] = [];
    const result = await outcome(authenticator({ introspection: { clientId: 'orders-api', clientSecret: 'rs-secret', timeoutDuration: 200 }, onEvent: (event) => events.push(event) }), 'any-token');
    expect(result).toMatchObject({ status: 503, headers: { 'Retry-After': '1' } });
    expect(events).toContainEqual(expect.objectContaining({ type: 'introspection.failed', error: expect.objectContaining({ message: expect.stringMatching(/did not answer within 200 ms/) }) }));
  });

  test('a failure is not cached: once the endpoint is back (and the cooldown over) the same token is accepted', async () => {
    const verifier = authenticator({ introspection: { clientId: 'orders-api', clientSecret: 'rs-secret', failureCooldownDuration: 0 } });
    const token = issuer.mintOpaqueToken({ audience: AUDIENCE });
    issuer.setFault('introspection', { status: 502, times: 1 });
    expect(await outcome(verifier, token)).toMatchObject({ status: 503 });
    expect(await outcome(verifier, token)).toEqual({ status: 200 });
  });
});

describe('the endpoint from discovery: introspection_endpoint of the issuer\'s metadata', () => {
  test('discovered from issuerBaseURL and used', async () => {
    const verifier = authenticator();
    expect(await outcome(verifier, issuer.mintOpaqueToken({ audience: AUDIENCE }))).toEqual({ status: 200 });
    expect(issuer.counts).toMatchObject({ discovery: 1, introspection: 1 });
  });

  test('discovery down: 503 (as for JWTs)', async () => {
    const verifier = authenticator();
    issuer.setFault('discovery', { status: 500 });
    expect(await outcome(verifier, issuer.mintOpaqueToken({ audience: AUDIENCE }))).toMatchObject({ status: 503 });
    expect(issuer.counts.introspection).toBe(0);
  });

  test('metadata without introspection_endpoint: 503, and the event says what is missing', async () => {
    const server = await standIn((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: `${server.url}/`, jwks_uri: `${server.url}/jwks` }));
    });
    try {
      const events: VerifierEvent[] = [];
      const built = createAuthenticator({ issuerBaseURL: server.url, audience: AUDIENCE, onEvent: (event) => events.push(event), introspection: { clientId: 'rs', clientSecret: 'x' } });
      closers.push(() => built.close());
      expect(await outcome(built, 'opaque')).toMatchObject({ status: 503 });
      expect(events).toContainEqual(expect.objectContaining({ type: 'introspection.failed', error: expect.objectContaining({ message: expect.stringMatching(/has no "introspection_endpoint"/) }) }));
    } finally {
      await server.close();
    }
  });

  test('metadata naming another issuer: refused (503), its introspection_endpoint never called', async () => {
    const server = await standIn((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: 'https://evil.example/', jwks_uri: `${server.url}/jwks`, introspection_endpoint: `${server.url}/introspect` }));
      void req;
    });
    try {
      const built = createAuthenticator({ issuerBaseURL: server.url, audience: AUDIENCE, introspection: { clientId: 'rs', clientSecret: 'x' } });
      closers.push(() => built.close());
      expect(await outcome(built, 'opaque')).toMatchObject({ status: 503 });
      expect(server.calls()).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe('RFC 9701: jwtResponse asks for, and accepts only, answers signed by the issuer', () => {
  const signed = { clientId: 'orders-api', clientSecret: 'rs-secret', jwtResponse: true };

  test('a valid signed answer: Accept application/token-introspection+jwt, verified with the issuer\'s JWKS', async () => {
    const verifier = authenticator({ introspection: signed });
    const token = issuer.mintOpaqueToken({ audience: AUDIENCE, scope: 'read:orders' });
    const auth = await verifier.authenticate({ method: 'GET', target: '/', headerLines: (name) => (name === 'authorization' ? [`Bearer ${token}`] : []) });
    expect(auth.scopes).toEqual(['read:orders']);
    expect(issuer.introspectionRequests[0]?.headers.accept).toBe('application/token-introspection+jwt');
    expect(issuer.counts.jwks).toBe(1);
    issuer.revokeToken(token);
    expect(await outcome(authenticator({ introspection: signed }), token)).toMatchObject({ status: 401, code: 'ERR_TOKEN_INACTIVE' });
  });

  test('tokens: all with signed answers: JWTs are introspected too, the answers verified with the discovered JWKS', async () => {
    const verifier = authenticator({ introspection: { ...signed, tokens: 'all' } });
    await verifier.warmUp();
    expect(issuer.counts).toMatchObject({ discovery: 1, jwks: 1, introspection: 0 });
    const jwt = await issuer.accessToken({ audience: AUDIENCE, scope: 'read' });
    expect(await outcome(verifier, jwt)).toEqual({ status: 200 });
    expect(issuer.counts.introspection).toBe(1);
    issuer.setFault('introspection', { body: JSON.stringify({ active: true, aud: AUDIENCE }), headers: { 'content-type': 'application/json' } });
    expect(await outcome(verifier, await issuer.accessToken({ audience: AUDIENCE }))).toMatchObject({ status: 503 });
  });

  /** A stand-in endpoint whose answer is a JWT the test makes (with the local issuers' signers). */
  async function signedBy(makeAnswer: () => Promise<string>, contentType = 'application/token-introspection+jwt') {
    const server = await standIn(async (_req, res) => {
      const body = await makeAnswer();
      res.writeHead(200, { 'content-type': contentType });
      res.end(body);
    });
    const events: VerifierEvent[] = [];
    const verifier = authenticator({ introspection: { ...signed, endpoint: `${server.url}/introspect` }, onEvent: (event) => events.push(event) });
    const result = await outcome(verifier, 'opaque-token');
    await server.close();
    const failure = events.find((event) => event.type === 'introspection.failed') as { error: Error } | undefined;
    return { result, reason: failure?.error.message };
  }

  const answer = () => ({ active: true, iss: issuer.issuer, aud: AUDIENCE, scope: 'read' });
  const claims = () => ({ iss: issuer.issuer, aud: 'orders-api', iat: Math.floor(Date.now() / 1000), token_introspection: answer() });
  const header = { typ: 'token-introspection+jwt' };

  test('the stand-in\'s well-formed answer is accepted (the control case)', async () => {
    const { result } = await signedBy(() => issuer.sign(claims(), { noDefaults: true, header }));
    expect(result).toEqual({ status: 200 });
  });

  test.each([
    ['signed by another issuer\'s key', () => other.sign(claims(), { noDefaults: true, header, kid: issuer.currentKid() }), /not signed with the issuer's key/],
    ['signed by a key the issuer does not serve', () => other.sign(claims(), { noDefaults: true, header }), /has no key of the issuer that fits/],
    ['typ JWT', () => issuer.sign(claims(), { noDefaults: true, header: { typ: 'JWT' } }), /'typ' token-introspection\+jwt/],
    ['no typ', () => issuer.sign(claims(), { noDefaults: true }), /'typ' token-introspection\+jwt/],
    ['aud another resource server', () => issuer.sign({ ...claims(), aud: 'billing-api' }, { noDefaults: true, header }), /not addressed to this resource server/],
    ['iss another issuer', () => issuer.sign({ ...claims(), iss: other.issuer }, { noDefaults: true, header }), /names the issuer/],
    ['no iat', () => issuer.sign({ ...claims(), iat: undefined }, { noDefaults: true, header }), /no numeric 'iat'/],
    ['no token_introspection', () => issuer.sign({ ...claims(), token_introspection: undefined }, { noDefaults: true, header }), /no 'token_introspection' object/],
    ['unsigned (alg none)', () => issuer.sign(claims(), { noDefaults: true, header, alg: 'none' }), /algorithm that is not allowed/],
  ])('forged: %s -> 503, never accepted', async (_name, makeAnswer, reason) => {
    const { result, reason: why } = await signedBy(makeAnswer);
    expect(result).toMatchObject({ status: 503, code: 'ERR_KEY_SOURCE_UNAVAILABLE' });
    expect(why).toMatch(reason);
  });

  test('plain JSON when a signed answer was asked for is refused (no downgrade)', async () => {
    const { result, reason } = await signedBy(async () => JSON.stringify(answer()), 'application/json');
    expect(result).toMatchObject({ status: 503 });
    expect(reason).toMatch(/did not answer with application\/token-introspection\+jwt/);
  });

  test('a valid signed answer for a token of another audience is still refused on its claims (401)', async () => {
    const { result } = await signedBy(() => issuer.sign({ ...claims(), token_introspection: { ...answer(), aud: 'https://other.example' } }, { noDefaults: true, header }));
    expect(result).toMatchObject({ status: 401, code: 'ERR_JWT_AUDIENCE' });
  });
});
