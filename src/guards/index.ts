/**
 * Authorization checks on a verified token (scopes and claims), independent of any framework.
 * Every failure is a 403: the token is valid, its privileges are not enough.
 */
export type { AuthorizationCheck, CheckedToken } from './authorization-check.js';
export { hasScopes, scopeCheck } from './scope-check.js';
export type { ScopeMatch, ScopeCheckOptions } from './scope-check.js';
export { claimEqualsCheck, claimIncludesCheck, claimPredicateCheck } from './claim-checks.js';
export type { ClaimValue } from './claim-checks.js';
export { InsufficientClaimsError } from './insufficient-claims-error.js';
