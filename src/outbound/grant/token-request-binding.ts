/**
 * What binds a token request to a sender constraint (DPoP, RFC 9449 section 5): headers for each
 * attempt, a look at every answer, one more attempt when the server asks for it, and a check of
 * the token type it issued. The grant calls it; each constraint is a file of its own folder.
 */
import type { TokenRequestError } from '../token-request-error.js';
import type { TokenResponse } from './token-endpoint-request.js';

export interface TokenRequestBinding {
  /** Headers for one attempt at `tokenEndpoint` (a new DPoP proof each time). */
  headers(tokenEndpoint: string): Record<string, string>;
  /** Reads every answer of the token endpoint, error or not (a new `DPoP-Nonce`). */
  observe(tokenEndpoint: string, response: Response): void;
  /** Whether `error` asks for the same request once more with new headers (`use_dpop_nonce`). */
  retry(error: TokenRequestError): boolean;
  /** Throws a `TokenRequestError` when the issued token does not have the binding asked for. */
  accept(response: TokenResponse, tokenEndpoint: string): void;
}
