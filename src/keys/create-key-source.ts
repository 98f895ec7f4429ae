/**
 * `createKeySource`: where verification keys come from (remote JWKS, static public key or shared
 * secret), behind the one {@link KeySource} contract that verification uses.
 */
import { OptionReader, type KnownOptions } from '../options/option-reader.js';
import { platformFetch, type FetchLike } from '../transport/fetch-like.js';
import { JWKS_DEFAULTS, JWKS_OPTION_NAMES, resolveJwksOptions, type KeySourceOptions, type ResolvedJwksOptions } from './options.js';
import { RemoteJwksKeySource } from './remote-jwks-source.js';
import { SecretKeySource } from './secret-key-source.js';
import { StaticKeySource } from './static-key-source.js';
import type { KeySource, KeySourceEvent } from './types.js';

/** The key material option that was given, after checking that exactly one was. */
export type KeyMaterial =
  | { kind: 'jwks'; jwksUri: string | (() => Promise<string>) }
  | { kind: 'publicKey'; publicKey: NonNullable<KeySourceOptions['publicKey']> }
  | { kind: 'secret'; secret: string | Uint8Array };

/** What a key source is built with besides its material, validated by the caller. */
export interface KeySourceSettings {
  jwks: ResolvedJwksOptions | undefined;
  /** Must not throw. */
  emit: ((event: KeySourceEvent) => void) | undefined;
  now: () => number;
  fetch: FetchLike;
}

const KEY_SOURCE_OPTION_NAMES: KnownOptions<KeySourceOptions> = {
  jwksUri: true, publicKey: true, secret: true, jwks: true, onEvent: true, now: true, fetch: true, allowInsecureHttp: true,
};

const KEY_MATERIAL = ['jwksUri', 'publicKey', 'secret'] as const;

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
 * A remote JWKS is held in a single cache: single-flight fetches, `Cache-Control: max-age`
 * honoured within bounds, refresh ahead of expiry in the background, at most one refetch per
 * `refetchInterval` for unknown `kid`s (which are negatively cached as long), a timeout on every
 * fetch, failed fetches retried after a cooldown that doubles up to `cooldownDuration`, and a
 * bounded stale window during outages. See {@link JwksOptions}.
 *
 * @example
 * ```ts
 * import { createKeySource } from 'express-m2m/extend';
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
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createKeySource: key source options must be an object with one of "jwksUri", "publicKey" or "secret"');
  }
  const read: OptionReader<KeySourceOptions> = new OptionReader(options, KEY_SOURCE_OPTION_NAMES, { caller: 'createKeySource' });
  const material = readKeyMaterial(read);
  if (read.has('jwks') && material.kind !== 'jwks') read.fail('jwks', 'options apply only with "jwksUri"');
  const jwks = material.kind === 'jwks' ? resolveJwksOptions(read.nested('jwks', JWKS_OPTION_NAMES)) : undefined;
  const listener = read.func<(event: KeySourceEvent) => void>('onEvent');
  const emit = listener === undefined
    ? undefined
    : (event: KeySourceEvent) => {
      try {
        listener(event);
      } catch {
        // An observer must never break verification.
      }
    };
  const now = read.func<() => number>('now', 'a function returning milliseconds') ?? Date.now;
  const fetch = read.func<FetchLike>('fetch', 'a function with the signature of fetch') ?? platformFetch;
  return buildKeySource(read.caller, material, { jwks, emit, now, fetch });
}

/** Checks which key material was given, and its type. Throws a `TypeError` naming the option. */
function readKeyMaterial(read: OptionReader<KeySourceOptions>): KeyMaterial {
  const given = KEY_MATERIAL.filter((name) => read.has(name));
  if (given.length === 0) read.failWith('one of "jwksUri", "publicKey" or "secret" is required');
  if (given.length > 1) {
    read.failWith(`"jwksUri", "publicKey" and "secret" are mutually exclusive, got ${given.map((n) => `"${n}"`).join(' and ')}`);
  }
  if (read.has('jwksUri')) {
    const jwksUri = read.raw('jwksUri');
    if (typeof jwksUri === 'function') return { kind: 'jwks', jwksUri: jwksUri as () => Promise<string> };
    if (typeof jwksUri !== 'string') read.fail('jwksUri', 'must be an http(s) URL string or a function returning one');
    return { kind: 'jwks', jwksUri: read.httpUrl('jwksUri', read.boolean('allowInsecureHttp', false)) as string };
  }
  if (read.has('secret')) {
    const secret = read.raw('secret');
    if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) read.fail('secret', 'must be a string or a Uint8Array');
    return { kind: 'secret', secret };
  }
  const publicKey = read.raw('publicKey');
  if ((typeof publicKey !== 'string' && typeof publicKey !== 'object') || publicKey === null) {
    read.fail('publicKey', 'must be a PEM string, a JWK, a JWK Set or a KeyObject');
  }
  return { kind: 'publicKey', publicKey: publicKey as NonNullable<KeySourceOptions['publicKey']> };
}

/**
 * Internal: builds the key source from options already validated (by {@link createKeySource}, or
 * by `createVerifier`'s option resolution), without checking them again. Key material that cannot
 * be used (a short secret, a private key as `publicKey`) fails here with `caller`'s name.
 */
export function buildKeySource(caller: string, material: KeyMaterial, settings: KeySourceSettings): KeySource {
  try {
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
          fetch: settings.fetch,
        });
    }
  } catch (error) {
    if (error instanceof TypeError) throw new TypeError(`${caller}: ${error.message}`, { cause: error });
    throw error;
  }
}
