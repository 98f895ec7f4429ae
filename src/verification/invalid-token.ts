/** Internal: the one way the verifier builds its `InvalidTokenError`s (401 `invalid_token`). */
import { InvalidTokenError } from '../errors/index.js';
import { withoutStack } from '../errors/without-stack.js';
import type { JwtErrorCode } from './types.js';

/**
 * An `InvalidTokenError` with a stable verifier code. `description` must never contain token
 * content. The error carries no stack trace (`withoutStack`): a rejected token is an expected
 * outcome, not a bug, and a flood of bad tokens must stay cheap.
 */
export function invalidToken(code: JwtErrorCode, description: string): InvalidTokenError {
  return withoutStack(() => new InvalidTokenError(description, code));
}
