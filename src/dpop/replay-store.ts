/**
 * The DPoP replay record (RFC 9449 section 11.1): each proof's `jti` is accepted once while the
 * proof could be accepted at all. The contract is one call, `remember`, that records a key and
 * says whether it was new, atomically (Redis: `SET NX PX`). In memory by default, bounded; shared
 * across replicas with `redisReplayStore` (`express-m2m/redis`).
 */
import { OptionReader, type KnownOptions } from '../options/option-reader.js';

/**
 * Where seen DPoP proofs are recorded. `remember(key, expiresAt, now)` records `key` until
 * `expiresAt` (milliseconds) and returns `true`, or returns `false` when `key` is recorded already
 * (a replay). It throws (or rejects) when it cannot tell: the request is then refused with 503,
 * never accepted without the check.
 *
 * @example
 * ```ts
 * import type { DpopReplayStore } from 'express-m2m';
 *
 * const seen = new Map<string, number>();
 * const store: DpopReplayStore = {
 *   remember: (key, expiresAt, now) => {
 *     if ((seen.get(key) ?? 0) > now) return false;
 *     seen.set(key, expiresAt);
 *     return true;
 *   },
 * };
 * ```
 */
export interface DpopReplayStore {
  /** Records `key` until `expiresAt` (ms) and returns `true`, or returns `false` when it is recorded already; throws when it cannot tell. */
  remember(key: string, expiresAt: number, now: number): boolean | PromiseLike<boolean>;
  /** Releases what the store holds (connections it opened). Optional. */
  close?(): void | Promise<void>;
}

/**
 * Options of {@link memoryReplayStore}.
 *
 * @example
 * ```ts
 * import { memoryReplayStore, type MemoryReplayStoreOptions } from 'express-m2m';
 *
 * const options: MemoryReplayStoreOptions = { maxEntries: 500_000 };
 * const replayStore = memoryReplayStore(options);
 * ```
 */
export interface MemoryReplayStoreOptions {
  /**
   * Most proofs recorded at once (about 150 bytes each). When every entry is still live, a new
   * proof is refused with 503 rather than an old entry dropped (dropping one would let its proof be
   * replayed). Default 100000: with the default 5-minute window, about 330 new proofs a second.
   */
  maxEntries?: number;
}

const MEMORY_OPTION_NAMES: KnownOptions<MemoryReplayStoreOptions> = { maxEntries: true };

/** The default bound of the memory replay store. */
export const DEFAULT_REPLAY_ENTRIES = 100_000;

/** Shortest time between two sweeps of a full store, in milliseconds (a full store is not swept on every request). */
const SWEEP_INTERVAL = 1000;

class MemoryReplayStore implements DpopReplayStore {
  private readonly entries = new Map<string, number>();
  private readonly maxEntries: number;
  private lastSweep = -Infinity;

  constructor(maxEntries: number) {
    this.maxEntries = maxEntries;
  }

  remember(key: string, expiresAt: number, now: number): boolean {
    const until = this.entries.get(key);
    if (until !== undefined) {
      if (until > now) return false;
      this.entries.delete(key);
    }
    if (this.entries.size >= this.maxEntries) {
      if (now - this.lastSweep >= SWEEP_INTERVAL) {
        this.lastSweep = now;
        for (const [entry, entryUntil] of this.entries) if (entryUntil <= now) this.entries.delete(entry);
      }
      if (this.entries.size >= this.maxEntries) {
        throw new Error(`the DPoP replay store is full (${this.maxEntries} live proofs); raise maxEntries or use redisReplayStore`);
      }
    }
    this.entries.set(key, expiresAt);
    return true;
  }

  close(): void {
    this.entries.clear();
  }
}

/**
 * A DPoP replay store in this process's memory: right for one process; replicas behind a load
 * balancer need a shared one (`redisReplayStore` of `express-m2m/redis`), or a proof refused by
 * one replica is accepted by the next. Bounded by `maxEntries`.
 *
 * @example
 * ```ts
 * import { memoryReplayStore, requireAuth } from 'express-m2m';
 *
 * app.use(requireAuth({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example', dpop: { replayStore: memoryReplayStore({ maxEntries: 500_000 }) } }));
 * ```
 */
export function memoryReplayStore(options: MemoryReplayStoreOptions = {}): DpopReplayStore {
  const read = new OptionReader<MemoryReplayStoreOptions>(options, MEMORY_OPTION_NAMES, { caller: 'memoryReplayStore' });
  return new MemoryReplayStore(read.integer('maxEntries', DEFAULT_REPLAY_ENTRIES));
}
