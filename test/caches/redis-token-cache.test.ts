/**
 * The Redis token cache against the real Redis server (REDIS_URL): one token for N processes,
 * keys without secrets, encrypted values, TTL before expiry, an owner-only lock, a bounded wait,
 * and a fallback to memory when Redis is down.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { clientCredentials } from 'express-m2m';
import type { OutboundEvent, TokenProvider } from 'express-m2m';
import { RedisTokenCache, redisTokenCache } from 'express-m2m/redis';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';
import { runChildren } from './redis-children.js';
import { describeRedis, REDIS_URL } from './redis-support.js';

const AUDIENCE = 'https://billing.example.test';
const RUN_PREFIX = `express-m2m-test:${process.pid}:${randomUUID()}:`;
let issuer: LocalIssuer;
let clientId: string;
let clientSecret: string;
let redis: Redis;
const closers: (() => Promise<void>)[] = [];
let testNumber = 0;
let prefix: string;

function cacheFor(options: Partial<ConstructorParameters<typeof RedisTokenCache>[0]> = {}): RedisTokenCache {
  const cache = redisTokenCache({ url: REDIS_URL, keyPrefix: prefix, ...options });
  closers.push(() => cache.close());
  return cache;
}

function providerWith(cache: RedisTokenCache, options: Partial<Parameters<typeof clientCredentials>[0]> = {}) {
  const events: OutboundEvent[] = [];
  const provider: TokenProvider = clientCredentials({
    tokenEndpoint: issuer.tokenEndpoint,
    clientId,
    clientSecret,
    audience: AUDIENCE,
    cache,
    onEvent: (event) => events.push(event),
    ...options,
  });
  closers.push(() => provider.close());
  return { provider, events };
}

async function storedKeys(): Promise<string[]> {
  return (await redis.keys(`${prefix}*`)).sort();
}

describeRedis('Redis token cache (REDIS_URL)', () => {
  beforeAll(async () => {
    issuer = await createLocalIssuer();
    ({ clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] }) as { clientId: string; clientSecret: string });
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await redis.ping();
  });
  afterAll(async () => {
    await Promise.all(closers.map((close) => close()));
    const leftovers = await redis.keys(`${RUN_PREFIX}*`);
    if (leftovers.length > 0) await redis.del(...leftovers);
    redis.disconnect();
    await issuer.close();
  });
  beforeEach(() => {
    issuer.clearFaults();
    issuer.resetCounts();
    testNumber += 1;
    prefix = `${RUN_PREFIX}${testNumber}:`;
  });

  describe('cross-process single-flight: 4 processes on a cold shared cache make 1 token request', () => {
    it('4 child processes x 50 concurrent getToken() -> exactly 1 request, one shared token', async () => {
      const config = { tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, redisUrl: REDIS_URL, keyPrefix: prefix };
      // a delay keeps the first request in flight while the others look
      const results = await runChildren(4, config, () => issuer.setFault('token', { delay: 50 }));
      expect(issuer.counts.token).toBe(1);
      const tokens = new Set(results.flatMap((r) => r.tokens));
      expect(tokens.size).toBe(1);
      expect(results.filter((r) => r.events.includes('token.fetched'))).toHaveLength(1);
      expect(results.filter((r) => r.events.includes('token.cache_hit'))).toHaveLength(3);
      expect(results.flatMap((r) => r.events)).not.toContain('cache.fallback');
    }, 60_000);
  });

  describe('keys never contain the secret; values live until before expiry', () => {
    it('stores one hashed key with a PX TTL that ends before the token expires', async () => {
      const { provider } = providerWith(cacheFor());
      const set = await provider.getTokenSet();
      const keys = await storedKeys();
      expect(keys).toHaveLength(1); // the lock was released
      const key = keys[0] as string;
      expect(key).toMatch(new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[A-Za-z0-9_-]{43}$`));
      for (const part of [clientSecret, clientId, AUDIENCE]) expect(key).not.toContain(part);
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(Date.now() + ttl).toBeLessThanOrEqual(set.expiresAt - 60_000 + 50);
      // without an encryptionKey the value is the token set as JSON
      expect(JSON.parse((await redis.get(key)) as string)).toMatchObject({ accessToken: set.accessToken, expiresAt: set.expiresAt });
    });

    it('a second provider (another replica) takes the stored token without a request', async () => {
      const first = providerWith(cacheFor());
      const token = await first.provider.getToken();
      const second = providerWith(cacheFor());
      expect(await second.provider.getToken()).toBe(token);
      expect(issuer.counts.token).toBe(1);
      expect(second.events.map((e) => e.type)).toEqual(['token.cache_hit']);
    });
  });

  describe('encryptionKey: AES-256-GCM values', () => {
    const passphrase = 'correct horse battery staple, long enough';

    it('stores ciphertext, not the token; the same key reads it; another key does not', async () => {
      const { provider } = providerWith(cacheFor({ encryptionKey: passphrase }));
      const token = await provider.getToken();
      const [key] = await storedKeys();
      const raw = (await redis.get(key as string)) as string;
      expect(raw).not.toContain(token);
      for (const part of token.split('.')) expect(raw).not.toContain(part);
      expect(() => JSON.parse(raw)).toThrow();

      const sameKey = providerWith(cacheFor({ encryptionKey: passphrase }));
      expect(await sameKey.provider.getToken()).toBe(token);
      expect(issuer.counts.token).toBe(1);

      const otherKey = providerWith(cacheFor({ encryptionKey: new Uint8Array(32).fill(7) }));
      expect(await otherKey.provider.getToken()).not.toBe(token);
      expect(issuer.counts.token).toBe(2);
    });

    it('a value moved to another key does not decrypt (the key is authenticated)', async () => {
      const cache = cacheFor({ encryptionKey: passphrase });
      const token = { accessToken: 'tok', tokenType: 'Bearer', obtainedAt: Date.now(), expiresAt: Date.now() + 600_000 };
      await cache.set('a', token, 60_000);
      await redis.set(`${prefix}b`, (await redis.get(`${prefix}a`)) as string, 'PX', 60_000);
      expect(await cache.get('a')).toEqual(token);
      expect(await cache.get('b')).toBeUndefined();
    });

    it('rejects weak keys at construction', () => {
      expect(() => redisTokenCache({ url: REDIS_URL, encryptionKey: 'short' })).toThrow(/"encryptionKey"/);
      expect(() => redisTokenCache({ url: REDIS_URL, encryptionKey: new Uint8Array(16) })).toThrow(/"encryptionKey"/);
    });
  });

  describe('the lock: SET NX PX with a random owner, released only by its owner', () => {
    it('is exclusive, and a holder whose lock expired and was retaken does not release the new owner', async () => {
      const cache = cacheFor();
      const held = await cache.lock('k', 60_000);
      expect(held).toBeDefined();
      expect(await cache.lock('k', 60_000)).toBeUndefined();
      const lockKey = `${prefix}k:lock`;
      expect(await redis.pttl(lockKey)).toBeGreaterThan(59_000);

      await redis.set(lockKey, 'another-owner', 'PX', 60_000); // as if it expired and another process took it
      await held?.release();
      expect(await redis.get(lockKey)).toBe('another-owner');

      await redis.del(lockKey);
      const mine = await cache.lock('k', 60_000);
      await mine?.release();
      expect(await redis.exists(lockKey)).toBe(0);
    });

    it('a process waits for the lock holder, and takes over when the lock expires without a token', async () => {
      const cache = cacheFor();
      const { provider, events } = providerWith(cache);
      // find the provider's key by letting another provider store it, then clear it
      const probe = providerWith(cacheFor());
      await probe.provider.getToken();
      const [valueKey] = await storedKeys();
      await redis.del(valueKey as string);
      issuer.resetCounts();
      await redis.set(`${valueKey}:lock`, 'crashed-owner', 'PX', 300); // a holder that died mid-fetch

      const token = await provider.getToken();
      expect(token).toEqual(expect.any(String));
      expect(issuer.counts.token).toBe(1);
      expect(events.map((e) => e.type)).toEqual(['token.fetched']);
    });

    it('gives up on a foreign lock that outlives twice the lock lifetime (the holder\'s worst case), then fetches itself', async () => {
      const probe = providerWith(cacheFor());
      await probe.provider.getToken();
      const [valueKey] = await storedKeys();
      await redis.del(valueKey as string);
      issuer.resetCounts();
      await redis.set(`${valueKey}:lock`, 'stuck-owner', 'PX', 60_000);

      // lock lifetime = the holder's worst case: 100 ms x 1 attempt + 1 s slack; given up after twice that
      const { provider } = providerWith(cacheFor(), { timeoutDuration: 100, maxRetries: 0, deadlineDuration: 10_000 });
      await expect(provider.getToken()).resolves.toEqual(expect.any(String));
      expect(issuer.counts.token).toBe(1);
      expect(await redis.get(`${valueKey}:lock`)).toBe('stuck-owner'); // never released someone else's lock
    });
  });

  describe('refreshes are shared: one replica refreshes, the others take its token from Redis', () => {
    it('with a fake clock, replica B at its refresh point adopts replica A\'s refreshed token without a request', async () => {
      let clock = Date.now();
      const now = () => clock;
      const fakeIssuer = await createLocalIssuer({ now, tokenLifetime: 3600 });
      closers.push(() => fakeIssuer.close());
      const client = fakeIssuer.registerClient({ audiences: [AUDIENCE] });
      const replica = (fraction: number) => {
        const events: OutboundEvent[] = [];
        const waiters: { type: string; resolve: () => void }[] = [];
        const provider = clientCredentials({
          tokenEndpoint: fakeIssuer.tokenEndpoint,
          clientId: client.clientId,
          clientSecret: client.clientSecret as string,
          audience: AUDIENCE,
          cache: cacheFor(),
          now,
          refreshWindow: [fraction, fraction],
          onEvent: (event) => {
            events.push(event);
            for (const waiter of waiters.filter((w) => w.type === event.type)) waiter.resolve();
          },
        });
        closers.push(() => provider.close());
        const next = (type: string) => new Promise<void>((resolve) => waiters.push({ type, resolve }));
        return { provider, events, next };
      };
      const a = replica(0.75);
      const b = replica(0.9);
      const first = await a.provider.getToken();
      expect(await b.provider.getToken()).toBe(first);
      expect(fakeIssuer.counts.token).toBe(1);

      const usable = 3600_000 - 60_000;
      clock += 0.8 * usable; // past A's refresh point, before B's
      const refreshed = a.next('token.refreshed');
      expect(await a.provider.getToken()).toBe(first); // no waiting: the refresh runs in the background
      await refreshed;
      expect(fakeIssuer.counts.token).toBe(2);
      expect(await b.provider.getToken()).toBe(first); // B is not due yet

      clock = clock - 0.8 * usable + 0.91 * usable; // past B's refresh point
      const adopted = b.next('token.cache_hit');
      expect(await b.provider.getToken()).toBe(first);
      await adopted;
      const second = await a.provider.getToken();
      expect(second).not.toBe(first);
      expect(await b.provider.getToken()).toBe(second);
      expect(fakeIssuer.counts.token).toBe(2); // B refreshed from Redis, not from the endpoint
      expect(b.events.filter((e) => e.type === 'token.refreshed' || e.type === 'token.fetched')).toHaveLength(0);
    });
  });

  describe('Redis down: the provider falls back to memory, keeps working and says so', () => {
    it('an unreachable Redis -> tokens still served, one cache.fallback event, no extra token requests', async () => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      await new Promise((resolve) => server.close(resolve));

      const down = redisTokenCache({ url: `redis://127.0.0.1:${port}`, keyPrefix: prefix, operationTimeout: 500 });
      closers.push(() => down.close());
      const { provider, events } = providerWith(down);
      const tokens = await Promise.all(Array.from({ length: 20 }, () => provider.getToken()));
      expect(new Set(tokens).size).toBe(1);
      for (let i = 0; i < 10; i += 1) expect(await provider.getToken()).toBe(tokens[0]);
      expect(issuer.counts.token).toBe(1);
      const fallbacks = events.filter((e) => e.type === 'cache.fallback');
      expect(fallbacks).toHaveLength(1);
      expect(fallbacks[0]).toMatchObject({ error: expect.any(Error) });
    });
  });
});
