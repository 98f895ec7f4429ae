/**
 * README (`lockDuration`): the cross-process lock "always lives at least timeoutDuration x
 * (maxRetries + 1) + retryMaxDelay x maxRetries (+ 2 x timeoutDuration with discovery) + 1 s":
 * 41 s with the defaults and `tokenEndpoint`, 61 s with `issuerBaseURL`.
 *
 * Observed in Redis while the holder's token request hangs. Robust to a slow machine: instead of
 * the remaining TTL (PTTL, which shrinks while the test runs), the test reads the lock's absolute
 * expiry (PEXPIRETIME, Redis 7) and checks it against the client clock read just before the call
 * and just after the request reached the endpoint: the lock was set between the two, so its
 * expiry lies between `before + lifetime` and `after + lifetime`, however slow the machine.
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
/** Redis and this process read the same clock to the millisecond; a few ms of slack for rounding. */
const CLOCK_SLACK = 5;
let issuer: LocalIssuer;
let clientId: string;
let clientSecret: string;
let redis: Redis;
let testNumber = 0;
const closers: (() => Promise<void>)[] = [];

async function until(condition: () => boolean): Promise<void> {
  const giveUpAt = Date.now() + 10_000;
  while (!condition() && Date.now() < giveUpAt) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

describeRedis('the shared-cache lock lives at least the holder\'s worst case (README lockDuration: 41 s, 61 s with discovery) (REDIS_URL)', () => {
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
    issuer.setFault('token', { hang: true });
  });
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  it.each<[string, number, () => Partial<ClientCredentialsOptions>]>([
    ['tokenEndpoint, defaults: 10 s x 3 + 5 s x 2 + 1 s', 41_000, () => ({})],
    ['issuerBaseURL, defaults: + 2 x 10 s for discovery', 61_000, () => ({ tokenEndpoint: undefined, issuerBaseURL: issuer.url })],
    ['a lockDuration below the worst case is raised to it', 41_000, () => ({ lockDuration: 500 })],
    ['a lockDuration above the worst case is kept', 90_000, () => ({ lockDuration: 90_000 })],
    ['it follows the options: 20 s x 2 + 3 s x 1 + 1 s', 44_000, () => ({ timeoutDuration: 20_000, maxRetries: 1, retryMaxDelay: 3000 })],
  ])('%s -> the lock expires %i ms after it was taken', async (_name, lifetime, options) => {
    testNumber += 1;
    const keyPrefix = `${RUN_PREFIX}${testNumber}:`;
    const cache = redisTokenCache({ url: REDIS_URL, keyPrefix });
    const provider: TokenProvider = clientCredentials({
      tokenEndpoint: issuer.tokenEndpoint,
      clientId,
      clientSecret,
      audience: AUDIENCE,
      cache,
      ...options(),
    });
    closers.push(async () => {
      await provider.close(); // aborts the hanging request; the holder releases its lock
      await cache.close();
    });
    await cache.client.ping();

    const before = Date.now();
    const pending = provider.getToken().catch((error: unknown) => error);
    await until(() => issuer.counts.token === 1); // the lock is taken before the request is sent
    const after = Date.now();

    const locks = await redis.keys(`${keyPrefix}*:lock`);
    expect(locks).toHaveLength(1);
    const expiresAt = Number(await redis.call('PEXPIRETIME', locks[0] as string));
    expect(expiresAt).toBeGreaterThanOrEqual(before + lifetime - CLOCK_SLACK);
    expect(expiresAt).toBeLessThanOrEqual(after + lifetime + CLOCK_SLACK);

    await provider.close();
    expect(await pending).toMatchObject({ code: 'ERR_TOKEN_PROVIDER_CLOSED' });
    expect(await redis.exists(locks[0] as string)).toBe(0); // released by its holder
  });
});
