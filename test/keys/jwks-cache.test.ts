/**
 * The remote JWKS policy: one cache, single-flight fetches, unknown-kid cooldown and negative
 * cache, rotation, Cache-Control within bounds, refresh ahead of expiry. Asserted with the local
 * issuer's JWKS hit counter and a fake clock.
 */
import { KeyObject } from 'node:crypto';
import { InvalidTokenError, KEY_ERROR_CODES, KeySourceUnavailableError, type JwksOptions } from 'express-m2m';
import { createKeySource, type KeySource } from 'express-m2m/extend';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { eventLog, fakeClock, settle } from './support.js';

let issuer: LocalIssuer;
const sources: KeySource[] = [];

beforeEach(async () => {
  issuer = await createLocalIssuer({ alg: 'RS256' });
});
afterEach(async () => {
  for (const source of sources.splice(0)) source.close?.();
  await issuer.close();
});

function jwksSource(jwks: JwksOptions = {}, uri: string = issuer.jwksUri) {
  const clock = fakeClock();
  const events = eventLog();
  const source = createKeySource({ jwksUri: uri, jwks, now: clock.now, onEvent: events.onEvent });
  sources.push(source);
  return { source, clock, events };
}

/** Serves the issuer's current JWKS with these response headers. */
function serveJwksWithHeaders(headers: Record<string, string>): void {
  issuer.setFault('jwks', { body: JSON.stringify(issuer.publicJwks()), headers });
}

describe('parsed keys are cached: N requests, one JWKS fetch, no re-import', () => {
  test('after the first fetch getKey answers synchronously with the same KeyObject', async () => {
    const { source } = jwksSource();
    const kid = issuer.currentKid();
    const first = await source.getKey({ alg: 'RS256', kid });
    for (let i = 0; i < 1000; i += 1) {
      const again = source.getKey({ alg: 'RS256', kid });
      expect(again).toBe(first);
    }
    expect(first).toBeInstanceOf(KeyObject);
    expect(issuer.counts.jwks).toBe(1);
  });

  test('jwks-rsa keeps no cache of its own: a second source fetches again', async () => {
    await jwksSource().source.warmUp();
    await jwksSource().source.warmUp();
    expect(issuer.counts.jwks).toBe(2);
  });
});

describe('single-flight: concurrent fetches are coalesced', () => {
  test('100 concurrent cold getKey calls make one JWKS request', async () => {
    const { source } = jwksSource();
    const kid = issuer.currentKid();
    const keys = await Promise.all(Array.from({ length: 100 }, () => source.getKey({ alg: 'RS256', kid })));
    expect(issuer.counts.jwks).toBe(1);
    expect(new Set(keys).size).toBe(1);
  });

  test('warmUp and getKey during a fetch share it', async () => {
    issuer.setFault('jwks', { delay: 50, times: 1 });
    const { source } = jwksSource();
    const results = await Promise.all([source.warmUp(), source.getKey({ alg: 'RS256', kid: issuer.currentKid() }), source.warmUp()]);
    expect(results[1]).toBeInstanceOf(KeyObject);
    expect(issuer.counts.jwks).toBe(1);
  });
});

describe('an unknown kid triggers at most one refetch per refetchInterval (default 5 s)', () => {
  test('a flood of made-up kids costs one JWKS request per interval', async () => {
    const { source, clock, events } = jwksSource();
    await source.warmUp();
    clock.advance(5000);
    const first = await settle(source, { alg: 'RS256', kid: 'made-up-0' });
    expect(first.error).toBeInstanceOf(InvalidTokenError);
    expect(first.error?.code).toBe(KEY_ERROR_CODES.noMatchingKey);
    expect(issuer.counts.jwks).toBe(2);
    for (let i = 1; i <= 1000; i += 1) {
      expect(() => source.getKey({ alg: 'RS256', kid: `made-up-${i}` })).toThrow(InvalidTokenError);
    }
    expect(issuer.counts.jwks).toBe(2);
    clock.advance(4_999);
    expect(() => source.getKey({ alg: 'RS256', kid: 'made-up-x' })).toThrow(InvalidTokenError);
    expect(issuer.counts.jwks).toBe(2);
    clock.advance(1);
    await settle(source, { alg: 'RS256', kid: 'made-up-y' });
    expect(issuer.counts.jwks).toBe(3);
    expect(events.of('keys.unknown_kid').filter((event) => event.refetched)).toHaveLength(2);
    expect(events.of('keys.unknown_kid').filter((event) => !event.refetched)).toHaveLength(1001);
  });

  test('concurrent unknown kids share the one refetch', async () => {
    const { source, clock } = jwksSource();
    await source.warmUp();
    clock.advance(30_000);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => settle(source, { alg: 'RS256', kid: `ghost-${i}` })));
    expect(results.every((result) => result.error?.code === KEY_ERROR_CODES.noMatchingKey)).toBe(true);
    expect(issuer.counts.jwks).toBe(2);
  });

  test('the description names the kid, truncated and sanitised, and nothing else', async () => {
    const { source } = jwksSource();
    await source.warmUp();
    const kid = `${'k'.repeat(100)}\n"x"`;
    const { error } = await settle(source, { alg: 'RS256', kid });
    expect(error?.message).toBe(`no key in the issuer's JWKS matches kid '${'k'.repeat(40)}...'`);
    expect(error?.headers?.['WWW-Authenticate']).toContain('error="invalid_token"');
  });
});

describe('unknown kids are negatively cached for the refetch interval', () => {
  test('a kid a fetch did not contain is rejected without a refetch for refetchInterval, then checked again', async () => {
    const { source, clock } = jwksSource({ cacheMaxAge: 600_000 });
    await source.warmUp();
    clock.advance(5000);
    await settle(source, { alg: 'RS256', kid: 'ghost' });
    expect(issuer.counts.jwks).toBe(2);
    // Within the interval the same kid is known to be absent, synchronously, and costs nothing.
    clock.advance(4999);
    expect(() => source.getKey({ alg: 'RS256', kid: 'ghost' })).toThrow(InvalidTokenError);
    expect(issuer.counts.jwks).toBe(2);
    // After it, the issuer is asked again (it may have published the key since).
    clock.advance(1);
    await settle(source, { alg: 'RS256', kid: 'ghost' });
    expect(issuer.counts.jwks).toBe(3);
  });

  test('the negative cache is bounded (maxUnknownKids): the oldest entry goes first', async () => {
    const { source, clock } = jwksSource({ maxUnknownKids: 2, refetchInterval: 60_000, cacheMaxAge: 30_000, refreshAheadDuration: 0 });
    await source.warmUp();
    clock.advance(60_000);
    // Three unknown kids share one refetch; each is remembered, but only two fit: a goes first.
    const results = await Promise.all(['a', 'b', 'c'].map((kid) => settle(source, { alg: 'RS256', kid })));
    expect(results.map((result) => result.error?.code)).toEqual(Array(3).fill(KEY_ERROR_CODES.noMatchingKey));
    expect(issuer.counts.jwks).toBe(2);
    // During an outage a remembered kid is still a 401 (the issuer said it is not there), a
    // forgotten one a 503 (the issuer cannot be asked): that tells which ones were kept.
    issuer.setFault('jwks', { status: 500 });
    clock.advance(30_000); // the key set expires; the kids are remembered for 30 s more
    await expect(source.warmUp()).rejects.toThrow();
    expect(() => source.getKey({ alg: 'RS256', kid: 'c' })).toThrow(expect.objectContaining({ code: KEY_ERROR_CODES.noMatchingKey }));
    expect(() => source.getKey({ alg: 'RS256', kid: 'b' })).toThrow(expect.objectContaining({ code: KEY_ERROR_CODES.noMatchingKey }));
    expect(() => source.getKey({ alg: 'RS256', kid: 'a' })).toThrow(KeySourceUnavailableError);
  });

  test('a kid the issuer publishes after a fetch that missed it is found within the refetch interval', async () => {
    const { source, clock } = jwksSource({ cacheMaxAge: 600_000 });
    await source.warmUp();
    clock.advance(5000);
    expect((await settle(source, { alg: 'RS256', kid: 'later' })).error?.code).toBe(KEY_ERROR_CODES.noMatchingKey);
    const [current] = issuer.publicJwks().keys;
    issuer.setFault('jwks', { body: JSON.stringify({ keys: [current, { ...current, kid: 'later' }] }), headers: {} });
    clock.advance(4000);
    expect(() => source.getKey({ alg: 'RS256', kid: 'later' })).toThrow(InvalidTokenError);
    expect(issuer.counts.jwks).toBe(2);
    clock.advance(1000);
    expect(await source.getKey({ alg: 'RS256', kid: 'later' })).toBeInstanceOf(KeyObject);
    expect(issuer.counts.jwks).toBe(3);
  });
});

describe('key rotation is picked up', () => {
  test('a new kid after rotateKeys() is refetched and found; generation changes', async () => {
    const { source, clock } = jwksSource();
    const oldKid = issuer.currentKid();
    await source.getKey({ alg: 'RS256', kid: oldKid });
    const before = source.generation;
    expect(before).toBeGreaterThan(0);
    const newKid = issuer.rotateKeys();
    expect(newKid).not.toBe(oldKid);
    clock.advance(30_000);
    const key = await source.getKey({ alg: 'RS256', kid: newKid });
    expect(key).toBeInstanceOf(KeyObject);
    expect(issuer.counts.jwks).toBe(2);
    expect(source.generation).toBeGreaterThan(before);
    // The previous key is still served by the issuer, so still usable.
    expect(source.getKey({ alg: 'RS256', kid: oldKid })).toBeInstanceOf(KeyObject);
  });

  test('within the cooldown after a fetch, a brand-new kid is rejected (and costs no request)', async () => {
    const { source } = jwksSource();
    await source.warmUp();
    const newKid = issuer.rotateKeys();
    expect((await settle(source, { alg: 'RS256', kid: newKid })).error?.code).toBe(KEY_ERROR_CODES.noMatchingKey);
    expect(issuer.counts.jwks).toBe(1);
  });

  test('generation stays the same when a refetch brings the same keys', async () => {
    const { source, clock } = jwksSource();
    await source.warmUp();
    const generation = source.generation;
    clock.advance(30_000);
    await settle(source, { alg: 'RS256', kid: 'ghost' });
    expect(issuer.counts.jwks).toBe(2);
    expect(source.generation).toBe(generation);
  });

  test('a key removed from the JWKS stops working at the next refresh', async () => {
    const { source, clock } = jwksSource({ cacheMaxAge: 300_000 });
    const kid = issuer.currentKid();
    issuer.addKey('ES256');
    await source.getKey({ alg: 'RS256', kid });
    const generation = source.generation;
    issuer.rotateKeys({ keepPrevious: false });
    clock.advance(300_000);
    expect((await settle(source, { alg: 'RS256', kid })).error?.code).toBe(KEY_ERROR_CODES.noMatchingKey);
    expect(source.generation).toBe(generation + 1);
  });
});

describe('Cache-Control: max-age of the JWKS response is honoured within bounds', () => {
  async function lifetimeOf(headers: Record<string, string> | undefined, jwks: JwksOptions = {}): Promise<number> {
    if (headers !== undefined) serveJwksWithHeaders(headers);
    const { source, clock } = jwksSource({ refreshAheadDuration: 0, ...jwks });
    const kid = issuer.currentKid();
    await source.getKey({ alg: 'RS256', kid });
    issuer.resetCounts();
    // Find the first second at which a request refetches (expired, no outage: it waits).
    const steps = [5, 59, 60, 119, 120, 599, 600, 7199, 7200, 86_399, 86_400, 86_401];
    let last = 0;
    for (const seconds of steps) {
      clock.advance(seconds * 1000 - last);
      last = seconds * 1000;
      const result = source.getKey({ alg: 'RS256', kid });
      if (!(result instanceof KeyObject)) {
        await result;
        expect(issuer.counts.jwks).toBe(1);
        return seconds;
      }
    }
    return Number.POSITIVE_INFINITY;
  }

  test('max-age=120 -> refreshed after 120 s', async () => {
    expect(await lifetimeOf({ 'cache-control': 'public, max-age=120' })).toBe(120);
  });

  test('max-age minus Age', async () => {
    expect(await lifetimeOf({ 'cache-control': 'max-age=7260', age: '60' })).toBe(7200);
  });

  test('no Cache-Control -> cacheMaxAge (default 10 min)', async () => {
    expect(await lifetimeOf(undefined)).toBe(600);
    expect(await lifetimeOf(undefined, { cacheMaxAge: 120_000 })).toBe(120);
  });

  test('max-age below minCacheMaxAge (default 60 s), no-cache and no-store -> the minimum', async () => {
    expect(await lifetimeOf({ 'cache-control': 'max-age=5' })).toBe(60);
    expect(await lifetimeOf({ 'cache-control': 'no-store' })).toBe(60);
    expect(await lifetimeOf({ 'cache-control': 'no-cache' }, { minCacheMaxAge: 5000 })).toBe(5);
  });

  test('max-age above maxCacheMaxAge (default 24 h) -> the maximum', async () => {
    expect(await lifetimeOf({ 'cache-control': 'max-age=31536000' })).toBe(86_400);
    expect(await lifetimeOf({ 'cache-control': 'max-age=31536000' }, { maxCacheMaxAge: 7_200_000 })).toBe(7200);
  });
});

describe('keys are refreshed ahead of their cache lifetime in the background', () => {
  test('inside the refresh-ahead window the request gets the key at once and one background fetch starts', async () => {
    const { source, clock, events } = jwksSource({ cacheMaxAge: 600_000, refreshAheadDuration: 60_000 });
    const kid = issuer.currentKid();
    const key = await source.getKey({ alg: 'RS256', kid });
    clock.advance(539_999);
    expect(source.getKey({ alg: 'RS256', kid })).toBe(key);
    expect(events.of('keys.fetched')).toHaveLength(1);
    clock.advance(1);
    for (let i = 0; i < 50; i += 1) expect(source.getKey({ alg: 'RS256', kid })).toBe(key);
    await source.warmUp(); // joins the background fetch
    expect(issuer.counts.jwks).toBe(2);
    expect(events.of('keys.fetched')).toHaveLength(2);
    // Fresh again: the next refresh is a full lifetime away.
    clock.advance(539_000);
    expect(source.getKey({ alg: 'RS256', kid })).toBe(key);
    expect(issuer.counts.jwks).toBe(2);
  });

  test('refresh-ahead is at most half the lifetime', async () => {
    serveJwksWithHeaders({ 'cache-control': 'max-age=60' });
    const { source, clock } = jwksSource({ refreshAheadDuration: 3_600_000 });
    const kid = issuer.currentKid();
    await source.getKey({ alg: 'RS256', kid });
    clock.advance(29_999);
    source.getKey({ alg: 'RS256', kid });
    expect(issuer.counts.jwks).toBe(1);
    clock.advance(1);
    source.getKey({ alg: 'RS256', kid });
    await source.warmUp();
    expect(issuer.counts.jwks).toBe(2);
  });

  test('after close() no background refresh starts', async () => {
    const { source, clock } = jwksSource();
    const kid = issuer.currentKid();
    await source.getKey({ alg: 'RS256', kid });
    source.close?.();
    clock.advance(550_000);
    expect(source.getKey({ alg: 'RS256', kid })).toBeInstanceOf(KeyObject);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(issuer.counts.jwks).toBe(1);
  });
});

describe('a token without kid', () => {
  test('uses the only key that fits its alg', async () => {
    await issuer.close();
    issuer = await createLocalIssuer({ alg: 'ES256' });
    issuer.addKey('RS256');
    const { source } = jwksSource();
    const key = await source.getKey({ alg: 'ES256' });
    expect(key.asymmetricKeyType).toBe('ec');
  });

  test('is rejected when several keys fit its alg', async () => {
    issuer.addKey('RS256');
    const { source } = jwksSource();
    const { error } = await settle(source, { alg: 'RS256' });
    expect(error?.code).toBe(KEY_ERROR_CODES.multipleMatchingKeys);
    expect(error?.message).toBe("the token has no kid and several keys in the issuer's JWKS fit alg RS256");
  });

  test('is rejected when no key fits its alg', async () => {
    const { source } = jwksSource();
    const { error } = await settle(source, { alg: 'ES512' });
    expect(error?.code).toBe(KEY_ERROR_CODES.noMatchingKey);
    expect(issuer.counts.jwks).toBe(1);
  });
});
