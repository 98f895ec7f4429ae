/**
 * Internal: the local issuer's signing keys. One current key per algorithm, plus the keys kept
 * after a rotation; every key has a kid and an `alg` in its public JWK.
 */
import { generateRingKey, generateRingKeyAsync, type RingKey } from './key-generation.js';
import type { JsonWebKeySet, LocalIssuerAlgorithm } from './types.js';

export type { RingKey };

/**
 * The asymmetric algorithms the local issuer can generate keys for and sign with.
 *
 * @example
 * ```ts
 * for (const alg of LOCAL_ISSUER_ALGORITHMS) await issuer.sign({ aud: 'https://api' }, { alg });
 * ```
 */
export const LOCAL_ISSUER_ALGORITHMS: readonly LocalIssuerAlgorithm[] = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA',
];

/** Whether `alg` is one of {@link LOCAL_ISSUER_ALGORITHMS}. */
export function isLocalIssuerAlgorithm(alg: unknown): alg is LocalIssuerAlgorithm {
  return typeof alg === 'string' && (LOCAL_ISSUER_ALGORITHMS as readonly string[]).includes(alg);
}

/** The issuer's keys: current per algorithm, plus retired-but-served ones. */
export class KeyRing {
  private readonly keys: RingKey[] = [];
  private readonly current = new Map<LocalIssuerAlgorithm, RingKey>();
  private readonly pending = new Map<LocalIssuerAlgorithm, Promise<RingKey>>();

  /** Adds a key; it becomes current for its algorithm when that has none (or when `makeCurrent`). */
  add(alg: LocalIssuerAlgorithm, makeCurrent = false): RingKey {
    const key = generateRingKey(alg);
    this.keys.push(key);
    if (makeCurrent || !this.current.has(alg)) this.current.set(alg, key);
    return key;
  }

  /**
   * The current key of `alg`; when it has none, one is generated without blocking the event loop
   * (concurrent callers share the generation).
   */
  async currentForAsync(alg: LocalIssuerAlgorithm): Promise<RingKey> {
    const existing = this.current.get(alg);
    if (existing) return existing;
    let pending = this.pending.get(alg);
    if (!pending) {
      pending = generateRingKeyAsync(alg)
        .then((key) => {
          const winner = this.current.get(alg);
          if (winner) return winner; // a synchronous add() got there first
          this.keys.push(key);
          this.current.set(alg, key);
          return key;
        })
        .finally(() => this.pending.delete(alg));
      this.pending.set(alg, pending);
    }
    return pending;
  }

  /** The current key of `alg`, generated (synchronously) on first use. */
  currentFor(alg: LocalIssuerAlgorithm): RingKey {
    return this.current.get(alg) ?? this.add(alg);
  }

  /** The current key of `alg`, if any. */
  peekCurrent(alg: LocalIssuerAlgorithm): RingKey | undefined {
    return this.current.get(alg);
  }

  /** Replaces the current key of `alg`; keeps only the immediately previous one when `keepPrevious`. */
  rotate(alg: LocalIssuerAlgorithm, keepPrevious: boolean): RingKey {
    const previous = this.current.get(alg);
    const next = generateRingKey(alg);
    for (let i = this.keys.length - 1; i >= 0; i -= 1) {
      const key = this.keys[i]!;
      if (key.alg === alg && !(keepPrevious && key === previous)) this.keys.splice(i, 1);
    }
    this.keys.push(next);
    this.current.set(alg, next);
    return next;
  }

  /** Stops serving `kid`. A removed current key leaves its algorithm with no current key. */
  remove(kid: string): boolean {
    const index = this.keys.findIndex((key) => key.kid === kid);
    if (index < 0) return false;
    const [removed] = this.keys.splice(index, 1);
    if (removed && this.current.get(removed.alg) === removed) {
      const replacement = [...this.keys].reverse().find((key) => key.alg === removed.alg);
      if (replacement) this.current.set(removed.alg, replacement);
      else this.current.delete(removed.alg);
    }
    return true;
  }

  /** The key with this kid, if served. */
  byKid(kid: string): RingKey | undefined {
    return this.keys.find((key) => key.kid === kid);
  }

  /** The algorithms that have keys. */
  algorithms(): LocalIssuerAlgorithm[] {
    return [...new Set(this.keys.map((key) => key.alg))];
  }

  /** The public JWK Set (fresh copies). */
  jwks(): JsonWebKeySet {
    return { keys: this.keys.map((key) => ({ ...key.publicJwk })) };
  }
}
