/**
 * Compile-time checks (run by `npm run typecheck` under `strict`): `redisTokenCache({ client })`
 * takes an ioredis `Redis` (one server, or Sentinel through its `sentinels` option) and a
 * `Cluster` without a cast, and refuses what is not an ioredis client. The Jest part checks that
 * the same constructions run (lazyConnect: nothing is contacted).
 */
import { Cluster, Redis } from 'ioredis';
import { redisTokenCache, RedisTokenCache, type RedisTokenCacheOptions } from 'express-m2m/redis';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

function clients() {
  const single = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
  const sentinel = new Redis({ sentinels: [{ host: '127.0.0.1', port: 26379 }], name: 'mymaster', lazyConnect: true });
  const cluster = new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true });
  return { single, sentinel, cluster };
}

function caches() {
  const { single, sentinel, cluster } = clients();
  const fromRedis: RedisTokenCache = redisTokenCache({ client: single });
  const fromSentinel: RedisTokenCache = redisTokenCache({ client: sentinel });
  const fromCluster: RedisTokenCache = redisTokenCache({ client: cluster, keyPrefix: '{orders}:token:' });
  const options: RedisTokenCacheOptions = { client: cluster };
  const viaClass = new RedisTokenCache(options);
  assertType<Equal<typeof fromCluster.client, Redis | Cluster>>();
  // @ts-expect-error a client must be an ioredis client
  expect(() => redisTokenCache({ client: { get: () => null } })).toThrow('redisTokenCache: "client" must be an ioredis client (Redis or Cluster)');
  return { caches: [fromRedis, fromSentinel, fromCluster, viaClass], clients: [single, sentinel, cluster] };
}

describe('redisTokenCache({ client }) takes a Redis, a Sentinel-backed Redis and a Cluster', () => {
  it('builds a cache over each, and uses the client it was given', () => {
    const built = caches();
    try {
      expect(built.caches.map((cache) => cache.client)).toEqual([built.clients[0], built.clients[1], built.clients[2], built.clients[2]]);
    } finally {
      for (const client of built.clients) client.disconnect();
    }
  });
});
