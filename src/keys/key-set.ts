/**
 * Internal: a set of imported keys indexed for the hot path (by `kid`, and by `alg` for tokens
 * without a `kid`). Lookups are a map read and a set check; nothing is parsed per request.
 */
import type { KeyObject } from 'node:crypto';
import { keyMismatch } from './algorithms.js';
import type { KeyEntry } from './import-jwk.js';

/** What a lookup found. */
export type KeyLookup =
  | { status: 'found'; key: KeyObject }
  /** No key has this kid (or, without a kid, no key fits the alg). */
  | { status: 'unknown' }
  /** A key has this kid but cannot verify the alg. */
  | { status: 'mismatch'; reason: string }
  /** The key with this kid (or the one fitting the alg) belongs to another issuer (its JWK `issuer`). */
  | { status: 'other-issuer'; keyIssuer: string }
  /** No kid and several keys fit the alg. */
  | { status: 'ambiguous' };

const UNKNOWN: KeyLookup = { status: 'unknown' };
const AMBIGUOUS: KeyLookup = { status: 'ambiguous' };

export class KeySet {
  readonly entries: readonly KeyEntry[];
  /** Union of the algorithms of all keys. */
  readonly algorithms: readonly string[];
  private readonly byKid = new Map<string, KeyEntry[]>();
  private readonly byAlg = new Map<string, KeyEntry[]>();
  /** A lone key without a kid in a static source answers every kid (a PEM has no kid to compare). */
  private readonly wildcard: KeyEntry | undefined;
  private readonly found = new Map<KeyEntry, KeyLookup>();

  constructor(entries: readonly KeyEntry[], options: { loneKeyMatchesAnyKid?: boolean } = {}) {
    this.entries = entries;
    const algorithms = new Set<string>();
    for (const entry of entries) {
      this.found.set(entry, { status: 'found', key: entry.key });
      if (entry.kid !== undefined) push(this.byKid, entry.kid, entry);
      for (const alg of entry.algorithms) {
        push(this.byAlg, alg, entry);
        algorithms.add(alg);
      }
    }
    this.algorithms = [...algorithms];
    const [only] = entries;
    this.wildcard = options.loneKeyMatchesAnyKid && entries.length === 1 && only?.kid === undefined ? only : undefined;
  }

  /**
   * The key for a token's `alg` and `kid`. With `issuer` (the issuer the token must belong to), a
   * key whose JWK names another `issuer` is not used for it (see {@link issuerFits}).
   */
  lookup(alg: string, kid: string | undefined, issuer?: string): KeyLookup {
    if (kid !== undefined && this.wildcard === undefined) {
      const candidates = this.byKid.get(kid);
      if (candidates === undefined) return UNKNOWN;
      for (const entry of candidates) {
        if (entry.algorithms.has(alg)) return this.ofIssuer(entry, issuer);
      }
      return { status: 'mismatch', reason: mismatchReason(candidates[0]!, alg) };
    }
    if (this.wildcard !== undefined) {
      if (this.wildcard.algorithms.has(alg)) return this.ofIssuer(this.wildcard, issuer);
      return { status: 'mismatch', reason: mismatchReason(this.wildcard, alg) };
    }
    const fitting = this.byAlg.get(alg);
    if (fitting === undefined) return UNKNOWN;
    if (fitting.length > 1) return AMBIGUOUS;
    return this.ofIssuer(fitting[0]!, issuer);
  }

  private ofIssuer(entry: KeyEntry, issuer: string | undefined): KeyLookup {
    if (issuer === undefined || entry.issuer === undefined || issuerFits(entry.issuer, issuer)) return this.found.get(entry)!;
    return { status: 'other-issuer', keyIssuer: entry.issuer };
  }

  /**
   * True when both sets hold the same keys with the same kids, declared algorithms and issuers, in
   * the same order. An entry's algorithms are not compared: `importJwk` derives them from its key
   * and its declared `alg`, both compared here.
   */
  sameKeysAs(other: KeySet): boolean {
    if (other.entries.length !== this.entries.length) return false;
    return this.entries.every((entry, index) => {
      const theirs = other.entries[index]!;
      return entry.kid === theirs.kid
        && entry.declaredAlg === theirs.declaredAlg
        && entry.issuer === theirs.issuer
        && entry.key.equals(theirs.key);
    });
  }
}

/** The placeholder of Microsoft Entra ID's key issuers (and issuer templates) for the tenant id. */
const TENANT_PLACEHOLDER = '{tenantid}';

/**
 * Whether a key whose JWK says it belongs to `keyIssuer` may verify a token of `issuer`: the same
 * string, or, for a `{tenantid}` template (Entra's common keys serve every tenant), the template
 * with the placeholder standing for one non-empty path segment of `issuer`.
 */
export function issuerFits(keyIssuer: string, issuer: string): boolean {
  if (keyIssuer === issuer) return true;
  const at = keyIssuer.indexOf(TENANT_PLACEHOLDER);
  if (at === -1) return false;
  const prefix = keyIssuer.slice(0, at);
  const suffix = keyIssuer.slice(at + TENANT_PLACEHOLDER.length);
  if (issuer.length <= prefix.length + suffix.length || !issuer.startsWith(prefix) || !issuer.endsWith(suffix)) return false;
  const tenant = issuer.slice(prefix.length, issuer.length - suffix.length);
  return !tenant.includes('/');
}

function push(map: Map<string, KeyEntry[]>, name: string, entry: KeyEntry): void {
  const list = map.get(name);
  if (list === undefined) map.set(name, [entry]);
  else list.push(entry);
}

/** Why `entry` cannot verify `alg` (called only when `alg` is not among its algorithms). */
function mismatchReason(entry: KeyEntry, alg: string): string {
  // A declared alg is the entry's only algorithm, so it differs from `alg` here.
  if (entry.declaredAlg !== undefined) return `the key is declared for ${entry.declaredAlg}`;
  return keyMismatch(entry.key, alg) ?? `the key is not usable with ${alg}`;
}
