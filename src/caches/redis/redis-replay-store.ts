/**
 * The DPoP replay store in Redis (ioredis), shared by every replica of an API: a proof's record is
 * one key, written with `SET key 1 PX <ms> NX` (atomic: of two replicas that get the same proof at
 * once, one is told it is new), so it works on a Redis Cluster (an ioredis `Cluster` as `client`).
 * Every command is bounded by `operationTimeout`; a failure rejects, and the request gets a 503:
 * replay protection never silently vanishes. The key is a hash of the proof's key thumbprint and
 * its `jti`; nothing secret is stored.
 */
import { Redis, type Cluster } from 'ioredis';
import type { DpopReplayStore } from '../../dpop/replay-store.js';
import { OptionReader, type KnownOptions } from '../../options/option-reader.js';

/**
 * Options of {@link redisReplayStore}. Give `client` or `url`.
 *
 * @example
 * ```ts
 * import { redisReplayStore, type RedisReplayStoreOptions } from 'express-m2m/redis';
 *
 * const options: RedisReplayStoreOptions = { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', keyPrefix: 'orders:dpop:' };
 * const replayStore = redisReplayStore(options);
 * ```
 */
export interface RedisReplayStoreOptions {
  /** An ioredis client to use (not closed by `close()`): a `Redis` or a `Cluster`. Give it your own `'error'` listener. */
  client?: Redis | Cluster;
  /** A `redis://` or `rediss://` URL to connect to (the connection is closed by `close()`). */
  url?: string;
  /** Prefix of every key this store writes. Default `'express-m2m:dpop:'`. */
  keyPrefix?: string;
  /** Longest a Redis command may take before the request gets a 503, in milliseconds. Default 500. */
  operationTimeout?: number;
}

const OPTION_NAMES: KnownOptions<RedisReplayStoreOptions> = { client: true, url: true, keyPrefix: true, operationTimeout: true };

/** `Redis SET failed: <name>: <message>`, printable and bounded (ioredis errors carry the command's arguments: never pass them on). */
function sanitised(error: unknown): Error {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new Error(`Redis SET failed: ${text.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)}`);
}

class RedisReplayStore implements DpopReplayStore {
  private readonly client: Redis | Cluster;
  private readonly ownsClient: boolean;
  private readonly keyPrefix: string;
  private readonly operationTimeout: number;

  constructor(client: Redis | Cluster, ownsClient: boolean, keyPrefix: string, operationTimeout: number) {
    this.client = client;
    this.ownsClient = ownsClient;
    this.keyPrefix = keyPrefix;
    this.operationTimeout = operationTimeout;
  }

  remember(key: string, expiresAt: number, now: number): Promise<boolean> {
    if (this.client.status === 'end') return Promise.reject(new Error('Redis SET failed: the Redis connection is closed'));
    const ttl = Math.max(1, Math.ceil(expiresAt - now));
    return new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Redis SET did not answer within ${this.operationTimeout} ms`)), this.operationTimeout);
      timer.unref();
      this.client.set(`${this.keyPrefix}${key}`, '1', 'PX', ttl, 'NX').then(
        (answer) => {
          clearTimeout(timer);
          resolve(answer === 'OK');
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(sanitised(error));
        },
      );
    });
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.disconnect();
  }
}

/**
 * A DPoP replay store in Redis, for `requireAuth({ dpop: { replayStore } })`, so that a proof
 * accepted by one replica is refused by every other. When Redis cannot be reached (or does not
 * answer within `operationTimeout`), DPoP requests get 503 with `Retry-After` and a
 * `dpop.replay_store_failed` event: failing closed, because accepting proofs unrecorded would
 * let a captured proof be replayed for its whole window.
 *
 * @example
 * ```ts
 * import { requireAuth } from 'express-m2m';
 * import { redisReplayStore } from 'express-m2m/redis';
 *
 * app.use(requireAuth({
 *   issuerBaseURL: 'https://issuer.example/',
 *   audience: 'https://api.example',
 *   dpop: { replayStore: redisReplayStore({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', keyPrefix: 'orders:dpop:' }) },
 * }));
 * ```
 */
export function redisReplayStore(options: RedisReplayStoreOptions): DpopReplayStore {
  const read = new OptionReader<RedisReplayStoreOptions>(options, OPTION_NAMES, { caller: 'redisReplayStore' });
  const client = read.raw('client');
  const url = read.string('url');
  if ((client === undefined) === (url === undefined)) read.failWith('give exactly one of "client" and "url"');
  const operationTimeout = read.duration('operationTimeout', 500);
  const keyPrefix = (read.raw('keyPrefix') ?? 'express-m2m:dpop:') as string;
  if (typeof keyPrefix !== 'string') read.fail('keyPrefix', 'must be a string');
  if (client !== undefined) {
    if (typeof client !== 'object' || client === null || typeof (client as Redis).set !== 'function') read.fail('client', 'must be an ioredis client (Redis or Cluster)');
    return new RedisReplayStore(client as Redis | Cluster, false, keyPrefix, operationTimeout);
  }
  if (!/^rediss?:\/\//.test(url as string)) read.fail('url', 'must be a redis:// or rediss:// URL');
  const connection = new Redis(url as string, {
    maxRetriesPerRequest: 1,
    connectTimeout: Math.max(operationTimeout, 1000),
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  // Failures surface through remember() (a 503 and a dpop.replay_store_failed event).
  connection.on('error', () => undefined);
  return new RedisReplayStore(connection, true, keyPrefix, operationTimeout);
}
