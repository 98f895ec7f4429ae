/** MemoryTokenCache: the default store is bounded (LRU) and honours TTLs. */
import { MemoryTokenCache } from 'express-m2m';

const token = (name: string) => ({ accessToken: name, tokenType: 'Bearer', obtainedAt: 0, expiresAt: 1_000_000 });

describe('bounded LRU: never more than maxEntries, the least recently used goes first', () => {
  it('evicts the least recently used entry', async () => {
    const cache = new MemoryTokenCache({ maxEntries: 3 });
    for (const name of ['a', 'b', 'c']) await cache.set(name, token(name), 60_000);
    await cache.get('a'); // a is now the most recently used
    await cache.set('d', token('d'), 60_000);
    expect(cache.size).toBe(3);
    expect(await cache.get('b')).toBeUndefined();
    expect((await cache.get('a'))?.accessToken).toBe('a');
    expect((await cache.get('d'))?.accessToken).toBe('d');
  });

  it('stays at maxEntries under 10,000 distinct keys', async () => {
    const cache = new MemoryTokenCache({ maxEntries: 100 });
    for (let i = 0; i < 10_000; i += 1) await cache.set(`k${i}`, token(`t${i}`), 60_000);
    expect(cache.size).toBe(100);
  });

  it('rejects a bad maxEntries, naming it', () => {
    expect(() => new MemoryTokenCache({ maxEntries: 0 })).toThrow(/"maxEntries"/);
  });
});

describe('TTL: an entry is gone once its TTL has passed', () => {
  it('serves until the TTL, not after; delete removes', async () => {
    let clock = 1000;
    const cache = new MemoryTokenCache({ now: () => clock });
    await cache.set('k', token('t'), 500);
    clock += 499;
    expect(await cache.get('k')).toBeDefined();
    clock += 1;
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('k', token('t'), 500);
    await cache.delete('k');
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('k', token('t'), 0);
    expect(await cache.get('k')).toBeUndefined();
  });
});
