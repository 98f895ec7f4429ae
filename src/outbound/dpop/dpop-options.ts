/**
 * Internal: the `dpop` option of `clientCredentials` (and of `outboundAuth`'s services), read in
 * this one place: the key (given or generated), its algorithm, and whether a Bearer token may
 * stand in for a DPoP-bound one.
 */
import { OptionReader, type KnownOptions } from '../../options/option-reader.js';
import { DpopKey, DPOP_ALGORITHMS, isDpopAlgorithm, type DpopAlgorithm, type DpopPrivateKey } from './dpop-key.js';

/**
 * DPoP (RFC 9449) for a token provider: its tokens are bound to a key the provider proves it
 * holds on every request. `dpop: true` is `dpop: {}`: a new ES256 key generated at start-up.
 *
 * @example
 * ```ts
 * import { clientCredentials, type DpopOptions } from 'express-m2m';
 *
 * const dpop: DpopOptions = { key: process.env.DPOP_KEY_PEM ?? '', alg: 'ES256' };
 * const billing = clientCredentials({
 *   tokenEndpoint: 'https://auth.example.com/oauth/token',
 *   clientId: 'orders-service',
 *   clientSecret: process.env.ORDERS_CLIENT_SECRET ?? 'placeholder',
 *   dpop: process.env.DPOP_KEY_PEM === undefined ? true : dpop,
 * });
 * ```
 */
export interface DpopOptions {
  /**
   * The private key proofs are signed with: PEM (PKCS#8, SEC1 or PKCS#1), a private JWK, a
   * `KeyObject` or a WebCrypto `CryptoKey`. Default: a new key generated when the provider is
   * made (for `alg`), different in every process, so replicas sharing a Redis cache keep separate
   * tokens; give every replica the same key to let them share tokens.
   */
  key?: DpopPrivateKey;
  /**
   * The JWS algorithm of the proofs. With `key`: checked against it (default: the JWK's `alg`,
   * else ES256/ES384/ES512 by curve, EdDSA for Ed25519, RS256 for RSA). Without: the kind of key
   * generated (default ES256; EdDSA, RS256, PS256 and the others of {@link DpopAlgorithm} allowed).
   */
  alg?: DpopAlgorithm;
  /**
   * Accept a token the authorization server issued as `token_type: Bearer` although a proof was
   * sent (a server without DPoP for this client): it is then presented as a Bearer token. Default
   * `false`: such a response fails with `ERR_TOKEN_NOT_BOUND`, since the point of DPoP is that a
   * stolen token is useless.
   */
  allowBearerDowngrade?: boolean;
}

/** Every option of `dpop`; the type keeps this list complete. */
export const DPOP_OPTION_NAMES: KnownOptions<DpopOptions> = { key: true, alg: true, allowBearerDowngrade: true };

/** The `dpop` option, resolved. */
export interface ResolvedDpop {
  key: DpopKey;
  allowBearerDowngrade: boolean;
}

/**
 * Reads `dpop` (`true`, `false`, or {@link DpopOptions}) of `read`; undefined when DPoP is off.
 * Throws a `TypeError` naming the option (`clientCredentials: "dpop.alg" ...`).
 */
export function readDpop<T extends { dpop?: boolean | DpopOptions }>(read: OptionReader<T>): ResolvedDpop | undefined {
  const value = read.raw('dpop' as keyof T & string);
  if (value === undefined || value === false) return undefined;
  if (value !== true && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    read.fail('dpop', 'must be true, false or an object of DPoP options');
  }
  const dpop: OptionReader<DpopOptions> = value === true
    ? new OptionReader<DpopOptions>({}, DPOP_OPTION_NAMES, { caller: read.caller, path: 'dpop.' })
    : read.nested<DpopOptions>('dpop' as keyof T & string, DPOP_OPTION_NAMES);
  const alg = dpop.raw('alg');
  if (alg !== undefined && !isDpopAlgorithm(alg)) dpop.fail('alg', `must be one of ${DPOP_ALGORITHMS.join(', ')}`);
  const given = dpop.raw('key') as DpopPrivateKey | undefined;
  const key = given === undefined ? DpopKey.generate(alg) : DpopKey.fromKey(given, alg, (name, message) => dpop.fail(name, message));
  return { key, allowBearerDowngrade: dpop.boolean('allowBearerDowngrade', false) };
}
