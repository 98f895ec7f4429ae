/**
 * Internal: turns whatever the verification core threw into a `BearerError`, so nothing a client
 * sends through `requireAuth` becomes a 500, and sets the configured `realm` on the challenge.
 */
import {
  BearerError,
  InsufficientScopeError,
  InvalidTokenError,
  KeySourceUnavailableError,
  bearerChallenge,
} from '../errors/index.js';

/** The error is a `BearerError` already (thrown by extraction, verification, keys or guards). */
function nameOf(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Maps an error thrown while authenticating a request:
 * - a `BearerError` is kept as it is (with `realm` added when configured);
 * - an unreachable key or metadata endpoint (`UpstreamError`, jwks-rsa's `JwksError`, jose's
 *   `ERR_JWKS_TIMEOUT`) becomes `KeySourceUnavailableError` (503 + `Retry-After`);
 * - any other JOSE error, or anything unexpected, becomes `InvalidTokenError` (401): the token
 *   could not be verified, so it is not accepted, and the client is not told about a server fault
 *   it cannot fix. `unexpected` is `true` for the latter, so the caller can report it.
 */
export function toBearerError(error: unknown, realm: string | undefined): { error: BearerError; unexpected: boolean } {
  if (error instanceof BearerError) return { error: realm === undefined ? error : withRealm(error, realm), unexpected: false };

  const name = nameOf(error);
  const code = codeOf(error);
  let mapped: BearerError;
  let unexpected = false;
  if (name === 'UpstreamError' || name === 'JwksError' || code === 'ERR_JWKS_TIMEOUT') {
    mapped = new KeySourceUnavailableError(undefined, undefined, { realm, cause: error });
  } else if (name === 'SigningKeyNotFoundError' || name === 'JwksRateLimitError') {
    mapped = new InvalidTokenError('no key of the issuer matches the token', 'ERR_JWKS_NO_MATCHING_KEY', { realm, cause: error });
  } else if (code !== undefined && /^ERR_(JWT|JWS|JWK|JOSE)/.test(code)) {
    mapped = new InvalidTokenError('the access token is invalid', code, { realm, cause: error });
  } else {
    mapped = new InvalidTokenError('the access token could not be verified', 'ERR_TOKEN_UNVERIFIABLE', { realm, cause: error });
    unexpected = true;
  }
  return { error: mapped, unexpected };
}

/** A copy of `error` whose `WWW-Authenticate` challenge carries `realm` (errors may be shared or frozen). */
export function withRealm(error: BearerError, realm: string): BearerError {
  const challenge = error.headers['WWW-Authenticate'];
  if (challenge === undefined || challenge.includes('realm=')) return error;
  const copy = Object.create(Object.getPrototypeOf(error) as object) as BearerError;
  const descriptors = Object.getOwnPropertyDescriptors(error);
  for (const descriptor of Object.values(descriptors)) {
    descriptor.configurable = true;
    if ('value' in descriptor) descriptor.writable = true;
  }
  Object.defineProperties(copy, descriptors);
  const headers = {
    ...error.headers,
    'WWW-Authenticate': bearerChallenge({
      realm,
      error: error.error,
      description: error.error === undefined ? undefined : error.message,
      scope: error instanceof InsufficientScopeError ? error.requiredScopes.join(' ') : undefined,
    }),
  };
  Object.defineProperty(copy, 'headers', { value: headers, enumerable: true, writable: false, configurable: true });
  return copy;
}
