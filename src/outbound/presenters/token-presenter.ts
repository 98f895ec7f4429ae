/**
 * Presenters: how a token goes onto a downstream request. Bearer (RFC 6750 section 2.1), and
 * DPoP (RFC 9449), which adds a proof per request and follows the servers' nonces. Each
 * presenter is a file of this folder.
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
  /**
   * `'manual'` when what `present` sets is good for the request's own URL only (a DPoP proof):
   * redirects are then returned to the caller instead of being followed with the same headers.
   */
  readonly redirect?: 'manual';
  /** Sets the headers that present `token` on `request`. */
  present(token: TokenSet, request: PresentedRequest, headers: Headers): void | Promise<void>;
  /**
   * Reads every answer (a new DPoP nonce); true when it asks for the same request once more,
   * with the same token and new headers (`use_dpop_nonce` with a nonce this request did not
   * carry). `headers` are the ones `present` set for this request.
   */
  observe?(response: Response, request: PresentedRequest, headers: Headers): boolean;
  /** Whether a downstream's answer says the token itself was refused (so a new one may help). */
  refused(response: Response): boolean;
}
