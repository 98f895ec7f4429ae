/**
 * Internal: the one place where whatever was thrown while authenticating or authorizing a request
 * becomes the rejection sent to the client: never a 500 for anything a client sends.
 */
import { BearerError, InvalidTokenError } from '../errors/bearer-errors.js';

/**
 * Maps an error thrown while authenticating a request:
 * - a `BearerError` (extraction, verification, key sources, bindings and guards throw nothing
 *   else: the core wraps an unreachable issuer into `KeySourceUnavailableError` itself) is kept;
 * - anything else is a bug or an unexpected failure (e.g. in a custom `keySource`): it becomes
 *   `InvalidTokenError` (401 `ERR_TOKEN_UNVERIFIABLE`, never a 500): the token could not be
 *   verified, so it is not accepted, and the client is not told about a server fault it cannot
 *   fix. `unexpected` is `true` then, so the caller can report it.
 */
export function toRejection(error: unknown): { error: BearerError; unexpected: boolean } {
  if (error instanceof BearerError) return { error, unexpected: false };
  return {
    error: new InvalidTokenError('the access token could not be verified', 'ERR_TOKEN_UNVERIFIABLE', { cause: error }),
    unexpected: true,
  };
}
