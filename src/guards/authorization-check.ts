/**
 * What an authorization check sees of a verified token.
 *
 * @example
 * ```ts
 * import { scopeCheck, type CheckedToken } from 'express-m2m';
 *
 * const token: CheckedToken = { payload: { sub: 'billing@clients' }, scopes: ['read:orders'] };
 * scopeCheck('read:orders')(token); // passes
 * ```
 */
export interface CheckedToken {
  /** The verified JWT claims. */
  readonly payload: Readonly<Record<string, unknown>>;
  /** The scopes the token grants (parsed by the verifier from `scope`, `scp` or the configured claim). */
  readonly scopes: readonly string[];
}

/**
 * An authorization check on a verified token: returns when the token may proceed, throws a 403
 * (`InsufficientScopeError`, or its subclass `InsufficientClaimsError`) otherwise. Framework
 * adapters (`requireScopes`, `claimEquals`, ...) wrap these.
 *
 * @example
 * ```ts
 * import { claimEqualsCheck, scopeCheck, type AuthorizationCheck } from 'express-m2m';
 *
 * const checks: AuthorizationCheck[] = [scopeCheck('write:orders'), claimEqualsCheck('org_id', 'acme')];
 * // In a job consumer (no Express): throws a 403 InsufficientScopeError when one fails.
 * for (const check of checks) check(verified);
 * ```
 */
export type AuthorizationCheck = (token: CheckedToken) => void;
