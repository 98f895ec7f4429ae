/**
 * A shared cache that fails (any TokenCache, e.g. Redis going away mid-flight) never breaks the
 * provider: it works from memory, says so once (`cache.fallback`), leaves the cache alone for
 * `cacheRetryDuration`, then uses it again (`cache.recovered`). Fake clock; the store is a real
 * in-memory TokenCache that can be switched off.
 */
import { clientCredentials, MemoryTokenCache } from 'express-m2m';
import type { TokenSet, OutboundEvent } from 'express-m2m';
import type { TokenCache } from 'express-m2m/extend';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';

const AUDIENCE = 'https://billing.example.test';
let issuer: LocalIssuer;
let clock = Date.now();
const now = () => clock;

/** A memory store that throws while `down` is true, and counts the calls it gets. */
class SwitchableCache implements TokenCache {
  down = false;
  calls = 0;
  lastKey: string | undefined;
  readonly inner = new MemoryTokenCache({ now });
  private check(): void {
    this.calls += 1;
    if (this.down) throw new Error('store unreachable');
  }
  async get(key: string) {
    this.check();
    return this.inner.get(key);
  }
  async set(key: string, token: TokenSet, ttl: number) {
    this.check();
    this.lastKey = key;
    return this.inner.set(key, token, ttl);
  }
  async delete(key: string) {
    this.check();
    return this.inner.delete(key);
  }
}

beforeAll(async () => {
  issuer = await createLocalIssuer({ now });
});
afterAll(async () => {
  await issuer.close();
});

describe('cache.fallback / cache.recovered: a failing shared cache is survived and retried', () => {
  it('works from memory while the store is down, reports it once, and goes back to the store later', async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] });
    const cache = new SwitchableCache();
    cache.down = true;
    const events: OutboundEvent[] = [];
    const provider = clientCredentials({
      tokenEndpoint: issuer.tokenEndpoint,
      clientId,
      clientSecret: clientSecret as string,
      audience: AUDIENCE,
      cache,
      now,
      onEvent: (event) => events.push(event),
    });
    const tokens = await Promise.all(Array.from({ length: 100 }, () => provider.getToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(issuer.counts.token).toBe(1);
    expect(events.filter((e) => e.type === 'cache.fallback')).toHaveLength(1);
    expect(events.find((e) => e.type === 'cache.fallback')).toMatchObject({ error: { message: 'store unreachable' } });

    // while falling back, a forced refresh does not touch the store
    const callsBefore = cache.calls;
    await provider.getToken({ forceRefresh: true });
    expect(cache.calls).toBe(callsBefore);

    // after cacheRetryDuration (10 s) the store is used again, and its recovery is reported
    cache.down = false;
    clock += 10_000;
    const fresh = await provider.getToken({ forceRefresh: true });
    expect(events.filter((e) => e.type === 'cache.recovered')).toHaveLength(1);
    expect((await cache.inner.get(cache.lastKey as string))?.accessToken).toBe(fresh);
    await provider.close();
  });
});
