/**
 * `express-m2m/redis`: the Redis token cache and the DPoP replay store. A separate entry point so that `express-m2m` never
 * loads ioredis (an optional peer dependency: install it to use this).
 */
/// <reference types="node" preserve="true" />
export { RedisTokenCache, redisTokenCache } from './caches/redis/redis-token-cache.js';
export type { RedisTokenCacheOptions } from './caches/redis/redis-token-cache.js';
export type { EncryptionKey } from './caches/redis/value-encryption.js';
export { redisReplayStore } from './caches/redis/redis-replay-store.js';
export type { RedisReplayStoreOptions } from './caches/redis/redis-replay-store.js';
