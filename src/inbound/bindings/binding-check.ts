/**
 * Binding checks: the step after verification that decides whether the request may use the token
 * the way it presented it. A sender-constrained token (RFC 9449 DPoP, RFC 8705 mTLS) is bound to
 * a key or a certificate; its binding check accepts it only with the proof. Binding checks run
 * after every verification, including a verified-token cache hit (the cache holds tokens, never
 * proofs). Each check is a file of this folder.
 */
import type { Credentials } from '../credentials/extract-credentials.js';
import type { InboundRequest } from '../inbound-request.js';
import type { VerifiedToken } from '../verified-token.js';

/**
 * One binding check. It returns (or resolves) when the request may use the token as presented,
 * and throws (or rejects with) a `BearerError` (401 `invalid_token`, or the scheme's own error)
 * otherwise. It may return the token with what the binding established (DPoP: `scheme` and
 * `jkt`); the checks after it, and `req.auth`, get that one.
 *
 * @example
 * ```ts
 * import { InvalidTokenError } from 'express-m2m';
 * import type { BindingCheck } from 'express-m2m/extend';
 *
 * const onlyFromTheMesh: BindingCheck = {
 *   check: (token, credentials, request) => {
 *     if (request.clientCertificate === undefined) throw new InvalidTokenError('a client certificate is required');
 *   },
 * };
 * ```
 */
export interface BindingCheck {
  check(token: VerifiedToken, credentials: Credentials, request: InboundRequest): void | VerifiedToken | PromiseLike<void | VerifiedToken>;
}
