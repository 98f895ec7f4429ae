/**
 * `express-m2m/redis`: the Redis token cache. A separate entry point so that `express-m2m` never
 * loads ioredis (an optional peer dependency: install it to use this).
 */
/// <reference types="node" preserve="true" />
export { RedisTokenCache, redisTokenCache } from './caches/redis/redis-token-cache.js';
export type { RedisTokenCacheOptions } from './caches/redis/redis-token-cache.js';
export type { EncryptionKey } from './caches/redis/value-encryption.js';
