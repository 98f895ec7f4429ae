/**
 * Token cache stores for the outbound side. The Redis store lives in `express-m2m/redis` so that
 * `express-m2m` itself never loads a Redis client.
 */
export type { CachedToken, SharedTokenFailure, TokenCache, TokenCacheLock } from './token-cache.js';
export { MemoryTokenCache } from './memory-token-cache.js';
export type { MemoryTokenCacheOptions } from './memory-token-cache.js';
