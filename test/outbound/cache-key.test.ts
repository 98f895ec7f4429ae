/**
 * The token cache key with a shared `MemoryTokenCache` (two providers in one process on ONE cache
 * instance): see cache-key-cases.ts. The same cases run against Redis in
 * test/caches/redis-cache-key.test.ts.
 */
import { MemoryTokenCache } from 'express-m2m';
import { describeCacheKey } from './cache-key-cases.js';

describe('cache key with a shared MemoryTokenCache: one token per (endpoint, client, audience, scope, resource, extraParams)', () => {
  describeCacheKey(() => ({ cache: new MemoryTokenCache() }));
});
