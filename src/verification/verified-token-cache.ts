/**
 * Internal: the verified-token cache. Bounded (approximate LRU over a `Map`), keyed by the SHA-256
 * of the token (never the token itself), holding only tokens that passed every check, each with
 * the time window in which the uncached checks would pass too. Flushed when the key source's
 * `generation` changes.
 */
import * as nodeCrypto from 'node:crypto';
import type { VerifiedToken } from './types.js';

/** One cached verification and the window (epoch seconds) in which it may be served. */
export interface CachedVerification {
  readonly value: VerifiedToken;
  /** Served only while `now >= notBefore` (from `nbf` and `iat`, minus the tolerance). */
  readonly notBefore: number;
  /** Served only while `now < expiresBefore` (from `exp` plus the tolerance). */
  readonly expiresBefore: number;
  /** Served only while `now <= maxAgeUntil` (from `iat + maxTokenAge` plus the tolerance). */
  readonly maxAgeUntil: number;
  /** Insertion order, for the approximate LRU. */
  seq: number;
}

type HashFunction = (algorithm: string, data: string, encoding: 'base64') => string;
const oneShotHash = (nodeCrypto as unknown as { hash?: HashFunction }).hash;

/** The cache key of a token: its SHA-256, base64. */
export const tokenHash: (token: string) => string = typeof oneShotHash === 'function'
  ? (token) => oneShotHash('sha256', token, 'base64')
  : (token) => nodeCrypto.createHash('sha256').update(token).digest('base64');

export class VerifiedTokenCache {
  private readonly entries = new Map<string, CachedVerification>();
  private seq = 0;
  /** The key-source generation the entries were verified under. */
  generation: number;

  constructor(readonly maxEntries: number, generation: number) {
    this.generation = generation;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached verification for `hash` if it may be served at `nowSeconds`. An entry outside its
   * window is dropped (the caller then verifies in full, which reports the precise reason).
   */
  get(hash: string, nowSeconds: number): VerifiedToken | undefined {
    const entry = this.entries.get(hash);
    if (entry === undefined) return undefined;
    if (nowSeconds < entry.notBefore || nowSeconds >= entry.expiresBefore || nowSeconds > entry.maxAgeUntil) {
      this.entries.delete(hash);
      return undefined;
    }
    // Approximate LRU: an entry is moved to the young end only once it has aged past half the
    // cache, so a hot token costs a single Map lookup almost always.
    if (this.seq - entry.seq > this.maxEntries >> 1) {
      this.entries.delete(hash);
      entry.seq = ++this.seq;
      this.entries.set(hash, entry);
    }
    return entry.value;
  }

  /** Stores a verification that passed every check; evicts the least recently used entry when full. */
  set(hash: string, value: VerifiedToken, window: { notBefore: number; expiresBefore: number; maxAgeUntil: number }): void {
    if (this.entries.has(hash)) this.entries.delete(hash);
    else if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(hash, {
      value,
      notBefore: window.notBefore,
      expiresBefore: window.expiresBefore,
      maxAgeUntil: window.maxAgeUntil,
      seq: ++this.seq,
    });
  }

  /** Drops every entry; returns how many there were. */
  clear(): number {
    const count = this.entries.size;
    this.entries.clear();
    return count;
  }
}
