/**
 * ReusingTokenSource (src/outbound/reuse/reusing-source.ts), the top of the outbound chain, driven
 * directly through its one seam (the `TokenSource` below it, scripted here so that each token
 * request is answered when the test says) with an injected clock: the rules the mutation run
 * (docs/mutation-testing.md) needs pinned beyond the end-to-end suites. The event a load reports
 * (fetched, refreshed in the background or forced, taken from the shared cache), the context the
 * layer below is asked with, the cooldown's doubling and cap, the latched failure given again
 * without a request, the stale token kept through a failed refresh, a refused token never given
 * back, the deadline, the once-per-cooldown replacement of a refused token, and the health view.
 */
import { failureCooldown, ReusingTokenSource, type ReuseSettings } from '../../src/outbound/reuse/reusing-source.js';
import { closedError, ProviderLifecycle } from '../../src/outbound/provider-lifecycle.js';
import { TokenRequestError } from '../../src/outbound/token-request-error.js';
import type { ObtainedToken, TokenRequestContext } from '../../src/outbound/token-source.js';
import type { TokenSet } from '../../src/caches/token-cache.js';
import type { OutboundEventBody } from '../../src/outbound/types.js';

const ENDPOINT = 'https://as.example/oauth/token';
const MARGIN = 60_000;
const COOLDOWN = 1000;

interface Request { context: TokenRequestContext; resolve: (obtained: ObtainedToken) => void; reject: (error: unknown) => void }

function setup(overrides: Partial<ReuseSettings> = {}) {
  let now = 1_000_000;
  const requests: Request[] = [];
  const events: OutboundEventBody[] = [];
  const lifecycle = new ProviderLifecycle(() => new Promise<void>(() => undefined));
  const source = new ReusingTokenSource(
    { obtain: (context) => new Promise<ObtainedToken>((resolve, reject) => { requests.push({ context, resolve, reject }); }) },
    {
      expiryMargin: MARGIN,
      // the background refresh is due at half the usable life
      refreshWindow: [0.5, 0.5],
      failureCooldownDuration: COOLDOWN,
      deadlineDuration: 10_000,
      endpoint: ENDPOINT,
      now: () => now,
      random: () => 0.5,
      lifecycle,
      emit: (event) => { events.push(event); },
      ...overrides,
    },
  );
  /** A token obtained now, living `lifetime` ms (usable until `lifetime - 60 s`, due at half of that). */
  const token = (accessToken: string, lifetime = 600_000): TokenSet => ({ accessToken, tokenType: 'Bearer', expiresAt: now + lifetime, obtainedAt: now });
  const last = (): Request => {
    const request = requests[requests.length - 1];
    if (request === undefined) throw new Error('no token request was made');
    return request;
  };
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
  /** The first token, obtained by a plain get. */
  const hold = async (accessToken = 'a', lifetime = 600_000): Promise<TokenSet> => {
    const got = source.get(false, undefined);
    const held = token(accessToken, lifetime);
    last().resolve({ token: held, attempts: 1 });
    await got;
    events.length = 0;
    return held;
  };
  return { source, requests, events, lifecycle, token, last, flush, hold, advance: (ms: number) => { now += ms; }, now: () => now };
}

function rejectedError(): TokenRequestError {
  return new TokenRequestError('token endpoint answered HTTP 401 invalid_client', { code: 'ERR_TOKEN_REJECTED', error: 'invalid_client', status: 401, tokenEndpoint: ENDPOINT });
}

describe('failureCooldown: failureCooldownDuration doubled per consecutive failure, at most 5 min, never under Retry-After', () => {
  const plain = rejectedError();
  test.each([
    [1, 1000], [2, 2000], [3, 4000], [9, 256_000], [10, 300_000], [40, 300_000],
  ])('failure %i in a row: %i ms', (count, expected) => {
    expect(failureCooldown(1000, plain, count)).toBe(expected);
  });

  test('the 5 min cap holds from the first failure', () => {
    expect(failureCooldown(400_000, plain, 1)).toBe(300_000);
  });

  test('a longer Retry-After wins over the backoff, even over the cap; a shorter one does not', () => {
    const after = (ms: number) => new TokenRequestError('429', { code: 'ERR_TOKEN_REJECTED', status: 429, retryAfter: ms });
    expect(failureCooldown(1000, after(10_000), 1)).toBe(10_000);
    expect(failureCooldown(1000, after(500), 2)).toBe(2000);
    expect(failureCooldown(1000, after(400_000), 30)).toBe(400_000);
  });
});

describe('the event a load reports, and the context the layer below is asked with', () => {
  test('the first token: asked with no held token and no failures; token.fetched with its attempts; then reused', async () => {
    const t = setup();
    const got = t.source.get(false, undefined);
    expect(t.requests).toHaveLength(1);
    expect(t.last().context).toEqual({ avoid: undefined, rejected: false, background: false, held: undefined, failures: 0 });
    const first = t.token('a');
    t.last().resolve({ token: first, attempts: 2 });
    await expect(got).resolves.toBe(first);
    expect(t.events).toEqual([{ type: 'token.fetched', expiresAt: first.expiresAt, attempts: 2 }]);
    await expect(t.source.get(false, undefined)).resolves.toBe(first);
    expect(t.requests).toHaveLength(1);
  });

  test('a token the layer below took from the shared cache (0 attempts): token.cache_hit only', async () => {
    const t = setup();
    const got = t.source.get(false, undefined);
    const shared = t.token('shared');
    t.last().resolve({ token: shared, attempts: 0 });
    await got;
    expect(t.events).toEqual([{ type: 'token.cache_hit', expiresAt: shared.expiresAt }]);
  });

  test('a due token: still given, one background refresh (asked as background, avoiding and holding it), token.refreshed', async () => {
    const t = setup();
    const first = await t.hold('a');
    t.advance(269_999);
    await expect(t.source.get(false, undefined)).resolves.toBe(first);
    expect(t.requests).toHaveLength(1); // fresh until half its usable life
    t.advance(1);
    await expect(t.source.get(false, undefined)).resolves.toBe(first);
    await expect(t.source.get(false, undefined)).resolves.toBe(first);
    expect(t.requests).toHaveLength(2); // one refresh for any number of callers
    expect(t.last().context).toEqual({ avoid: 'a', rejected: false, background: true, held: 'a', failures: 0 });
    expect(t.events).toEqual([{ type: 'token.refresh_started', expiresAt: first.expiresAt }]);
    const second = t.token('b');
    t.last().resolve({ token: second, attempts: 1 });
    await t.flush();
    expect(t.events[1]).toEqual({ type: 'token.refreshed', expiresAt: second.expiresAt, attempts: 1, background: true });
    await expect(t.source.get(false, undefined)).resolves.toBe(second);
  });

  test('a forced refresh while the token is usable: asked avoiding it as rejected; token.refreshed, not in the background', async () => {
    const t = setup();
    await t.hold('a');
    const got = t.source.get(true, undefined);
    expect(t.last().context).toEqual({ avoid: 'a', rejected: true, background: false, held: 'a', failures: 0 });
    const second = t.token('b');
    t.last().resolve({ token: second, attempts: 3 });
    await expect(got).resolves.toBe(second);
    expect(t.events).toEqual([{ type: 'token.refreshed', expiresAt: second.expiresAt, attempts: 3, background: false }]);
  });

  test('a forced refresh while the token is due: token.refreshed too (it replaced a usable token), no background refresh beside it', async () => {
    const t = setup();
    await t.hold('a');
    t.advance(300_000);
    const got = t.source.get(true, 'a');
    expect(t.requests).toHaveLength(2);
    expect(t.last().context).toEqual({ avoid: 'a', rejected: true, background: false, held: 'a', failures: 0 });
    const second = t.token('b');
    t.last().resolve({ token: second, attempts: 1 });
    await expect(got).resolves.toBe(second);
    expect(t.events).toEqual([{ type: 'token.refreshed', expiresAt: second.expiresAt, attempts: 1, background: false }]);
  });

  test('refusing a token that is not the one at hand gives the one at hand, without a request', async () => {
    const t = setup();
    const first = await t.hold('a');
    await expect(t.source.get(true, 'an older token')).resolves.toBe(first);
    expect(t.requests).toHaveLength(1);
  });

  test('a token past its usable life is replaced as a new one (token.fetched), the old one held but not avoided', async () => {
    const t = setup();
    await t.hold('a');
    t.advance(540_000); // usable until expiry - 60 s
    const got = t.source.get(false, undefined);
    expect(t.requests).toHaveLength(2);
    expect(t.last().context).toEqual({ avoid: undefined, rejected: false, background: false, held: 'a', failures: 0 });
    const second = t.token('b');
    t.last().resolve({ token: second, attempts: 1 });
    await expect(got).resolves.toBe(second);
    expect(t.events).toEqual([{ type: 'token.fetched', expiresAt: second.expiresAt, attempts: 1 }]);
  });

  test('a short-lived token keeps a quarter of its life as margin, not the whole expiryMargin', async () => {
    const t = setup();
    const short = await t.hold('a', 100_000); // margin 25 s, usable for 75 s
    expect(t.source.health(t.now())).toStrictEqual({ tokenPresent: true, usableUntil: short.expiresAt - 25_000, refreshing: false });
    t.advance(74_999);
    expect(t.source.health(t.now()).tokenPresent).toBe(true);
    t.advance(1);
    expect(t.source.health(t.now()).tokenPresent).toBe(false);
  });
});

describe('failures: the error as it comes, a cooldown, the latched failure given again without a request', () => {
  test('an error that is not a TokenRequestError is wrapped (code, endpoint, cause), never passed on as it is', async () => {
    const t = setup();
    const got = t.source.get(false, undefined);
    const cause = new Error('socket hang up');
    t.last().reject(cause);
    const error = await got.then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ message: 'getting a token failed', code: 'ERR_TOKEN_RESPONSE_INVALID', tokenEndpoint: ENDPOINT, cause });
  });

  test('a TokenRequestError is passed on as it is; token.failed with its cooldown; later callers get it latched', async () => {
    const t = setup();
    const got = t.source.get(false, undefined);
    const refused = rejectedError();
    t.last().reject(refused);
    await expect(got).rejects.toBe(refused);
    expect(t.events).toEqual([{ type: 'token.failed', error: refused, background: false, cooldown: COOLDOWN }]);
    const failedAt = t.now();

    t.advance(999);
    await expect(t.source.get(false, undefined)).rejects.toBe(refused);
    expect(t.requests).toHaveLength(1);
    expect(t.events[1]).toEqual({ type: 'token.latched', error: refused, retryAt: failedAt + COOLDOWN });

    t.advance(1);
    const again = t.source.get(false, undefined);
    expect(t.requests).toHaveLength(2);
    expect(t.last().context.failures).toBe(1);
    t.last().reject(refused);
    await expect(again).rejects.toBe(refused);
    // the second failure in a row: twice the cooldown
    expect(t.events[2]).toEqual({ type: 'token.failed', error: refused, background: false, cooldown: 2 * COOLDOWN });
  });

  test('a wrapped error is latched like any other', async () => {
    const t = setup();
    const got = t.source.get(false, undefined);
    t.last().reject(new Error('socket hang up'));
    const wrapped = await got.then(() => undefined, (caught: unknown) => caught);
    t.events.length = 0;
    await expect(t.source.get(false, undefined)).rejects.toBe(wrapped);
    expect(t.events).toEqual([{ type: 'token.latched', error: wrapped, retryAt: expect.any(Number) }]);
  });

  test('a background refresh that fails: token.failed (background), token.served_stale, the token kept; no refresh while cooling down', async () => {
    const t = setup();
    const first = await t.hold('a');
    t.advance(270_000);
    await t.source.get(false, undefined);
    const refused = rejectedError();
    t.last().reject(refused);
    await t.flush();
    expect(t.events).toEqual([
      { type: 'token.refresh_started', expiresAt: first.expiresAt },
      { type: 'token.failed', error: refused, background: true, cooldown: COOLDOWN },
      { type: 'token.served_stale', expiresAt: first.expiresAt, error: refused },
    ]);
    t.events.length = 0;
    t.advance(999);
    await expect(t.source.get(false, undefined)).resolves.toBe(first);
    expect(t.requests).toHaveLength(2);
    expect(t.events).toEqual([]);
    t.advance(1);
    await expect(t.source.get(false, undefined)).resolves.toBe(first);
    expect(t.requests).toHaveLength(3);
    expect(t.events).toEqual([{ type: 'token.refresh_started', expiresAt: first.expiresAt }]);
    t.last().resolve({ token: t.token('b'), attempts: 1 });
    await t.flush();
  });

  test('a background refresh that fails after the token\'s usable life ended: no token.served_stale, nothing kept', async () => {
    const t = setup();
    const first = await t.hold('a');
    t.advance(270_000);
    await t.source.get(false, undefined);
    t.advance(270_000); // the refresh outlasts the token's usable life (540 s)
    const refused = rejectedError();
    t.last().reject(refused);
    await t.flush();
    expect(t.events).toEqual([
      { type: 'token.refresh_started', expiresAt: first.expiresAt },
      { type: 'token.failed', error: refused, background: true, cooldown: COOLDOWN },
    ]);
    await expect(t.source.get(false, undefined)).rejects.toBe(refused);
  });

  test('a forced refresh that fails rejects: the refused token is not served stale', async () => {
    const t = setup();
    await t.hold('a');
    const got = t.source.get(true, 'a');
    const refused = rejectedError();
    t.last().reject(refused);
    await expect(got).rejects.toBe(refused);
    expect(t.events).toEqual([{ type: 'token.failed', error: refused, background: false, cooldown: COOLDOWN }]);
  });

  test('a forced refresh of a due token that fails: rejects, and the refused token is not reported as served stale', async () => {
    const t = setup();
    await t.hold('a');
    t.advance(300_000);
    const got = t.source.get(true, 'a');
    const refused = rejectedError();
    t.last().reject(refused);
    await expect(got).rejects.toBe(refused);
    expect(t.events).toEqual([{ type: 'token.failed', error: refused, background: false, cooldown: COOLDOWN }]);
  });

  test('a refused token that the refresh in flight brings back again is not given back', async () => {
    const t = setup();
    const first = await t.hold('a');
    t.advance(270_000);
    await t.source.get(false, undefined); // starts the background refresh
    const refusing = t.source.get(true, 'a'); // joins it
    expect(t.requests).toHaveLength(2);
    t.last().resolve({ token: first, attempts: 0 }); // e.g. the shared cache still had it
    const error = await refusing.then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ message: 'no replacement for the refused token could be obtained', code: 'ERR_TOKEN_RESPONSE_INVALID', tokenEndpoint: ENDPOINT });
  });

  test('a refused token brought back by a request started for that caller is given (the layer below had no other)', async () => {
    const t = setup();
    const got = t.source.get(true, 'z');
    expect(t.last().context).toEqual({ avoid: 'z', rejected: true, background: false, held: undefined, failures: 0 });
    const same = t.token('z');
    t.last().resolve({ token: same, attempts: 0 });
    await expect(got).resolves.toBe(same);
  });

  test('after close: ERR_TOKEN_PROVIDER_CLOSED without a request; a closed error from below is no token.failed', async () => {
    const t = setup();
    const got = t.source.get(false, undefined);
    t.last().reject(closedError());
    await expect(got).rejects.toMatchObject({ code: 'ERR_TOKEN_PROVIDER_CLOSED' });
    expect(t.events).toEqual([]);
    t.lifecycle.close();
    t.advance(COOLDOWN);
    await expect(t.source.get(false, undefined)).rejects.toMatchObject({ code: 'ERR_TOKEN_PROVIDER_CLOSED' });
    expect(t.requests).toHaveLength(1);
  });

  test('a caller waits at most deadlineDuration; the request goes on and its token is given to the next caller', async () => {
    const t = setup({ deadlineDuration: 30 });
    const got = t.source.get(false, undefined);
    const error = await got.then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({
      code: 'ERR_TOKEN_TIMEOUT',
      tokenEndpoint: ENDPOINT,
      message: `no token from ${ENDPOINT} within deadlineDuration 30 ms (the request goes on; later callers get its token)`,
    });
    const late = t.token('late');
    t.last().resolve({ token: late, attempts: 1 });
    await t.flush();
    await expect(t.source.get(false, undefined)).resolves.toBe(late);
    expect(t.requests).toHaveLength(1);
  });

  test('drop() forgets the token at hand: the next caller waits for a new one', async () => {
    const t = setup();
    await t.hold('a');
    t.source.drop();
    void t.source.get(false, undefined);
    expect(t.requests).toHaveLength(2);
    t.last().resolve({ token: t.token('b'), attempts: 1 });
    await t.flush();
  });
});

describe('replace(): a new token for one a downstream refused, at most once per cooldown for a replacement refused again', () => {
  test('a refused replacement is not replaced again within failureCooldownDuration of when it was obtained', async () => {
    const t = setup();
    await t.hold('a');
    const replacing = t.source.replace('a');
    const b = t.token('b');
    t.last().resolve({ token: b, attempts: 1 });
    await expect(replacing).resolves.toBe(b);

    t.advance(999);
    await expect(t.source.replace('b')).resolves.toBeUndefined();
    expect(t.requests).toHaveLength(2);

    t.advance(1);
    const again = t.source.replace('b');
    expect(t.requests).toHaveLength(3);
    const c = t.token('c');
    t.last().resolve({ token: c, attempts: 1 });
    await expect(again).resolves.toBe(c);
    // the new replacement is the one now held off for a cooldown
    await expect(t.source.replace('c')).resolves.toBeUndefined();
    expect(t.requests).toHaveLength(3);
  });

  test('the replacement keeps the time it was obtained: giving it again for another refused token does not restart its cooldown', async () => {
    const t = setup();
    await t.hold('a');
    const replacing = t.source.replace('a');
    t.last().resolve({ token: t.token('b'), attempts: 1 });
    await replacing;
    t.advance(500);
    await expect(t.source.replace('an older token')).resolves.toMatchObject({ accessToken: 'b' });
    t.advance(500);
    const again = t.source.replace('b');
    expect(t.requests).toHaveLength(3);
    t.last().resolve({ token: t.token('c'), attempts: 1 });
    await expect(again).resolves.toMatchObject({ accessToken: 'c' });
  });

  test('a refused token is not a replacement: replacing it when nothing else can be had gives undefined', async () => {
    const t = setup();
    const replacing = t.source.replace('z');
    t.last().resolve({ token: t.token('z'), attempts: 0 });
    await expect(replacing).resolves.toBeUndefined();
    // and a different refused token is replaced at once (no replacement was recorded)
    const other = t.source.replace('z');
    expect(t.requests).toHaveLength(2);
    t.last().resolve({ token: t.token('y'), attempts: 1 });
    await expect(other).resolves.toMatchObject({ accessToken: 'y' });
  });
});

describe('health(): derived from the state, nothing stored', () => {
  test('nothing yet; a request in flight; a token; a failure and its latch; the token past its usable life', async () => {
    const t = setup();
    expect(t.source.health(t.now())).toStrictEqual({ tokenPresent: false, refreshing: false });
    const got = t.source.get(false, undefined);
    expect(t.source.health(t.now())).toStrictEqual({ tokenPresent: false, refreshing: true });
    const first = t.token('a');
    t.last().resolve({ token: first, attempts: 1 });
    await got;
    expect(t.source.health(t.now())).toStrictEqual({ tokenPresent: true, usableUntil: first.expiresAt - MARGIN, refreshing: false });

    const refused = rejectedError();
    const forced = t.source.get(true, undefined);
    t.last().reject(refused);
    await expect(forced).rejects.toBe(refused);
    const failedAt = t.now();
    expect(t.source.health(t.now())).toStrictEqual({
      tokenPresent: true, usableUntil: first.expiresAt - MARGIN, refreshing: false,
      failure: { error: refused, at: failedAt }, latchedUntil: failedAt + COOLDOWN,
    });
    t.advance(COOLDOWN);
    expect(t.source.health(t.now())).toStrictEqual({
      tokenPresent: true, usableUntil: first.expiresAt - MARGIN, refreshing: false, failure: { error: refused, at: failedAt },
    });
    t.advance(540_000);
    expect(t.source.health(t.now())).toStrictEqual({ tokenPresent: false, refreshing: false, failure: { error: refused, at: failedAt } });
  });
});
