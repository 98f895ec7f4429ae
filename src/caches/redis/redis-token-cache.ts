/**
 * A {@link TokenCache} in Redis (ioredis) so that every replica of a service shares one token:
 * values with a TTL that ends before the token's expiry, optional AES-256-GCM encryption, and a
 * short lock (SET NX PX with a random owner, released only by its owner) for a cross-process
 * single-flight. Every operation is bounded by `operationTimeout`; a failure rejects, and the
 * provider falls back to its own memory.
 *
 * Every command and script touches exactly one key, so the cache works on a Redis Cluster (an
 * ioredis `Cluster` as `client`) with its value, lock and failure-marker keys in any slots. A plain
 * connection to one Cluster node is detected and refused (see {@link clusterNodeProblem}).
 */
import { randomBytes } from 'node:crypto';
import { Redis, type Cluster } from 'ioredis';
import { OptionReader, type KnownOptions } from '../../options/option-reader.js';
import type { TokenSet, SharedTokenFailure, TokenCache, TokenCacheLock } from '../token-cache.js';
import { decryptValue, deriveEncryptionKey, encryptValue, type EncryptionKey } from './value-encryption.js';

/**
 * Options of {@link redisTokenCache}. Give `client` or `url`.
 *
 * @example
 * ```ts
 * import { redisTokenCache, type RedisTokenCacheOptions } from 'express-m2m/redis';
 *
 * const options: RedisTokenCacheOptions = {
 *   url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
 *   keyPrefix: 'orders:token:',
 *   encryptionKey: process.env.TOKEN_CACHE_KEY ?? 'a placeholder passphrase of 32+ characters',
 *   operationTimeout: 500,
 * };
 * const cache = redisTokenCache(options);
 * ```
 */
export interface RedisTokenCacheOptions {
  /**
   * An ioredis client to use (it is not closed by `close()`): a `Redis` (one server, or a Sentinel
   * set-up with its `sentinels` option) or a `Cluster`. Give it your own `'error'` listener: ioredis
   * prints every connection error of a client without one.
   */
  client?: Redis | Cluster;
  /**
   * A `redis://` or `rediss://` URL of one server to connect to (the connection is closed by
   * `close()`). Not a Redis Cluster node: that is detected and every operation fails with a message
   * saying to pass `client: new Cluster([...])`.
   */
  url?: string;
  /** Prefix of every key this cache writes. Default `'express-m2m:token:'`. */
  keyPrefix?: string;
  /**
   * Encrypts stored values with AES-256-GCM: 32 random bytes, or a string of at least 32 characters
   * (stretched with HKDF-SHA256). Values that do not decrypt are treated as missing. Default: none
   * (tokens are stored as JSON; protect Redis accordingly).
   */
  encryptionKey?: EncryptionKey;
  /** Longest a Redis operation may take before it counts as failed, in milliseconds. Default 1000. */
  operationTimeout?: number;
}

/** What to do instead of a plain connection to a Cluster node: said by every error that detects one. */
const USE_CLUSTER_CLIENT = 'pass an ioredis Cluster as "client" instead (redisTokenCache({ client: new Cluster([{ host, port }, ...]) }), see docs/redis.md "Redis in production")';

/**
 * `Redis <command> failed: <name>: <message>`, printable and bounded; nothing else of the original
 * error (no args, no cause). A Cluster redirection (MOVED, ASK) or CLUSTERDOWN answered to a plain
 * connection says how to connect instead.
 */
function sanitisedRedisError(command: string, error: unknown, cluster: boolean): Error {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const text = `${name}: ${message}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
  if (!cluster && /^(MOVED|ASK|CLUSTERDOWN) /.test(message)) {
    return new Error(`Redis ${command} failed: ${text}: this connection is to one node of a Redis Cluster, so the token would not be shared; ${USE_CLUSTER_CLIENT}`);
  }
  return new Error(`Redis ${command} failed: ${text}`);
}

/**
 * The error of a plain (non-Cluster) connection whose server is a Redis Cluster node
 * (`cluster_enabled:1` in `INFO cluster`), else undefined. Such a connection answers only the keys
 * of its node's slots (MOVED for the others), so processes would silently stop sharing tokens.
 */
function clusterNodeProblem(info: string, where: string): Error | undefined {
  if (!/^cluster_enabled:1\s*$/m.test(info)) return undefined;
  return new Error(`redisTokenCache: ${where} is a Redis Cluster node; a plain connection to one node would not share tokens (MOVED for the keys of other nodes), so the cache refuses it: ${USE_CLUSTER_CLIENT}`);
}

/** `host:port` of a plain client, for messages (never a password). */
function serverOf(client: Redis): string {
  // ioredis fills in host and port; path is set only for a Unix socket
  const { host, port, path } = client.options;
  return typeof path === 'string' ? path : `${String(host)}:${String(port)}`;
}

const REDIS_TOKEN_CACHE_OPTION_NAMES: KnownOptions<RedisTokenCacheOptions> = {
  client: true, url: true, keyPrefix: true, encryptionKey: true, operationTimeout: true,
};

const RELEASE_SCRIPT = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

/**
 * A token cache in Redis, shared by processes. See {@link redisTokenCache}.
 *
 * @example
 * ```ts
 * import { RedisTokenCache } from 'express-m2m/redis';
 *
 * const cache = new RedisTokenCache({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
 * await cache.close();
 * ```
 */
export class RedisTokenCache implements TokenCache {
  /** The ioredis client in use: the `client` given, or the connection opened for `url`. */
  readonly client: Redis | Cluster;
  /** The key prefix in use. */
  readonly keyPrefix: string;
  private readonly ownsClient: boolean;
  private readonly encryptionKey: Buffer | undefined;
  private readonly operationTimeout: number;
  /** Whether `client` is an ioredis `Cluster`. */
  private readonly cluster: boolean;
  /**
   * For a plain client: settles once `INFO cluster` has said whether its server is a Cluster node
   * (then every operation fails with {@link clusterNodeProblem}). Undefined before the first
   * operation, and again after a check that could not run (the next operation checks again).
   */
  private topologyCheck: Promise<void> | undefined;
  private topologyChecked: boolean;

  constructor(options: RedisTokenCacheOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('redisTokenCache: options must be an object');
    // Misspelt names are refused with a suggestion; the values are checked below.
    new OptionReader<RedisTokenCacheOptions>(options, REDIS_TOKEN_CACHE_OPTION_NAMES, { caller: 'redisTokenCache' });
    const { client, url } = options;
    if ((client === undefined) === (url === undefined)) throw new TypeError('redisTokenCache: give exactly one of "client" and "url"');
    const operationTimeout = options.operationTimeout ?? 1000;
    // Number.isFinite is false for anything that is not a number (it does not convert)
    if (!Number.isFinite(operationTimeout) || operationTimeout <= 0) {
      throw new TypeError('redisTokenCache: "operationTimeout" must be a positive number of milliseconds');
    }
    this.operationTimeout = operationTimeout;
    const keyPrefix = options.keyPrefix ?? 'express-m2m:token:';
    if (typeof keyPrefix !== 'string') throw new TypeError('redisTokenCache: "keyPrefix" must be a string');
    this.keyPrefix = keyPrefix;
    this.encryptionKey = options.encryptionKey === undefined ? undefined : deriveEncryptionKey(options.encryptionKey);
    if (client !== undefined) {
      if (typeof client !== 'object' || client === null || typeof (client as Redis).set !== 'function') {
        throw new TypeError('redisTokenCache: "client" must be an ioredis client (Redis or Cluster)');
      }
      this.client = client;
      this.ownsClient = false;
    } else {
      if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
        throw new TypeError('redisTokenCache: "url" must be a redis:// or rediss:// URL');
      }
      this.client = new Redis(url, {
        maxRetriesPerRequest: 1,
        connectTimeout: Math.max(operationTimeout, 1000),
        retryStrategy: (times) => Math.min(times * 200, 2000),
      });
      // Failures surface through the operations (and the provider's cache.fallback event); without a
      // listener ioredis would print every reconnect error.
      this.client.on('error', () => undefined);
      this.ownsClient = true;
    }
    this.cluster = (this.client as { isCluster?: unknown }).isCluster === true;
    this.topologyChecked = this.cluster;
  }

  async get(key: string): Promise<TokenSet | undefined> {
    const redisKey = this.keyPrefix + key;
    const stored = await this.bounded('GET', () => this.client.get(redisKey));
    if (stored === null) return undefined;
    const json = this.encryptionKey === undefined ? stored : decryptValue(this.encryptionKey, stored, redisKey);
    if (json === undefined) return undefined;
    try {
      return JSON.parse(json) as TokenSet;
    } catch {
      return undefined;
    }
  }

  async set(key: string, token: TokenSet, ttl: number): Promise<void> {
    const redisKey = this.keyPrefix + key;
    const milliseconds = Math.floor(ttl);
    if (milliseconds < 1) return;
    const value: TokenSet = {
      accessToken: token.accessToken,
      tokenType: token.tokenType,
      expiresAt: token.expiresAt,
      obtainedAt: token.obtainedAt,
    };
    if (token.scope !== undefined) value.scope = token.scope;
    if (token.integrity !== undefined) value.integrity = token.integrity;
    const json = JSON.stringify(value);
    const stored = this.encryptionKey === undefined ? json : encryptValue(this.encryptionKey, json, redisKey);
    await this.bounded('SET', () => this.client.set(redisKey, stored, 'PX', milliseconds));
  }

  async delete(key: string): Promise<void> {
    await this.bounded('DEL', () => this.client.del(this.keyPrefix + key));
  }

  async lock(key: string, ttl: number): Promise<TokenCacheLock | undefined> {
    const lockKey = `${this.keyPrefix}${key}:lock`;
    const owner = randomBytes(16).toString('hex');
    const result = await this.bounded('SET', () => this.client.set(lockKey, owner, 'PX', Math.max(1, Math.floor(ttl)), 'NX'))
      .catch((error: unknown) => {
        // A SET whose answer timed out here may still have taken the lock in Redis; left alone, it
        // would make every other process wait its whole lifetime. Release it (only if it is ours),
        // after the SET: a SET still waiting for the topology check is sent before this script.
        (this.topologyCheck ?? Promise.resolve())
          .then(() => this.client.eval(RELEASE_SCRIPT, 1, lockKey, owner))
          .catch(() => undefined);
        throw error;
      });
    if (result !== 'OK') return undefined;
    return {
      release: async () => {
        await this.bounded('EVAL', () => this.client.eval(RELEASE_SCRIPT, 1, lockKey, owner));
      },
    };
  }

  /** Stores a failure marker (`<key>:failed`, plain JSON: code, status, OAuth error, until; nothing secret) for `ttl` ms. */
  async setFailure(key: string, failure: SharedTokenFailure, ttl: number): Promise<void> {
    const milliseconds = Math.floor(ttl);
    if (milliseconds < 1) return;
    const value: SharedTokenFailure = { code: failure.code, until: failure.until };
    if (failure.status !== undefined) value.status = failure.status;
    if (failure.error !== undefined) value.error = failure.error;
    if (failure.integrity !== undefined) value.integrity = failure.integrity;
    await this.bounded('SET', () => this.client.set(`${this.keyPrefix}${key}:failed`, JSON.stringify(value), 'PX', milliseconds));
  }

  /** The failure marker under `key`, if one is stored and well-formed. */
  async getFailure(key: string): Promise<SharedTokenFailure | undefined> {
    const stored = await this.bounded('GET', () => this.client.get(`${this.keyPrefix}${key}:failed`));
    if (stored === null) return undefined;
    try {
      const value = JSON.parse(stored) as Partial<SharedTokenFailure>;
      if (typeof value.code !== 'string' || typeof value.until !== 'number') return undefined;
      const failure: SharedTokenFailure = { code: value.code, until: value.until };
      if (typeof value.status === 'number') failure.status = value.status;
      if (typeof value.error === 'string') failure.error = value.error;
      if (typeof value.integrity === 'string') failure.integrity = value.integrity;
      return failure;
    } catch {
      return undefined;
    }
  }

  /** Closes the connection if this cache opened it. */
  async close(): Promise<void> {
    if (this.ownsClient) this.client.disconnect();
  }

  /**
   * Runs one Redis command within `operationTimeout`. A failure rejects with a new error naming only
   * the command and Redis's own error: ioredis attaches the command's arguments (the key and the
   * stored value, i.e. the token) to its errors, and those must never reach an event or a log.
   */
  private bounded<T>(command: string, operation: () => Promise<T>): Promise<T> {
    if (this.client.status === 'end') return Promise.reject(new Error(`Redis ${command} failed: the Redis connection is closed`));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Redis ${command} did not answer within ${this.operationTimeout} ms`)), this.operationTimeout);
      timer.unref();
      const checked = this.topologyChecked ? operation() : this.checkTopology(command).then(operation);
      checked.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof TopologyError ? error.problem : sanitisedRedisError(command, error, this.cluster));
        },
      );
    });
  }

  /**
   * Makes sure, once, that a plain client's server is not a Cluster node (a `Cluster` client needs
   * no check). A server that refuses INFO (an ACL user without it) is taken as it is: a Cluster
   * node would still be named by the MOVED errors of {@link sanitisedRedisError}.
   */
  private checkTopology(command: string): Promise<void> {
    this.topologyCheck ??= (this.client as Redis).info('cluster').then(
      (info: string) => {
        const problem = clusterNodeProblem(info, serverOf(this.client as Redis));
        if (problem === undefined) {
          this.topologyChecked = true;
          return;
        }
        // Permanent: every later operation fails at once with the same message.
        this.topologyCheck = Promise.reject(new TopologyError(problem));
        this.topologyCheck.catch(() => undefined);
        throw new TopologyError(problem);
      },
      (error: unknown) => {
        if (error instanceof Error && /NOPERM/.test(error.message)) {
          this.topologyChecked = true;
          return;
        }
        this.topologyCheck = undefined; // could not ask: the next operation asks again
        throw new TopologyError(sanitisedRedisError(command, error, false));
      },
    );
    return this.topologyCheck;
  }
}

/** Carries an error of {@link RedisTokenCache.checkTopology} that is already fit for events. */
class TopologyError extends Error {
  constructor(readonly problem: Error) {
    super(problem.message);
  }
}

/**
 * Creates a Redis token cache for `clientCredentials({ cache })`, so that every process of a service
 * shares one token and N processes on a cold cache make one token request. Keys are a hash of
 * endpoint, client, audience, scope and resource (never the secret); values live until the token's
 * expiry margin; a failing Redis makes the provider fall back to memory (`cache.fallback` event).
 *
 * @example
 * ```ts
 * import { clientCredentials } from 'express-m2m';
 * import { redisTokenCache } from 'express-m2m/redis';
 *
 * const cache = redisTokenCache({
 *   url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
 *   encryptionKey: process.env.TOKEN_CACHE_KEY ?? 'a placeholder passphrase of 32+ characters',
 * });
 * const billing = clientCredentials({
 *   tokenEndpoint: 'https://auth.example.com/oauth/token',
 *   clientId: 'orders-service',
 *   clientSecret: 'placeholder-secret',
 *   audience: 'https://billing.example.com',
 *   cache,
 * });
 * ```
 */
export function redisTokenCache(options: RedisTokenCacheOptions): RedisTokenCache {
  return new RedisTokenCache(options);
}
