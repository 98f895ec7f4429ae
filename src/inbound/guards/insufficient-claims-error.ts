import { InsufficientScopeError, type BearerErrorOptions } from '../../errors/bearer-errors.js';

/**
 * 403 `insufficient_scope` for a valid token whose claims do not allow the request (a failed
 * `claimEquals`, `claimIncludes` or `claimCheck` guard). Every
 * authorization failure on a valid token is a 403: the token is fine, its privileges are not
 * enough. `code` is `ERR_INSUFFICIENT_CLAIMS`; `claim` names the claim that failed, when known.
 *
 * @example
 * ```ts
 * import { InsufficientClaimsError } from 'express-m2m';
 *
 * const error = new InsufficientClaimsError('the org_id claim does not have the required value', 'org_id');
 * // error.status === 403, error.error === 'insufficient_scope'
 * ```
 */
export class InsufficientClaimsError extends InsufficientScopeError {
  /** The claim that failed the check, when the check is about one claim. */
  readonly claim: string | undefined;

  constructor(description: string, claim?: string, options: BearerErrorOptions = {}) {
    super([], description, 'ERR_INSUFFICIENT_CLAIMS', options);
    this.claim = claim;
  }
}
