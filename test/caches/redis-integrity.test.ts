/**
 * Whoever can write to the shared Redis cannot hand the replicas a token, nor stop them with a
 * failure marker: every entry a provider writes carries a MAC keyed from the client's own
 * credentials (a secret every replica already has); an entry without a valid one is dropped with
 * an event and a fresh token is requested. A JWT read from the cache is also checked against its
 * own exp and aud. Against the real Redis server (REDIS_URL) and the local issuer.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { clientCredentials, type OutboundEvent, type TokenProvider } from 'express-m2m';
import { redisTokenCache, type RedisTokenCache } from 'express-m2m/redis';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { integrityKey, sealToken } from '../../src/outbound/shared/entry-integrity.js';
import { describeRedis, REDIS_URL } from './redis-support.js';

const AUDIENCE = 'https://billing.example.test';
let issuer: LocalIssuer;
let clientId: string;
let clientSecret: string;
let redis: Redis;
let prefix: string;
const closers: Array<() => Promise<void>> = [];

function provider(options: { cache: RedisTokenCache; secret?: string }): { provider: TokenProvider; events: OutboundEvent[] } {
  const events: OutboundEvent[] = [];
  const made = clientCredentials({
    tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret: options.secret ?? clientSecret, audience: AUDIENCE,
    cache: options.cache, onEvent: (event) => events.push(event),
  });
  closers.push(() => made.close());
  return { provider: made, events };
}

function cache(): RedisTokenCache {
  const made = redisTokenCache({ url: REDIS_URL, keyPrefix: prefix });
  closers.push(() => made.close());
  return made;
}

/** The provider's token key in Redis (after a first provider stored a token). */
async function tokenKey(): Promise<string> {
  const keys = (await redis.keys(`${prefix}*`)).filter((key) => !key.endsWith(':lock') && !key.endsWith(':failed'));
  expect(keys).toHaveLength(1);
  return keys[0] as string;
}

describeRedis('shared cache entries carry integrity by default', () => {
  beforeAll(async () => {
    issuer = await createLocalIssuer();
    ({ clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE, 'https://other.example.test'] }) as { clientId: string; clientSecret: string });
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  beforeEach(() => {
    prefix = `express-m2m-test:integrity:${randomUUID()}:`;
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  });
  afterAll(async () => {
    redis.disconnect();
    await issuer.close();
  });

  test('replicas with the client\'s credentials share the token: one token request, no rejected entry', async () => {
    const shared = cache();
    const a = provider({ cache: shared });
    const b = provider({ cache: cache() });
    const token = await a.provider.getToken();
    const before = issuer.counts.token;
    expect(await b.provider.getToken()).toBe(token);
    expect(issuer.counts.token).toBe(before);
    expect(b.events.map((event) => event.type)).toEqual(['token.cache_hit']);
    // The stored entry has its MAC; what callers get has none.
    const stored = JSON.parse(await redis.get(await tokenKey()) as string) as Record<string, unknown>;
    expect(typeof stored.integrity).toBe('string');
    expect(await b.provider.getTokenSet()).not.toHaveProperty('integrity');
  });

  test.each([
    ['no MAC at all (written by someone without the credentials)', (entry: Record<string, unknown>) => { delete entry.integrity; }],
    ['a token swapped under the MAC', (entry: Record<string, unknown>) => { entry.accessToken = `${String(entry.accessToken)}x`; }],
    ['an expiry pushed into the future', (entry: Record<string, unknown>) => { entry.expiresAt = Number(entry.expiresAt) + 86_400_000; }],
    ['a MAC made with another secret', (entry: Record<string, unknown>) => {
      Object.assign(entry, sealToken(integrityKey('another secret'), 'x', entry as never));
    }],
  ])('%s: not believed, dropped with an event, a fresh token requested', async (_name, forge) => {
    const a = provider({ cache: cache() });
    const original = await a.provider.getToken();
    const key = await tokenKey();
    const entry = JSON.parse(await redis.get(key) as string) as Record<string, unknown>;
    forge(entry);
    await redis.set(key, JSON.stringify(entry), 'PX', 60_000);

    const b = provider({ cache: cache() });
    const before = issuer.counts.token;
    const token = await b.provider.getToken();
    expect(token).not.toBe(entry.accessToken);
    expect(issuer.counts.token).toBe(before + 1);
    expect(b.events).toContainEqual(expect.objectContaining({ type: 'cache.entry_rejected', reason: 'integrity' }));
    // The fresh token replaced the forged entry.
    const stored = JSON.parse(await redis.get(key) as string) as { accessToken: string };
    expect(stored.accessToken).toBe(token);
    expect(token).not.toBe(original);
  });

  test('a forged failure marker with a far "until" is ignored: the token is requested', async () => {
    const a = provider({ cache: cache() });
    await a.provider.getToken();
    const key = await tokenKey();
    await redis.del(key);
    await redis.set(`${key}:failed`, JSON.stringify({ code: 'ERR_TOKEN_REJECTED', status: 401, error: 'invalid_client', until: Date.now() + 3_600_000 }), 'PX', 3_600_000);
    const b = provider({ cache: cache() });
    const before = issuer.counts.token;
    await expect(b.provider.getToken()).resolves.toEqual(expect.any(String));
    expect(issuer.counts.token).toBe(before + 1);
    expect(b.events).toContainEqual(expect.objectContaining({ type: 'cache.entry_rejected', reason: 'failure_marker' }));
  });

  test.each([
    ['an expired JWT under a believable entry (a replica\'s clock was off)', 'expired', { expiresIn: -60 }],
    ['a JWT for another audience', 'audience', { audience: 'https://other.example.test' }],
  ] as const)('%s: dropped (reason %s), a fresh token requested', async (_name, reason, mint: { expiresIn?: number; audience?: string }) => {
    const a = provider({ cache: cache() });
    await a.provider.getToken();
    const key = await tokenKey();
    const cacheKey = key.slice(prefix.length);
    const jwt = await issuer.accessToken({ clientId, audience: mint.audience ?? AUDIENCE, signOptions: mint.expiresIn === undefined ? {} : { expiresIn: mint.expiresIn } });
    const now = Date.now();
    const sealed = sealToken(integrityKey(clientSecret), cacheKey, { accessToken: jwt, tokenType: 'Bearer', obtainedAt: now, expiresAt: now + 3_600_000 });
    await redis.set(key, JSON.stringify(sealed), 'PX', 60_000);

    const b = provider({ cache: cache() });
    const token = await b.provider.getToken();
    expect(token).not.toBe(jwt);
    expect(b.events).toContainEqual({ type: 'cache.entry_rejected', reason, clientId, audience: AUDIENCE, endpoint: issuer.tokenEndpoint });
  });

  test('a replica with another secret for the same client never takes the entries of the others', async () => {
    const a = provider({ cache: cache() });
    await a.provider.getToken();
    const b = provider({ cache: cache(), secret: 'a different secret the server would refuse' });
    await expect(b.provider.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_REJECTED' });
    expect(b.events).toContainEqual(expect.objectContaining({ type: 'cache.entry_rejected', reason: 'integrity' }));
  });
});
