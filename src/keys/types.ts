/** The contract between key sources (this folder) and JWT verification (`src/verification`). */
import type { KeyObject } from 'node:crypto';

/** The protected-header fields a key source may use to pick a key. Never `jku`, `x5u`, `jwk` or `x5c`. */
export interface KeySelector {
  /** The token's `alg` header, already checked against the allowlist. */
  alg: string;
  /** The token's `kid` header, if any. */
  kid?: string;
  /**
   * The issuer the token must belong to, when the caller wants keys checked against it: a key
   * whose JWK names its own `issuer` (Microsoft Entra ID's keys do, their common keys as a
   * `{tenantid}` template) is then used only for that issuer. Absent: the JWK `issuer` is not looked at.
   */
  issuer?: string;
}

/** An event a key source reports for operators (plug a logger or metrics into `onEvent`). */
export type KeySourceEvent =
  | { type: 'keys.fetched'; uri: string; keyCount: number }
  | { type: 'keys.fetch_failed'; uri: string; error: Error }
  | { type: 'keys.stale_used'; uri: string; ageMs: number }
  | { type: 'keys.unknown_kid'; uri: string; kid: string | undefined; refetched: boolean }
  /** A key of a fetched JWKS was left out (private, not for signatures, unsupported type, too small...); the others are used. */
  | { type: 'keys.key_skipped'; uri: string; kid: string | undefined; reason: string };

/**
 * Where verification keys come from: a remote JWKS, a static public key or a shared secret.
 * `getKey` answers synchronously when the key is already at hand (the hot path never awaits a
 * cached key) and with a promise when it must be fetched.
 */
export interface KeySource {
  /** Algorithms this source can verify; the default allowlist is derived from it. */
  readonly algorithms: readonly string[];
  /**
   * The key for a token, already imported and checked against `alg` (the key type must fit the
   * algorithm). Throws (or rejects with) `InvalidTokenError` when no key fits the token, and
   * `KeySourceUnavailableError` when keys cannot be had because the issuer is unreachable.
   * `now` (epoch milliseconds) is the caller's clock reading for this request, so the clock is read
   * once per verification; a source may ignore it.
   */
  getKey(selector: KeySelector, now?: number): KeyObject | Promise<KeyObject>;
  /**
   * Changes whenever the set of keys changes (rotation, refetch with different keys, keys dropped
   * past their stale window), so caches of verified tokens can drop entries verified with keys
   * that are gone. Read on every request: a plain field read, no clock, no side effect.
   */
  readonly generation: number;
  /**
   * Until when (epoch milliseconds) the current keys stay fresh: before then, `getKey` gives the
   * same answer for the same token without fetching anything. Caches of verified tokens must not
   * serve an entry past it, so that refresh-ahead, expiry and removal of keys apply to cached
   * tokens too. Absent means `Infinity` (keys that never change, like a static key).
   */
  readonly freshUntil?: number;
  /** Fetches whatever must be fetched (discovery, JWKS) now, so the first request doesn't wait. */
  warmUp(): Promise<void>;
  /** Stops background refresh timers. */
  close?(): void;
}
