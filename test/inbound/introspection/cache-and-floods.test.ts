/**
 * What the introspection verifier promises about calls to the authorization server: answers
 * cached per token (active up to `exp` and `cache.maxAge`, inactive for `cache.inactiveMaxAge`),
 * one call for concurrent requests with one token, a bounded number of calls for a flood of
 * distinct made-up tokens, and a cooldown after a failure. Counted at the local issuer; the clock
 * is a fake one shared by the issuer and the verifier.
 */
import { createAuthenticator, type AuthenticatorOptions } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { AUDIENCE, outcome } from './support.js';

let issuer: LocalIssuer;
let now = Date.now();
const closers: Array<() => void> = [];

beforeAll(async () => {
  issuer = await createLocalIssuer({ now: () => now, clients: [{ clientId: 'orders-api', clientSecret: 'rs-secret', audiences: [AUDIENCE] }] });
});
afterAll(async () => {
  for (const close of closers) close();
  await issuer.close();
});
beforeEach(() => {
  now = Date.now();
  issuer.clearFaults();
  issuer.resetCounts();
});

async function authenticator(introspection: Partial<NonNullable<AuthenticatorOptions['introspection']>> = {}) {
  const built = createAuthenticator({
    issuerBaseURL: issuer.url,
    audience: AUDIENCE,
    now: () => now,
    introspection: { clientId: 'orders-api', clientSecret: 'rs-secret', ...introspection },
  });
  closers.push(() => built.close());
  await built.warmUp();
  return built;
}

describe('cache: an active answer is used up to cache.maxAge (default 60 s), then asked again', () => {
  test('one call for many requests; a revocation at the server takes effect once maxAge has passed', async () => {
    const verifier = await authenticator();
    const token = issuer.mintOpaqueToken({ audience: AUDIENCE });
    for (let i = 0; i < 5; i += 1) expect(await outcome(verifier, token)).toEqual({ status: 200 });
    expect(issuer.counts.introspection).toBe(1);
    issuer.revokeToken(token);
    now += 59_000;
    expect(await outcome(verifier, token)).toEqual({ status: 200 });
    expect(issuer.counts.introspection).toBe(1);
    now += 1000;
    expect(await outcome(verifier, token)).toMatchObject({ status: 401, code: 'ERR_TOKEN_INACTIVE' });
    expect(issuer.counts.introspection).toBe(2);
  });

  test('never past the token\'s exp (with the clock tolerance)', async () => {
    const verifier = await authenticator({ cache: { maxAge: 3_600_000 } });
    const token = issuer.mintOpaqueToken({ audience: AUDIENCE, expiresIn: 30 });
    expect(await outcome(verifier, token)).toEqual({ status: 200 });
    now += 30_000 + 5000;
    expect(await outcome(verifier, token)).toMatchObject({ status: 401 });
    expect(issuer.counts.introspection).toBe(2);
  });

  test('cache.maxAge is configurable; cache: false asks on every request', async () => {
    const short = await authenticator({ cache: { maxAge: 1000 } });
    const token = issuer.mintOpaqueToken({ audience: AUDIENCE });
    await outcome(short, token);
    now += 1000;
    await outcome(short, token);
    expect(issuer.counts.introspection).toBe(2);
    const none = await authenticator({ cache: false });
    await outcome(none, token);
    await outcome(none, token);
    expect(issuer.counts.introspection).toBe(4);
  });

  test('answers are per token: one token\'s answer is never handed to another', async () => {
    const verifier = await authenticator();
    const good = issuer.mintOpaqueToken({ audience: AUDIENCE, scope: 'read' });
    expect(await outcome(verifier, good)).toEqual({ status: 200 });
    expect(await outcome(verifier, `${good}x`)).toMatchObject({ status: 401, code: 'ERR_TOKEN_INACTIVE' });
    expect(await outcome(verifier, good.slice(0, -1))).toMatchObject({ status: 401, code: 'ERR_TOKEN_INACTIVE' });
    expect(issuer.counts.introspection).toBe(3);
  });
});

describe('cache: an inactive answer (or refused claims) is remembered for cache.inactiveMaxAge (default 10 s)', () => {
  test('a flood of one junk token is one call per 10 s', async () => {
    const verifier = await authenticator();
    for (let i = 0; i < 50; i += 1) expect(await outcome(verifier, 'junk-token')).toMatchObject({ status: 401, code: 'ERR_TOKEN_INACTIVE' });
    expect(issuer.counts.introspection).toBe(1);
    now += 9999;
    await outcome(verifier, 'junk-token');
    expect(issuer.counts.introspection).toBe(1);
    now += 1;
    await outcome(verifier, 'junk-token');
    expect(issuer.counts.introspection).toBe(2);
  });

  test('a token of another audience is remembered as refused too', async () => {
    const verifier = await authenticator();
    const token = issuer.mintOpaqueToken({ audience: 'https://other.example' });
    for (let i = 0; i < 10; i += 1) expect(await outcome(verifier, token)).toMatchObject({ status: 401, code: 'ERR_JWT_AUDIENCE' });
    expect(issuer.counts.introspection).toBe(1);
  });
});

describe('single flight: concurrent requests with one token make one call', () => {
  test('20 concurrent requests, 1 call, 20 answers', async () => {
    const verifier = await authenticator();
    issuer.setFault('introspection', { delay: 100 });
    const token = issuer.mintOpaqueToken({ audience: AUDIENCE });
    const results = await Promise.all(Array.from({ length: 20 }, () => outcome(verifier, token)));
    expect(results).toEqual(Array.from({ length: 20 }, () => ({ status: 200 })));
    expect(issuer.counts.introspection).toBe(1);
  });

  test('the same for a junk token: 20 concurrent requests, 1 call, 20 refusals', async () => {
    const verifier = await authenticator();
    issuer.setFault('introspection', { delay: 100 });
    const results = await Promise.all(Array.from({ length: 20 }, () => outcome(verifier, 'junk-concurrent')));
    expect(new Set(results.map((result) => result.code))).toEqual(new Set(['ERR_TOKEN_INACTIVE']));
    expect(issuer.counts.introspection).toBe(1);
  });
});

describe('a flood of distinct made-up tokens: calls bounded by maxConcurrent + maxQueued', () => {
  test('30 distinct junk tokens at once with maxConcurrent 2, maxQueued 3: 5 calls, 25 immediate 503s with Retry-After', async () => {
    const verifier = await authenticator({ maxConcurrent: 2, maxQueued: 3 });
    issuer.setFault('introspection', { delay: 100 });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => outcome(verifier, `junk-${i}`)));
    expect(results.filter((result) => result.code === 'ERR_TOKEN_INACTIVE')).toHaveLength(5);
    const busy = results.filter((result) => result.status === 503);
    expect(busy).toHaveLength(25);
    expect(busy[0]).toMatchObject({ code: 'ERR_KEY_SOURCE_UNAVAILABLE', headers: { 'Retry-After': '1' } });
    expect(issuer.counts.introspection).toBe(5);
  });

  test('a request waits for a slot at most timeoutDuration, then gets a 503', async () => {
    const verifier = await authenticator({ maxConcurrent: 1, timeoutDuration: 300 });
    issuer.setFault('introspection', { hang: true, times: 2 });
    const holder = outcome(verifier, 'slow-1');
    // Once the first call holds the only slot, two more wait: the first of them gets the slot when
    // the holder times out (and hangs too); the second's wait ends before that slot is free.
    while (issuer.counts.introspection < 1) await new Promise((resolve) => setImmediate(resolve));
    const [first, next, last] = await Promise.all([holder, outcome(verifier, 'slow-2'), outcome(verifier, 'slow-3')]);
    expect(first).toMatchObject({ status: 503, message: "the token issuer's introspection endpoint is temporarily unavailable" });
    expect(next).toMatchObject({ status: 503, message: "the token issuer's introspection endpoint is temporarily unavailable" });
    expect(last).toMatchObject({ status: 503, message: "the token issuer's introspection endpoint is busy" });
    expect(issuer.counts.introspection).toBe(2);
  });
});

describe('after a failed call, new tokens get a 503 without a call for a while (1 s, doubling up to failureCooldownDuration)', () => {
  test('no call during the cooldown; a call after it; cached tokens keep working throughout', async () => {
    const verifier = await authenticator();
    const cached = issuer.mintOpaqueToken({ audience: AUDIENCE });
    expect(await outcome(verifier, cached)).toEqual({ status: 200 });
    issuer.setFault('introspection', { status: 500 });
    expect(await outcome(verifier, issuer.mintOpaqueToken({ audience: AUDIENCE }))).toMatchObject({ status: 503, headers: { 'Retry-After': '1' } });
    expect(issuer.counts.introspection).toBe(2);
    const fresh = issuer.mintOpaqueToken({ audience: AUDIENCE });
    for (let i = 0; i < 10; i += 1) expect(await outcome(verifier, fresh)).toMatchObject({ status: 503 });
    expect(issuer.counts.introspection).toBe(2);
    expect(await outcome(verifier, cached)).toEqual({ status: 200 });
    now += 1000;
    // The second failure in a row doubles the cooldown.
    expect(await outcome(verifier, fresh)).toMatchObject({ status: 503, headers: { 'Retry-After': '2' } });
    expect(issuer.counts.introspection).toBe(3);
    issuer.clearFaults();
    now += 2000;
    expect(await outcome(verifier, fresh)).toEqual({ status: 200 });
    expect(issuer.counts.introspection).toBe(4);
  });
});
