/**
 * The options of key sources (`createKeySource`, and the `jwks` options of `createVerifier` and
 * `requireAuth`): the one place where they are described, validated and defaulted.
 */
import type { JsonWebKey, KeyObject } from 'node:crypto';
import type { KnownOptions, OptionReader } from '../options/option-reader.js';
import type { FetchLike } from '../transport/fetch-like.js';
import type { KeySourceEvent } from './types.js';

/**
 * Tuning of a remote JWKS. Every duration is in milliseconds; the defaults are in {@link JWKS_DEFAULTS}.
 *
 * @example
 * ```ts
 * createKeySource({
 *   jwksUri: 'https://issuer.example.com/.well-known/jwks.json',
 *   jwks: { timeoutDuration: 2000, maxStale: 4 * 3_600_000 },
 * });
 * ```
 */
export interface JwksOptions {
  /** Longest time one JWKS request may take before it counts as failed. Default `5000` (5 s). */
  timeoutDuration?: number;
  /**
   * After a failed fetch, how long requests that need a fetch get `503` at once (with `Retry-After`
   * saying until when) instead of a new attempt: 1 s after the first failure, doubling with each
   * consecutive one, up to this. Default `30000` (30 s).
   */
  cooldownDuration?: number;
  /**
   * Minimum time between two fetches that tokens with an unknown `kid` trigger: a key the issuer
   * has just published is found within it, and a storm of made-up `kid`s costs at most one fetch
   * per interval. Default `5000` (5 s).
   */
  refetchInterval?: number;
  /** How long a fetched key set is fresh when the response has no `Cache-Control: max-age`. Default `600000` (10 min). */
  cacheMaxAge?: number;
  /** Lower bound applied to the response's `Cache-Control: max-age` (also used for `no-cache`/`no-store`). Default `60000` (1 min). */
  minCacheMaxAge?: number;
  /** Upper bound applied to the response's `Cache-Control: max-age`. Default `86400000` (24 h). */
  maxCacheMaxAge?: number;
  /**
   * How long after its cache lifetime ends a key set keeps being used while the JWKS endpoint
   * cannot be reached (each use emits `keys.stale_used`). `0` disables the stale window.
   * Default `3600000` (1 h).
   */
  maxStale?: number;
  /**
   * How long before the cache lifetime ends a request that finds its key triggers a background
   * refresh (the request itself never waits for it). At most half the lifetime. Default `60000` (1 min).
   */
  refreshAheadDuration?: number;
  /** Most `kid`s remembered as absent from the key set (negative cache). Default `1000`. */
  maxUnknownKids?: number;
}

/** A JSON Web Key Set. */
export interface JwkSetInput {
  keys: JsonWebKey[];
}

/**
 * Options of `createKeySource`. Give exactly one of `jwksUri`, `publicKey` or `secret`.
 *
 * @example
 * ```ts
 * createKeySource({ jwksUri: 'https://issuer.example.com/.well-known/jwks.json' });
 * createKeySource({ publicKey: fs.readFileSync('issuer-public.pem', 'utf8') });
 * createKeySource({ secret: process.env.JWT_SECRET! }); // at least 32 bytes
 * ```
 */
export interface KeySourceOptions {
  /**
   * URL of the issuer's JWK Set (http or https), or a function that resolves it (how a
   * `jwks_uri` found by discovery is passed lazily; when it throws, the issuer counts as
   * unreachable). Verifies RS256/384/512, PS256/384/512, ES256/384/512 and EdDSA (Ed25519).
   */
  jwksUri?: string | (() => Promise<string>);
  /**
   * A static public key: a PEM string (SPKI `PUBLIC KEY`, PKCS#1 `RSA PUBLIC KEY` or an X.509
   * `CERTIFICATE`), a public JWK, a JWK Set (`{ keys: [...] }`, also as a JSON string) or a public
   * `KeyObject`. Private keys are refused. Verifies the algorithms its key type supports.
   */
  publicKey?: string | JsonWebKey | JwkSetInput | KeyObject;
  /**
   * A shared secret for HS256/384/512, as a UTF-8 string or bytes. At least 32 bytes (256 bits,
   * RFC 7518 section 3.2); HS384 needs 48 and HS512 64, so a shorter secret only serves the
   * algorithms it is long enough for.
   */
  secret?: string | Uint8Array;
  /** Tuning of the remote JWKS (only with `jwksUri`). */
  jwks?: JwksOptions;
  /** Receives `keys.*` events (fetches, failures, stale-key use, unknown kids). A throwing listener is ignored. */
  onEvent?: (event: KeySourceEvent) => void;
  /** Clock in milliseconds since the epoch, for tests. Default `Date.now`. */
  now?: () => number;
  /** The transport of JWKS requests (a proxy, a pinned CA...). Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Allow a plain-http `jwksUri` that is not a loopback address (test networks only). Default `false`. */
  allowInsecureHttp?: boolean;
}

/** JWKS options with every default applied. */
export type ResolvedJwksOptions = Required<JwksOptions>;

/**
 * Defaults of {@link JwksOptions} (milliseconds, except `maxUnknownKids`).
 *
 * @example
 * ```ts
 * import { JWKS_DEFAULTS } from 'express-m2m';
 * const jwks = { cooldownDuration: JWKS_DEFAULTS.cooldownDuration * 2 };
 * ```
 */
export const JWKS_DEFAULTS: Readonly<Required<JwksOptions>> = Object.freeze({
  timeoutDuration: 5000,
  cooldownDuration: 30_000,
  refetchInterval: 5000,
  cacheMaxAge: 600_000,
  minCacheMaxAge: 60_000,
  maxCacheMaxAge: 86_400_000,
  maxStale: 3_600_000,
  refreshAheadDuration: 60_000,
  maxUnknownKids: 1000,
});

/** Every name of {@link JwksOptions}. */
export const JWKS_OPTION_NAMES: KnownOptions<JwksOptions> = {
  timeoutDuration: true, cooldownDuration: true, refetchInterval: true, cacheMaxAge: true, minCacheMaxAge: true, maxCacheMaxAge: true,
  maxStale: true, refreshAheadDuration: true, maxUnknownKids: true,
};

/** Validates the `jwks` options read by `read` and applies the defaults. Throws a `TypeError` naming the option. */
export function resolveJwksOptions(read: OptionReader<JwksOptions>): ResolvedJwksOptions {
  const d = JWKS_DEFAULTS;
  const resolved: ResolvedJwksOptions = {
    timeoutDuration: read.duration('timeoutDuration', d.timeoutDuration),
    cooldownDuration: read.duration('cooldownDuration', d.cooldownDuration, { zero: true }),
    refetchInterval: read.duration('refetchInterval', d.refetchInterval, { zero: true }),
    cacheMaxAge: read.duration('cacheMaxAge', d.cacheMaxAge, { zero: true }),
    minCacheMaxAge: read.duration('minCacheMaxAge', d.minCacheMaxAge, { zero: true }),
    maxCacheMaxAge: read.duration('maxCacheMaxAge', d.maxCacheMaxAge, { zero: true }),
    maxStale: read.duration('maxStale', d.maxStale, { zero: true }),
    refreshAheadDuration: read.duration('refreshAheadDuration', d.refreshAheadDuration, { zero: true }),
    maxUnknownKids: read.number('maxUnknownKids', d.maxUnknownKids),
  };
  if (resolved.minCacheMaxAge > resolved.maxCacheMaxAge) read.fail('minCacheMaxAge', 'must not be larger than "jwks.maxCacheMaxAge"');
  if (resolved.cacheMaxAge === 0) read.fail('cacheMaxAge', 'must be positive');
  if (resolved.maxCacheMaxAge === 0) read.fail('maxCacheMaxAge', 'must be positive');
  return resolved;
}
