/** What an authorization check sees of a verified token. */
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
 */
export type AuthorizationCheck = (token: CheckedToken) => void;
