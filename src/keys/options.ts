/**
 * The options of {@link createKeySource}: the one place where they are described, validated and
 * defaulted.
 */
import { isHttpUrl } from '../lib/urls.js';
import type { JsonWebKey, KeyObject } from 'node:crypto';
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
   * Minimum time between two fetches that a token with an unknown `kid` may trigger, and after a
   * failed fetch, how long requests that need a fetch get `503` at once instead of a new attempt.
   * Default `30000` (30 s).
   */
  cooldownDuration?: number;
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
export const JWKS_DEFAULTS: Readonly<ResolvedJwksOptions> = Object.freeze({
  timeoutDuration: 5000,
  cooldownDuration: 30_000,
  cacheMaxAge: 600_000,
  minCacheMaxAge: 60_000,
  maxCacheMaxAge: 86_400_000,
  maxStale: 3_600_000,
  refreshAheadDuration: 60_000,
  maxUnknownKids: 1000,
});

/** The key material option that was given, after checking that exactly one was. */
export type KeyMaterial =
  | { kind: 'jwks'; jwksUri: string | (() => Promise<string>) }
  | { kind: 'publicKey'; publicKey: NonNullable<KeySourceOptions['publicKey']> }
  | { kind: 'secret'; secret: string | Uint8Array };

/** Checks which key material was given, and its type. Throws a `TypeError` naming the option. */
export function keyMaterial(options: KeySourceOptions): KeyMaterial {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('key source options must be an object with one of "jwksUri", "publicKey" or "secret"');
  }
  const given = (['jwksUri', 'publicKey', 'secret'] as const).filter((name) => options[name] !== undefined);
  if (given.length === 0) throw new TypeError('one of "jwksUri", "publicKey" or "secret" is required');
  if (given.length > 1) {
    throw new TypeError(`"jwksUri", "publicKey" and "secret" are mutually exclusive, got ${given.map((n) => `"${n}"`).join(' and ')}`);
  }
  if (options.jwks !== undefined && options.jwksUri === undefined) {
    throw new TypeError('"jwks" options apply only with "jwksUri"');
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') throw new TypeError('"onEvent" must be a function');
  if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('"now" must be a function returning milliseconds');

  if (options.jwksUri !== undefined) {
    const { jwksUri } = options;
    if (typeof jwksUri === 'string') checkHttpUrl(jwksUri, 'jwksUri');
    else if (typeof jwksUri !== 'function') throw new TypeError('"jwksUri" must be an http(s) URL string or a function returning one');
    return { kind: 'jwks', jwksUri };
  }
  if (options.secret !== undefined) {
    const { secret } = options;
    if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) throw new TypeError('"secret" must be a string or a Uint8Array');
    return { kind: 'secret', secret };
  }
  const publicKey = options.publicKey!;
  if (typeof publicKey !== 'string' && typeof publicKey !== 'object') {
    throw new TypeError('"publicKey" must be a PEM string, a JWK, a JWK Set or a KeyObject');
  }
  if (publicKey === null) throw new TypeError('"publicKey" must be a PEM string, a JWK, a JWK Set or a KeyObject');
  return { kind: 'publicKey', publicKey };
}

/** Validates `jwks` and applies the defaults. Throws a `TypeError` naming the option. */
export function resolveJwksOptions(jwks: JwksOptions | undefined): ResolvedJwksOptions {
  if (jwks !== undefined && (typeof jwks !== 'object' || jwks === null)) throw new TypeError('"jwks" must be an object');
  const resolved = { ...JWKS_DEFAULTS };
  for (const name of Object.keys(JWKS_DEFAULTS) as (keyof ResolvedJwksOptions)[]) {
    const value = jwks?.[name];
    if (value === undefined) continue;
    const positive = name === 'timeoutDuration' || name === 'maxUnknownKids';
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
      throw new TypeError(`"jwks.${name}" must be a ${positive ? 'positive' : 'non-negative'} finite number${name === 'maxUnknownKids' ? '' : ' of milliseconds'}`);
    }
    resolved[name] = value;
  }
  if (resolved.minCacheMaxAge > resolved.maxCacheMaxAge) {
    throw new TypeError('"jwks.minCacheMaxAge" must not be larger than "jwks.maxCacheMaxAge"');
  }
  if (resolved.cacheMaxAge === 0) throw new TypeError('"jwks.cacheMaxAge" must be positive');
  if (resolved.maxCacheMaxAge === 0) throw new TypeError('"jwks.maxCacheMaxAge" must be positive');
  return resolved;
}

/** Throws a `TypeError` naming `option` unless `value` is an absolute http(s) URL. */
export function checkHttpUrl(value: string, option: string): void {
  if (!isHttpUrl(value)) {
    throw new TypeError(`"${option}" must be an absolute http(s) URL, got ${JSON.stringify(String(value).slice(0, 200))}`);
  }
}
