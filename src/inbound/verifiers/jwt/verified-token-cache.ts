/**
 * Internal: the verified-token cache. Bounded by entries and by estimated bytes (approximate LRU
 * over a `Map`), keyed by the SHA-256
 * of the token (never the token itself), holding only tokens that passed every check, each with
 * the time interval in which the uncached checks would pass too. It owns the key-source
 * generation its entries were verified under: a lookup or store under another generation drops
 * every entry first.
 */
import { hash as digest } from 'node:crypto';
import type { VerifiedToken } from '../../verified-token.js';

/** One cached verification and the interval (epoch milliseconds) in which it may be served. */
export interface CachedVerification {
  readonly value: VerifiedToken;
  /** Served only while `nowMs >= validFrom`. */
  readonly validFrom: number;
  /** Served only while `nowMs < validUntil`. */
  readonly validUntil: number;
  /** Estimated memory held by the entry, in bytes (see {@link entryBytes}). */
  readonly bytes: number;
  /** Index of the entry's slot in the clock ring. */
  readonly slot: number;
  /** Set by every hit, cleared when the clock hand passes: a second chance before eviction. */
  referenced: boolean;
}

/** Fixed per-entry cost estimate: the map slot, the hash key, the entry and result objects. */
const ENTRY_OVERHEAD_BYTES = 256;

/**
 * Estimated memory of a cached verification of `token`: the token string, plus its parsed header
 * and payload (about as large again), plus a fixed overhead. An estimate, used for the byte budget.
 */
export function entryBytes(token: string): number {
  return 2 * token.length + ENTRY_OVERHEAD_BYTES;
}

/**
 * The interval (epoch milliseconds) in which the claim checks pass, from the window in whole
 * seconds that `checkClaims` returns (the checks compare `floor(nowMs / 1000)`), capped at
 * `freshUntil`: the time the key source's keys stop being fresh.
 */
export function validityInterval(
  window: { notBefore: number; expiresBefore: number; maxAgeUntil: number },
  freshUntil: number,
): { validFrom: number; validUntil: number } {
  // floor(ms/1000) >= nb  <=>  ms >= ceil(nb) * 1000;  floor(ms/1000) < eb  <=>  ms < ceil(eb) * 1000;
  // floor(ms/1000) <= ma  <=>  ms < (floor(ma) + 1) * 1000.
  return {
    validFrom: Math.ceil(window.notBefore) * 1000,
    validUntil: Math.min(Math.ceil(window.expiresBefore) * 1000, (Math.floor(window.maxAgeUntil) + 1) * 1000, freshUntil),
  };
}

/** The cache key of a token: its SHA-256, base64 (the one-shot `crypto.hash`, in every Node this package supports: 20.12+). */
export function tokenHash(token: string): string {
  return digest('sha256', token, 'base64');
}

/**
 * Bounded cache of verified tokens with CLOCK eviction (an O(1) approximation of LRU): a hit only
 * sets a flag, and eviction walks a ring of slots, sparing entries hit since the hand last passed.
 * A Map used as a FIFO queue instead (delete the first key, insert at the end) degrades: the
 * deleted keys stay at the front of V8's hash table until it is rebuilt, so finding the oldest
 * entry scans them, about 10 µs per eviction at 10,000 entries on the benchmark machine.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, CachedVerification>();
  /** Hash stored in each slot, or undefined for a free slot (grows up to `maxEntries` slots). */
  private readonly ring: Array<string | undefined> = [];
  /** Slots freed by expiry or eviction, reused before untouched ones. */
  private readonly free: number[] = [];
  /** Slots handed out at least once; those past it have never been used. */
  private filled = 0;
  private hand = 0;
  private bytes = 0;
  /** The key-source generation the entries were verified under. */
  private generation: number | undefined;

  /** `onFlush` is told how many entries a generation change dropped (when there were any). */
  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
    private readonly onFlush: (entries: number) => void,
  ) {}

  /** Drops every entry when `generation` is not the one they were verified under. */
  private adopt(generation: number): void {
    if (generation === this.generation) return;
    this.generation = generation;
    const entries = this.clear();
    if (entries > 0) this.onFlush(entries);
  }

  private remove(hash: string, entry: CachedVerification): void {
    this.entries.delete(hash);
    this.ring[entry.slot] = undefined;
    this.free.push(entry.slot);
    this.bytes -= entry.bytes;
  }

  /** Evicts the first entry under the hand that was not hit since the hand last passed it. */
  private evictOne(): void {
    for (;;) {
      const slot = this.hand;
      // Every occupied slot is below `filled` (at least one is, or there would be nothing to evict).
      this.hand = (slot + 1) % this.filled;
      const hash = this.ring[slot];
      if (hash === undefined) continue;
      const entry = this.entries.get(hash) as CachedVerification;
      if (entry.referenced) {
        entry.referenced = false;
        continue;
      }
      this.remove(hash, entry);
      return;
    }
  }

  /**
   * The cached verification for `hash` if it may be served at `nowMs`. An entry outside its
   * interval is dropped (the caller then verifies in full, which reports the precise reason).
   */
  get(hash: string, nowMs: number, generation: number): VerifiedToken | undefined {
    if (generation !== this.generation) {
      this.adopt(generation);
      return undefined;
    }
    const entry = this.entries.get(hash);
    if (entry === undefined) return undefined;
    if (nowMs < entry.validFrom || nowMs >= entry.validUntil) {
      this.remove(hash, entry);
      return undefined;
    }
    entry.referenced = true;
    return entry.value;
  }

  /**
   * Stores a verification that passed every check with a key of key-source `generation`; evicts
   * by CLOCK when full (by entries or by the byte budget).
   */
  set(
    hash: string,
    value: VerifiedToken,
    interval: { validFrom: number; validUntil: number },
    nowMs: number,
    generation: number,
  ): void {
    if (nowMs >= interval.validUntil) return;
    const bytes = entryBytes(value.token);
    if (bytes > this.maxBytes) return;
    this.adopt(generation);
    const existing = this.entries.get(hash);
    if (existing !== undefined) this.remove(hash, existing);
    while (this.entries.size >= this.maxEntries || (this.entries.size > 0 && this.bytes + bytes > this.maxBytes)) {
      this.evictOne();
    }
    const slot = this.free.pop() ?? this.filled++;
    this.ring[slot] = hash;
    this.entries.set(hash, {
      value,
      validFrom: interval.validFrom,
      validUntil: interval.validUntil,
      bytes,
      slot,
      referenced: false,
    });
    this.bytes += bytes;
  }

  /** Drops every entry; returns how many there were. */
  clear(): number {
    const count = this.entries.size;
    this.entries.clear();
    this.ring.length = 0;
    this.free.length = 0;
    this.filled = 0;
    this.hand = 0;
    this.bytes = 0;
    return count;
  }
}
