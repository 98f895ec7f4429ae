/** Internal: the one way the JWT verifier builds its `InvalidTokenError`s (401 `invalid_token`). */
import { InvalidTokenError, type RejectionDetail } from '../../../errors/bearer-errors.js';
import type { JwtErrorCode } from '../../../errors/error-codes.js';
import { withoutStack } from '../../../errors/without-stack.js';

/**
 * An `InvalidTokenError` with a stable verifier code (and the `cause`, for the operator). `description` must never contain token
 * content. The error carries no stack trace (`withoutStack`): a rejected token is an expected
 * outcome, not a bug, and a flood of bad tokens must stay cheap.
 */
export function invalidToken(code: JwtErrorCode, description: string, detail?: RejectionDetail, cause?: unknown): InvalidTokenError {
  return withoutStack(() => new InvalidTokenError(description, code, {
    ...(detail === undefined ? {} : { detail }),
    ...(cause === undefined ? {} : { cause }),
  }));
}

/** Throws 401 `ERR_JWT_MALFORMED`. */
export function malformed(description: string): never {
  throw invalidToken('ERR_JWT_MALFORMED', description);
}
