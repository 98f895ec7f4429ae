/**
 * README (Redis): while another process holds the lock, the others "poll the cache (every 25 to
 * 75 ms) for its token". The waiting provider's pauses go through its `sleep` seam, so the test
 * records them instead of waiting; its jitter comes from the `random` seam. The lock is held by
 * "another process" (a key set directly in Redis), which then stores its token: the waiter must
 * pick that token up without a token request of its own.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { clientCredentials } from 'express-m2m';
import type { ClientCredentialsOptions, TokenProvider } from 'express-m2m';
import { redisTokenCache } from 'express-m2m/redis';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';
import { describeRedis, REDIS_URL } from './redis-support.js';

const AUDIENCE = 'https://billing.example.test';
const RUN_PREFIX = `express-m2m-test:${process.pid}:${randomUUID()}:`;
let issuer: LocalIssuer;
let clientId: string;
let clientSecret: string;
let redis: Redis;
let prefix: string;
let testNumber = 0;
const closers: (() => Promise<void>)[] = [];

function provider(options: Partial<ClientCredentialsOptions> = {}): TokenProvider {
  const cache = redisTokenCache({ url: REDIS_URL, keyPrefix: prefix });
  const created = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, cache, ...options });
  closers.push(() => created.close(), () => cache.close());
  return created;
}

/**
 * Another process holds the lock on the provider's key and has not stored a token yet. Returns
 * how to finish its work: store the token it obtained (taken from a probe provider beforehand).
 */
async function lockHeldElsewhere(): Promise<{ token: string; store: () => Promise<void> }> {
  const token = await provider().getToken();
  const [valueKey] = (await redis.keys(`${prefix}*`)).filter((key) => !key.endsWith(':lock') && !key.endsWith(':failed'));
  const stored = (await redis.get(valueKey as string)) as string;
  await redis.del(valueKey as string);
  await redis.set(`${valueKey}:lock`, 'another-process', 'PX', 60_000);
  issuer.resetCounts();
  return { token, store: async () => { await redis.set(valueKey as string, stored, 'PX', 60_000); } };
}

describeRedis('waiters poll the shared cache every 25 to 75 ms, jittered by `random` (README, Redis) (REDIS_URL)', () => {
  beforeAll(async () => {
    issuer = await createLocalIssuer();
    ({ clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] }) as { clientId: string; clientSecret: string });
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
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
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  it('each poll waits 25 + 50 x random() ms: random 0 -> 25 ms, 0.5 -> 50 ms, 0.999 -> 74.95 ms', async () => {
    const holder = await lockHeldElsewhere();
    const sequence = [0, 0.5, 0.999, 0.25, 0.75];
    const drawn: number[] = [];
    const delays: number[] = [];
    const waiter = provider({
      random: () => {
        const value = sequence[drawn.length % sequence.length] as number;
        drawn.push(value);
        return value;
      },
      sleep: async (ms) => {
        delays.push(ms);
        if (delays.length === sequence.length) await holder.store(); // the holder finishes during the 5th pause
      },
    });

    expect(await waiter.getToken()).toBe(holder.token);
    expect(issuer.counts.token).toBe(0); // it waited for the holder's token instead of fetching
    expect(delays).toHaveLength(sequence.length);
    delays.forEach((delay, index) => expect(delay).toBeCloseTo(25 + 50 * (drawn[index] as number), 6));
    expect(delays.map(Math.round)).toEqual([25, 50, 75, 38, 63]);
  });

  it('with the default Math.random: every poll delay lies in [25, 75] ms, and they are jittered, not fixed', async () => {
    const holder = await lockHeldElsewhere();
    const delays: number[] = [];
    const waiter = provider({
      sleep: async (ms) => {
        delays.push(ms);
        if (delays.length === 40) await holder.store();
      },
    });

    expect(await waiter.getToken()).toBe(holder.token);
    expect(issuer.counts.token).toBe(0);
    expect(delays).toHaveLength(40);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(25);
      expect(delay).toBeLessThanOrEqual(75);
    }
    expect(new Set(delays).size).toBeGreaterThan(1);
  });
});
