/**
 * Internal: the one place where the Express adapters turn whatever was thrown while authenticating
 * or authorizing a request into the `BearerError` sent to the client, and the one place where the
 * configured `realm` is put on the challenge (the core builds its errors without one).
 */
import { BearerError, InsufficientScopeError, InvalidTokenError, bearerChallenge } from '../errors/index.js';

/**
 * Maps an error thrown while authenticating a request:
 * - a `BearerError` (extraction, verification, key sources and guards throw nothing else: the
 *   core wraps an unreachable issuer into `KeySourceUnavailableError` itself) is kept, with
 *   `realm` added when configured;
 * - anything else is a bug or an unexpected failure (e.g. in a custom `keySource`): it becomes
 *   `InvalidTokenError` (401 `ERR_TOKEN_UNVERIFIABLE`, never a 500): the token could not be
 *   verified, so it is not accepted, and the client is not told about a server fault it cannot
 *   fix. `unexpected` is `true` then, so the caller can report it.
 */
export function toBearerError(error: unknown, realm: string | undefined): { error: BearerError; unexpected: boolean } {
  if (error instanceof BearerError) return { error: realm === undefined ? error : withRealm(error, realm), unexpected: false };
  return {
    error: new InvalidTokenError('the access token could not be verified', 'ERR_TOKEN_UNVERIFIABLE', { realm, cause: error }),
    unexpected: true,
  };
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
