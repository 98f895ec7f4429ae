/**
 * `express-m2m/redis`: the Redis token cache. A separate entry point so that `express-m2m` never
 * loads ioredis (an optional peer dependency: install it to use this).
 */
export { RedisTokenCache, redisTokenCache } from './redis-token-cache.js';
export type { RedisTokenCacheOptions } from './redis-token-cache.js';
export type { EncryptionKey } from './value-encryption.js';
