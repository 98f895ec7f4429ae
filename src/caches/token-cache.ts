/**
 * The contract between token providers (`src/outbound`) and cache stores (memory, Redis): a store
 * of token sets under opaque keys, with optional lock primitives for a cross-process single-flight.
 */

/**
 * One access token and when it stops being valid: what a token provider hands out
 * (`getTokenSet()`) and what a token cache stores. Never the client secret.
 *
 * @example
 * ```ts
 * import { MemoryTokenCache, type TokenSet } from 'express-m2m';
 *
 * const token: TokenSet = { accessToken: 'eyJ...', tokenType: 'Bearer', obtainedAt: Date.now(), expiresAt: Date.now() + 3_600_000 };
 * await new MemoryTokenCache().set('key', token, 3_540_000);
 * ```
 */
export interface TokenSet {
  /** The access token. A secret: never log it. */
  accessToken: string;
  /** `token_type` of the response, normally `Bearer`. */
  tokenType: string;
  /** When the token expires, in milliseconds since the epoch (the sooner of `expires_in` and the JWT's `exp`). */
  expiresAt: number;
  /** When the token was obtained, in milliseconds since the epoch. */
  obtainedAt: number;
  /** `scope` granted, when the response named it. */
  scope?: string;
  /**
   * Set on the entries a provider stores in a cache: a MAC that only holders of the client's
   * credentials can make (an entry without a valid one is not believed). A cache stores and
   * returns it like the other fields; callers of `getTokenSet()` never see it.
   */
  integrity?: string;
}

/**
 * What a process that failed to get a token shares with the others through the cache (issue 3:
 * N replicas against a failing endpoint make the requests of one). Never a secret, never a token,
 * never the server's free text: a stable code, the HTTP status and the OAuth `error` only.
 *
 * @example
 * ```ts
 * import type { SharedTokenFailure } from 'express-m2m/extend';
 *
 * // what a Redis store holds under `<key>:failed` for the failure cooldown
 * const failure: SharedTokenFailure = { code: 'ERR_TOKEN_REJECTED', status: 401, error: 'invalid_client', until: Date.now() + 5000 };
 * ```
 */
export interface SharedTokenFailure {
  /** The `TokenRequestError` code, e.g. `ERR_TOKEN_REJECTED`. */
  code: string;
  /** HTTP status of the token endpoint's answer, when there was one. */
  status?: number;
  /** OAuth `error` (e.g. `invalid_client`), when there was one. */
  error?: string;
  /** Until when other processes should not try (milliseconds since the epoch). */
  until: number;
  /** The MAC of the marker (see {@link TokenSet.integrity}): a marker without a valid one is ignored. */
  integrity?: string;
}

/**
 * A held lock of {@link TokenCache.lock}.
 *
 * @example
 * ```ts
 * import { RedisTokenCache } from 'express-m2m/redis';
 *
 * const cache = new RedisTokenCache({ url: 'redis://127.0.0.1:6379' });
 * const lock = await cache.lock('some-key', 30_000);
 * if (lock !== undefined) {
 *   try {
 *     // fetch the token and store it
 *   } finally {
 *     await lock.release();
 *   }
 * }
 * ```
 */
export interface TokenCacheLock {
  /** Releases the lock if this holder still owns it (a lock that expired and was taken by another is left alone). */
  release(): Promise<void>;
}

/**
 * A store of tokens. Keys are opaque strings made by the provider (a hash of token endpoint, client id,
 * audience, scope and resource; never the secret). Methods may throw or reject when the store is
 * unreachable: the provider then falls back to its own memory and reports a `cache.fallback` event.
 *
 * @example
 * ```ts
 * import { clientCredentials, MemoryTokenCache } from 'express-m2m';
 *
 * // Two providers with the same client and audience share one token through one cache.
 * const cache = new MemoryTokenCache({ maxEntries: 100 });
 * const options = {
 *   tokenEndpoint: 'https://auth.example.com/oauth/token',
 *   clientId: 'orders',
 *   clientSecret: 'placeholder-secret',
 *   audience: 'https://billing.example.com',
 *   cache,
 * };
 * const a = clientCredentials(options);
 * const b = clientCredentials(options);
 * ```
 */
export interface TokenCache {
  /** The token stored under `key`, or undefined. */
  get(key: string): Promise<TokenSet | undefined>;
  /** Stores `token` under `key` for `ttl` milliseconds (the provider makes it end before the token expires). */
  set(key: string, token: TokenSet, ttl: number): Promise<void>;
  /** Removes the token stored under `key`. */
  delete(key: string): Promise<void>;
  /**
   * Optional cross-process single-flight: tries to take a short lock on `key` for `ttl` milliseconds.
   * Resolves to the held lock, or to undefined when another holder has it. Stores shared by one
   * process only (memory) leave it out: the provider's own single-flight covers them.
   */
  lock?(key: string, ttl: number): Promise<TokenCacheLock | undefined>;
  /**
   * Optional, with `lock`: shares a failure under `key` for `ttl` milliseconds (the holder's
   * failure cooldown), so the processes waiting on the lock latch on it instead of trying themselves.
   */
  setFailure?(key: string, failure: SharedTokenFailure, ttl: number): Promise<void>;
  /** Optional, with `setFailure`: the failure shared under `key`, if any. */
  getFailure?(key: string): Promise<SharedTokenFailure | undefined>;
  /** Releases connections the store opened itself. */
  close?(): Promise<void>;
}
