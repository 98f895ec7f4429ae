/**
 * `createKeySource`: where verification keys come from (remote JWKS, static public key or shared
 * secret), behind the one {@link KeySource} contract that verification uses.
 */
import { JWKS_DEFAULTS, keyMaterial, resolveJwksOptions, type KeyMaterial, type KeySourceOptions, type ResolvedJwksOptions } from './options.js';
import { RemoteJwksKeySource } from './remote-jwks-source.js';
import { SecretKeySource } from './secret-key-source.js';
import { StaticKeySource } from './static-key-source.js';
import type { KeySource, KeySourceEvent } from './types.js';

/**
 * Creates the key source for verifying access tokens. Give exactly one of `jwksUri`, `publicKey`
 * or `secret`; invalid or contradictory options throw a `TypeError` naming the option.
 *
 * `getKey({ alg, kid })` returns an imported `KeyObject` that fits `alg`: synchronously when the
 * key is at hand, as a promise when it must be fetched. It throws (or rejects with)
 * `InvalidTokenError` when no key fits the token (codes `ERR_JWKS_NO_MATCHING_KEY`,
 * `ERR_JWKS_MULTIPLE_MATCHING_KEYS`, `ERR_KEY_ALG_MISMATCH`, `ERR_KEY_ALG_NOT_SUPPORTED`) and
 * `KeySourceUnavailableError` (503 with `Retry-After`) when the issuer's keys cannot be had.
 *
 * A remote JWKS is fetched with jwks-rsa and held in a single cache: single-flight fetches,
 * `Cache-Control: max-age` honoured within bounds, refresh ahead of expiry in the background,
 * at most one refetch per `cooldownDuration` for unknown `kid`s (which are negatively cached),
 * a timeout on every fetch, and a bounded stale window during outages. See {@link JwksOptions}.
 *
 * @example
 * ```ts
 * import { createKeySource } from 'express-m2m';
 *
 * const keys = createKeySource({
 *   jwksUri: 'https://issuer.example.com/.well-known/jwks.json',
 *   jwks: { cooldownDuration: 30_000, maxStale: 3_600_000 },
 *   onEvent: (event) => console.log(event.type),
 * });
 * await keys.warmUp(); // optional: fetch the keys before the first request
 * const key = await keys.getKey({ alg: 'RS256', kid: 'key-1' });
 * ```
 */
export function createKeySource(options: KeySourceOptions): KeySource {
  const material = keyMaterial(options);
  const jwks = material.kind === 'jwks' ? resolveJwksOptions(options.jwks) : undefined;
  const listener = options.onEvent;
  const emit = listener === undefined
    ? undefined
    : (event: KeySourceEvent) => {
      try {
        listener(event);
      } catch {
        // An observer must never break verification.
      }
    };
  return buildKeySource(material, { jwks, emit, now: options.now ?? Date.now });
}

/**
 * Internal: builds the key source from options already validated (by {@link createKeySource}, or
 * by `createVerifier`'s own option resolution), without checking them again. `emit` must not throw.
 */
export function buildKeySource(
  material: KeyMaterial,
  settings: { jwks: ResolvedJwksOptions | undefined; emit: ((event: KeySourceEvent) => void) | undefined; now: () => number },
): KeySource {
  switch (material.kind) {
    case 'secret':
      return new SecretKeySource(material.secret);
    case 'publicKey':
      return new StaticKeySource(material.publicKey);
    case 'jwks':
      return new RemoteJwksKeySource({
        jwksUri: material.jwksUri,
        jwks: settings.jwks ?? JWKS_DEFAULTS,
        emit: settings.emit ?? (() => undefined),
        now: settings.now,
      });
  }
}
