/** Internal: the one way the verifier builds its `InvalidTokenError`s (401 `invalid_token`). */
import { InvalidTokenError } from '../errors/index.js';
import type { JwtErrorCode } from './types.js';

/** An `InvalidTokenError` with a stable verifier code. `description` must never contain token content. */
export function invalidToken(code: JwtErrorCode, description: string): InvalidTokenError {
  return new InvalidTokenError(description, code);
}
