/**
 * Internal: the answers of the introspection endpoint, per token, keyed by the token's SHA-256
 * (never the token: no token sits in memory as a key, and one token's answer can only be found
 * with that token). An accepted token is kept with the interval in which its checks pass (capped
 * at `maxAge`), a refused one (inactive, or claims refused) for `inactiveMaxAge`. Bounded by
 * `maxEntries`, least recently used first out.
 */
import type { InvalidTokenError } from '../../../errors/bearer-errors.js';
import type { VerifiedToken } from '../../verified-token.js';

/** A token the endpoint said is active and whose claims passed: what every request with it gets (but the token). */
export interface AcceptedAnswer {
  readonly kind: 'accepted';
  readonly header: VerifiedToken['header'];
  readonly payload: VerifiedToken['payload'];
  readonly scopes: readonly string[];
  /** Served only while `nowMs >= validFrom`. */
  readonly validFrom: number;
  /** Served only while `nowMs < validUntil`. */
  readonly validUntil: number;
}

/** A token the endpoint said is inactive, or whose claims were refused. */
export interface RefusedAnswer {
  readonly kind: 'refused';
  readonly error: InvalidTokenError;
  readonly validFrom: number;
  readonly validUntil: number;
}

export type CachedAnswer = AcceptedAnswer | RefusedAnswer;

export class IntrospectionCache {
  /** Insertion order = recency (a hit moves the entry to the end). */
  private readonly entries = new Map<string, CachedAnswer>();

  constructor(private readonly maxEntries: number) {}

  /** The answer for `hash` if it may be served at `nowMs`; one outside its interval is dropped. */
  get(hash: string, nowMs: number): CachedAnswer | undefined {
    const entry = this.entries.get(hash);
    if (entry === undefined) return undefined;
    this.entries.delete(hash);
    if (nowMs < entry.validFrom || nowMs >= entry.validUntil) return undefined;
    this.entries.set(hash, entry);
    return entry;
  }

  set(hash: string, answer: CachedAnswer, nowMs: number): void {
    if (this.maxEntries === 0 || nowMs >= answer.validUntil) return;
    this.entries.delete(hash);
    this.entries.set(hash, answer);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** How many answers are kept (for tests and events). */
  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
