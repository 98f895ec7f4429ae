/**
 * Internal: the `invalid_token` rejections a key source produces, each with a stable `code`.
 * Descriptions name at most the token's `alg` and a truncated, sanitised `kid`; never key material.
 * Built without a stack trace (`withoutStack`): an unknown-kid flood must stay cheap.
 */
import { InvalidTokenError } from '../errors/bearer-errors.js';
import { withoutStack } from '../errors/without-stack.js';

/**
 * Stable codes of key-selection failures (the `code` of the `InvalidTokenError` a key source throws).
 *
 * @example
 * ```ts
 * import { KEY_ERROR_CODES } from 'express-m2m';
 * app.use((err, req, res, next) => {
 *   if (err.code === KEY_ERROR_CODES.noMatchingKey) metrics.increment('tokens.unknown_kid');
 *   next(err);
 * });
 * ```
 */
export const KEY_ERROR_CODES = {
  /** The token's `alg` is one this key source can never verify (e.g. HS256 against a JWKS). */
  algNotSupported: 'ERR_KEY_ALG_NOT_SUPPORTED',
  /** No key has the token's `kid` (or, without a `kid`, no key fits the `alg`). */
  noMatchingKey: 'ERR_JWKS_NO_MATCHING_KEY',
  /** The token has no `kid` and more than one key fits its `alg`. */
  multipleMatchingKeys: 'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
  /** A key has the token's `kid` but cannot verify the token's `alg` (type, curve, size, declared `alg`). */
  keyAlgMismatch: 'ERR_KEY_ALG_MISMATCH',
  /** The key that fits the token belongs to another issuer (its JWK `issuer` member, as Microsoft Entra ID publishes). */
  keyIssuerMismatch: 'ERR_KEY_ISSUER_MISMATCH',
} as const;

const MAX_KID_CHARS = 40;

/** A `kid` fit for an error description or a log line: printable ASCII, at most 40 characters. */
export function displayKid(kid: string): string {
  const printable = kid.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > MAX_KID_CHARS ? `${printable.slice(0, MAX_KID_CHARS)}...` : printable;
}

/** `kid` for events: the same sanitising, with a larger budget (still bounded for log lines). */
export function eventKid(kid: string | undefined): string | undefined {
  if (kid === undefined) return undefined;
  const printable = kid.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 128 ? `${printable.slice(0, 128)}...` : printable;
}

export function algNotSupported(alg: string, accepted: readonly string[], what: string): InvalidTokenError {
  const shown = displayKid(alg);
  return withoutStack(() => new InvalidTokenError(
    `alg ${shown} cannot be verified with ${what} (it accepts ${accepted.join(', ')})`,
    KEY_ERROR_CODES.algNotSupported,
  ));
}

export function noMatchingKey(kid: string | undefined, alg: string, where: string): InvalidTokenError {
  return withoutStack(() => new InvalidTokenError(
    kid === undefined
      ? `the token has no kid and no key in ${where} fits alg ${displayKid(alg)}`
      : `no key in ${where} matches kid '${displayKid(kid)}'`,
    KEY_ERROR_CODES.noMatchingKey,
  ));
}

export function multipleMatchingKeys(alg: string, where: string): InvalidTokenError {
  return withoutStack(() => new InvalidTokenError(
    `the token has no kid and several keys in ${where} fit alg ${displayKid(alg)}`,
    KEY_ERROR_CODES.multipleMatchingKeys,
  ));
}

export function keyAlgMismatch(kid: string | undefined, alg: string, reason: string): InvalidTokenError {
  const which = kid === undefined ? 'the key' : `the key with kid '${displayKid(kid)}'`;
  return withoutStack(() => new InvalidTokenError(`${which} cannot verify alg ${displayKid(alg)}: ${reason}`, KEY_ERROR_CODES.keyAlgMismatch));
}

/** 401: the key that fits the token belongs to another issuer (the JWK's `issuer` member). */
export function keyIssuerMismatch(kid: string | undefined, keyIssuer: string): InvalidTokenError {
  const which = kid === undefined ? 'the key' : `the key with kid '${displayKid(kid)}'`;
  return withoutStack(() => new InvalidTokenError(
    `${which} belongs to another issuer (its JWK "issuer" is ${JSON.stringify(keyIssuer.slice(0, 120))}) than the token's`,
    KEY_ERROR_CODES.keyIssuerMismatch,
  ));
}
