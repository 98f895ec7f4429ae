/**
 * The token cache key with ONE `redisTokenCache` instance shared by two providers (REDIS_URL):
 * see test/outbound/cache-key-cases.ts. Keys live under a prefix unique to this run and test, and
 * are deleted after each test.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisTokenCache } from 'express-m2m/redis';
import { describeCacheKey } from '../outbound/cache-key-cases.js';
import { describeRedis, REDIS_URL } from './redis-support.js';

const RUN_PREFIX = `express-m2m-test:${process.pid}:${randomUUID()}:`;
let redis: Redis;
let testNumber = 0;

describeRedis('cache key with a shared redisTokenCache: one token per (endpoint, client, audience, scope, resource, extraParams) (REDIS_URL)', () => {
  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await redis.ping();
  });
  afterAll(async () => {
    const leftovers = await redis.keys(`${RUN_PREFIX}*`);
    if (leftovers.length > 0) await redis.del(...leftovers);
    redis.disconnect();
  });

  describeCacheKey(() => {
    testNumber += 1;
    const keyPrefix = `${RUN_PREFIX}${testNumber}:`;
    const cache = redisTokenCache({ url: REDIS_URL, keyPrefix });
    return {
      cache,
      cleanup: async () => {
        // the providers stored their tokens here, not under the default prefix
        const keys = await redis.keys(`${keyPrefix}*`);
        expect(keys.length).toBeGreaterThan(0);
        await redis.del(...keys);
        await cache.close();
      },
    };
  });
});
