/**
 * The contract of the checks behind the guards (`requireScopes`, `claimEquals`, ...): written
 * once here, framework-free; the Express adapter turns each into a middleware, and every guard
 * exposes its check as `.check(token)` for code that runs without Express.
 */
import type { VerifiedToken } from '../verified-token.js';

/**
 * What an authorization check reads of a verified token.
 *
 * @example
 * ```ts
 * import { requireScopes, type GuardedToken } from 'express-m2m';
 *
 * const token: GuardedToken = { payload: { sub: 'billing@clients' }, scopes: ['read:orders'] };
 * requireScopes('read:orders').check(token); // passes
 * ```
 */
export type GuardedToken = Pick<VerifiedToken, 'payload' | 'scopes'>;

/**
 * An authorization check on a verified token: returns when the token may proceed, throws a 403
 * (`InsufficientScopeError`, or its subclass `InsufficientClaimsError`) otherwise.
 *
 * @example
 * ```ts
 * import { claimEquals, requireScopes, type AuthorizationCheck } from 'express-m2m';
 *
 * const checks: AuthorizationCheck[] = [requireScopes('write:orders').check, claimEquals('org_id', 'acme').check];
 * // In a job consumer (no Express): throws a 403 InsufficientScopeError when one fails.
 * for (const check of checks) check(verified);
 * ```
 */
export type AuthorizationCheck = (token: GuardedToken) => void;
