/**
 * The verified-token cache itself (src/inbound/verifiers/jwt/verified-token-cache.ts), the rules
 * the mutation run (docs/mutation-testing.md) found unpinned by verified-token-cache.test.ts,
 * which checks the cache through the verifier: the exact entry and byte bounds, which entry CLOCK
 * evicts (also once its hand wraps around), a re-stored token counted once, an interval already
 * over never stored, the flush callback only for a non-empty cache, and the validity interval's
 * boundaries against the whole-second checks it stands for.
 */
import { createHash } from 'node:crypto';
import { entryBytes, tokenHash, validityInterval, VerifiedTokenCache } from '../../../src/inbound/verifiers/jwt/verified-token-cache.js';
import type { VerifiedToken } from '../../../src/inbound/verified-token.js';

const ALWAYS = { validFrom: 0, validUntil: Number.POSITIVE_INFINITY };
const NOW = 1_000;
const GENERATION = 1;

/** A cached value: only its token matters to the cache (its size). */
const value = (token: string) => ({ token }) as unknown as VerifiedToken;

function cache(maxEntries: number, maxBytes = Number.MAX_SAFE_INTEGER) {
  const flushed: number[] = [];
  const store = new VerifiedTokenCache(maxEntries, maxBytes, (entries) => flushed.push(entries));
  const put = (name: string, token = name) => store.set(name, value(token), ALWAYS, NOW, GENERATION);
  const has = (name: string) => store.get(name, NOW, GENERATION) !== undefined;
  /** Which of `names` are held (reading marks them as hit: read it last). */
  const held = (names: string[]) => names.filter(has);
  return { store, put, has, held, flushed };
}

describe('entries: at most maxEntries, the first stored and never hit evicted first', () => {
  test('maxEntries 2: the third evicts the first, the second stays', () => {
    const c = cache(2);
    for (const name of ['a', 'b', 'c']) c.put(name);
    expect(c.held(['a', 'b', 'c'])).toEqual(['b', 'c']);
  });

  test('the hand wraps around the ring: the fourth and fifth evict the second and third, in order', () => {
    const c = cache(3);
    for (const name of ['a', 'b', 'c', 'd']) c.put(name);
    expect(c.has('a')).toBe(false);
    c.put('e');
    c.put('f');
    // After a wrap, the hand is back at the first slot (now d's): d was never hit, so it goes next.
    c.put('g');
    expect(c.held(['b', 'c', 'd', 'e', 'f', 'g'])).toEqual(['e', 'f', 'g']);
  });

  test('a hit spares an entry once (the second chance)', () => {
    const c = cache(2);
    c.put('a');
    c.put('b');
    expect(c.has('a')).toBe(true); // a is referenced
    c.put('c'); // the hand passes a (clearing its mark) and evicts b
    expect(c.held(['a', 'b', 'c'])).toEqual(['a', 'c']);
  });

  test('storing the same token again replaces its entry: it is held once, and counts once', () => {
    const c = cache(2);
    c.put('a');
    c.put('a');
    c.put('b');
    expect(c.held(['a', 'b'])).toEqual(['a', 'b']);
  });
});

describe('the key: tokenHash', () => {
  test('the whole SHA-256 digest of the token, in an encoding that loses nothing (base64)', () => {
    // a lossy text encoding (a digest read as UTF-8 turns every invalid byte into U+FFFD) would
    // let two tokens share a key, and so one token's verification
    for (const token of ['a', 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln', 'x'.repeat(1000)]) {
      expect(Buffer.from(tokenHash(token), 'base64')).toEqual(createHash('sha256').update(token).digest());
    }
  });
});

describe('bytes: entryBytes per entry, up to maxBytes inclusive', () => {
  const token = (char: string) => char.repeat(300);
  const perEntry = entryBytes(token('a'));

  test('an entry is estimated at the token twice over plus a fixed overhead: more for a longer token, by two bytes per character', () => {
    expect(entryBytes(token('a') + 'x') - perEntry).toBe(2);
    expect(perEntry).toBeGreaterThan(2 * token('a').length);
  });

  test('two entries fit a budget of exactly two; the third evicts the first', () => {
    const c = cache(100, 2 * perEntry);
    c.put('a', token('a'));
    c.put('b', token('b'));
    expect(c.held(['a', 'b'])).toEqual(['a', 'b']);
    const d = cache(100, 2 * perEntry);
    for (const name of ['a', 'b', 'c']) d.put(name, token(name));
    expect(d.held(['a', 'b', 'c'])).toEqual(['b', 'c']);
  });

  test('a budget one byte short of two entries holds one', () => {
    const c = cache(100, 2 * perEntry - 1);
    c.put('a', token('a'));
    c.put('b', token('b'));
    expect(c.held(['a', 'b'])).toEqual(['b']);
  });

  test('a token of exactly maxBytes is stored; one byte more is not', () => {
    const exact = cache(100, perEntry);
    exact.put('a', token('a'));
    expect(exact.has('a')).toBe(true);
    const short = cache(100, perEntry - 1);
    short.put('a', token('a'));
    expect(short.has('a')).toBe(false);
  });

  test('a token stored again is counted once against the budget', () => {
    const c = cache(100, 2 * perEntry);
    c.put('a', token('a'));
    c.put('a', token('a'));
    c.put('b', token('b'));
    expect(c.held(['a', 'b'])).toEqual(['a', 'b']);
  });

  test('eviction walks past a slot an expired entry freed', () => {
    const c = cache(100, 2 * perEntry);
    c.store.set('a', value(token('a')), { validFrom: 0, validUntil: NOW + 10 }, NOW, GENERATION);
    c.put('b', token('b'));
    expect(c.store.get('a', NOW + 10, GENERATION)).toBeUndefined(); // expired: dropped, its slot (under the hand) freed
    c.put('c', token('c').repeat(2)); // b and c exceed the budget: the hand passes the free slot and evicts b
    expect(c.held(['a', 'b', 'c'])).toEqual(['c']);
  });

  test('after a generation change the budget is whole again', () => {
    const c = cache(100, 2 * perEntry);
    c.put('a', token('a'));
    c.put('b', token('b'));
    c.store.set('c', value(token('c')), ALWAYS, NOW, GENERATION + 1);
    c.store.set('d', value(token('d')), ALWAYS, NOW, GENERATION + 1);
    expect(['c', 'd'].filter((name) => c.store.get(name, NOW, GENERATION + 1) !== undefined)).toEqual(['c', 'd']);
  });
});

describe('times', () => {
  test('an interval already over at store time is not stored; one that ends a millisecond later is, and is served until then', () => {
    const c = cache(10);
    c.store.set('over', value('over'), { validFrom: 0, validUntil: NOW }, NOW, GENERATION);
    expect(c.store.get('over', NOW - 1, GENERATION)).toBeUndefined();
    c.store.set('later', value('later'), { validFrom: 0, validUntil: NOW + 1 }, NOW, GENERATION);
    expect(c.store.get('later', NOW, GENERATION)).toBeDefined();
    expect(c.store.get('later', NOW + 1, GENERATION)).toBeUndefined();
  });

  test('validityInterval: inside the interval exactly when the whole-second checks pass', () => {
    const windows = [
      { notBefore: 100, expiresBefore: 200, maxAgeUntil: 150 },
      { notBefore: 100.4, expiresBefore: 199.6, maxAgeUntil: 150.5 },
      { notBefore: 100, expiresBefore: 180, maxAgeUntil: 1e9 },
    ];
    for (const window of windows) {
      const { validFrom, validUntil } = validityInterval(window, Number.POSITIVE_INFINITY);
      for (let ms = 98_000; ms <= 202_000; ms += 250) {
        const seconds = Math.floor(ms / 1000);
        const checksPass = seconds >= window.notBefore && seconds < window.expiresBefore && seconds <= window.maxAgeUntil;
        expect({ ms, window, inside: ms >= validFrom && ms < validUntil }).toEqual({ ms, window, inside: checksPass });
      }
    }
  });

  test('validityInterval: capped at freshUntil', () => {
    expect(validityInterval({ notBefore: 0, expiresBefore: 1e9, maxAgeUntil: 1e9 }, 12_345).validUntil).toBe(12_345);
  });
});

describe('the flush callback', () => {
  test('told how many entries a generation change dropped; not called when there were none', () => {
    const c = cache(10);
    c.store.get('x', NOW, GENERATION); // adopts the first generation: nothing to drop
    c.store.set('a', value('a'), ALWAYS, NOW, GENERATION + 1); // another generation, still empty
    expect(c.flushed).toEqual([]);
    c.store.set('b', value('b'), ALWAYS, NOW, GENERATION + 1);
    c.store.get('a', NOW, GENERATION + 2);
    expect(c.flushed).toEqual([2]);
    c.store.get('a', NOW, GENERATION + 3);
    expect(c.flushed).toEqual([2]);
  });
});
