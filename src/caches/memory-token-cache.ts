/** The default token cache: a bounded least-recently-used map in this process. */
import { OptionReader, type KnownOptions } from '../options/option-reader.js';
import type { TokenSet, TokenCache } from './token-cache.js';

/**
 * Options of {@link MemoryTokenCache}.
 *
 * @example
 * ```ts
 * import { MemoryTokenCache, type MemoryTokenCacheOptions } from 'express-m2m';
 *
 * const options: MemoryTokenCacheOptions = { maxEntries: 100 };
 * const cache = new MemoryTokenCache(options);
 * ```
 */
export interface MemoryTokenCacheOptions {
  /** Most tokens kept; the least recently used goes first. Default 1000. */
  maxEntries?: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

const MEMORY_TOKEN_CACHE_OPTION_NAMES: KnownOptions<MemoryTokenCacheOptions> = { maxEntries: true, now: true };

/**
 * A bounded LRU token cache in process memory. Each provider uses its own unless given one; pass
 * one instance to several providers to let those with the same client, endpoint, audience, scope
 * and resource share a token.
 *
 * @example
 * ```ts
 * import { MemoryTokenCache } from 'express-m2m';
 *
 * const cache = new MemoryTokenCache({ maxEntries: 50 });
 * await cache.set('key', { accessToken: 'a', tokenType: 'Bearer', obtainedAt: Date.now(), expiresAt: Date.now() + 60_000 }, 30_000);
 * console.log((await cache.get('key'))?.tokenType); // 'Bearer'
 * ```
 */
export class MemoryTokenCache implements TokenCache {
  /** Most entries kept. */
  readonly maxEntries: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, { token: TokenSet; until: number }>();

  constructor(options: MemoryTokenCacheOptions = {}) {
    const read = new OptionReader<MemoryTokenCacheOptions>(options, MEMORY_TOKEN_CACHE_OPTION_NAMES, { caller: 'MemoryTokenCache' });
    this.maxEntries = read.integer('maxEntries', 1000);
    this.now = read.func<() => number>('now', 'a function returning milliseconds') ?? Date.now;
  }

  /** Number of entries held (expired ones included until they are touched or evicted). */
  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<TokenSet | undefined> {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (this.now() >= entry.until) return undefined;
    this.entries.set(key, entry); // most recently used goes last
    return entry.token;
  }

  async set(key: string, token: TokenSet, ttl: number): Promise<void> {
    this.entries.delete(key);
    if (!(ttl > 0)) return;
    this.entries.set(key, { token, until: this.now() + ttl });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
}
