/**
 * Presenters: how a token goes onto a downstream request. Bearer (RFC 6750 section 2.1) today;
 * a presenter for DPoP (RFC 9449) adds a proof per request. Each presenter is a file of this folder.
 */
import type { TokenSet } from '../../caches/token-cache.js';

/** The request a token is presented on. */
export interface PresentedRequest {
  readonly method: string;
  readonly url: string;
}

export interface TokenPresenter {
  /** The `token_type`s of token responses this presenter can use (RFC 6749 section 7.1). */
  readonly tokenTypes: readonly string[];
  /** Sets the headers that present `token` on `request`. */
  present(token: TokenSet, request: PresentedRequest, headers: Headers): void | Promise<void>;
  /** Whether a downstream's answer says the token itself was refused (so a new one may help). */
  refused(response: Response): boolean;
}
