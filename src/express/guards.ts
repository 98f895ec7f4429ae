/**
 * Route guards on the verified token `requireAuth` admitted: scopes and claims. Each guard is its
 * framework-free check (`src/inbound/guards/`) given an Express shape, and keeps the check as
 * `.check(token)` for code without Express. Every failure is a 403 (`insufficient_scope`); a
 * guard on a request that `requireAuth` did not admit answers 401.
 */
import type { JWTPayload } from 'jose';
import { inChallengeContext, MissingTokenError } from '../errors/bearer-errors.js';
import type { AuthorizationCheck } from '../inbound/guards/authorization-check.js';
import { claimEqualsCheck, claimIncludesCheck, claimPredicateCheck, type ClaimValue } from '../inbound/guards/claim-checks.js';
import { roleCheck, type RoleCheckOptions } from '../inbound/guards/role-check.js';
import { scopeCheck, type ScopeCheckOptions } from '../inbound/guards/scope-check.js';
import { toRejection } from '../inbound/rejection.js';
import type { AuthRequest, AuthRequestHandler, NextFunctionLike } from './express-types.js';
import { rejectionEvent } from './rejection-event.js';
import { admittedToken, challengeContextOf, observerOf } from './request-state.js';

/**
 * A guard: Express middleware, and the same check as a plain function (`guard.check(token)`
 * returns, or throws the 403) for queues, jobs and other frameworks.
 *
 * @example
 * ```ts
 * import { requireScopes, type Guard } from 'express-m2m';
 *
 * const canRead: Guard = requireScopes('read:orders');
 * app.get('/orders', canRead, handler);          // as middleware
 * canRead.check(await verifier.verify(token));   // without Express
 * ```
 */
export interface Guard extends AuthRequestHandler {
  readonly check: AuthorizationCheck;
}

function toGuard(check: AuthorizationCheck, name: string): Guard {
  const guard = function authorizationGuard(req: AuthRequest, _res: unknown, next: NextFunctionLike): void {
    const auth = admittedToken(req);
    if (auth === undefined) {
      // An anonymous request (requireAuth with credentialsRequired: false) is refused in its context.
      const missing = new MissingTokenError(`no verified access token on the request: mount requireAuth() before ${name}()`);
      observerOf(req)?.(rejectionEvent(req, missing));
      next(inChallengeContext(missing, challengeContextOf(req)));
      return;
    }
    try {
      check(auth);
    } catch (error) {
      const rejection = toRejection(error).error;
      observerOf(req)?.(rejectionEvent(req, rejection));
      next(inChallengeContext(rejection, challengeContextOf(req)));
      return;
    }
    next();
  } as Guard;
  Object.defineProperty(guard, 'check', { value: check, enumerable: true });
  return guard;
}

/**
 * Requires scopes of the verified token: all of them (default) or, with `{ match: 'any' }`, one.
 * A token without them gets 403 `insufficient_scope` with `scope="..."` in `WWW-Authenticate`.
 * `scopes` is a space-separated string or an array. Bad arguments throw here, at start-up.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { requireAuth, requireScopes } from 'express-m2m';
 *
 * const app = express();
 * app.use(requireAuth({ issuer: 'https://issuer.example', audience: 'https://api.example', jwksUri: 'https://issuer.example/jwks' }));
 * app.post('/orders', requireScopes('write:orders'), (req, res) => { res.status(201).end(); });
 * app.delete('/orders/:id', requireScopes(['admin', 'delete:orders'], { match: 'any' }), (req, res) => { res.status(204).end(); });
 * ```
 */
export function requireScopes(scopes: string | readonly string[], options?: ScopeCheckOptions): Guard {
  return toGuard(scopeCheck(scopes, options, 'requireScopes'), 'requireScopes');
}

/**
 * Requires the claim `claim` of the verified token to equal `expected` (a JSON primitive, strict
 * equality); 403 otherwise (`ERR_INSUFFICIENT_CLAIMS`).
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { claimEquals } from 'express-m2m';
 *
 * const app = express();
 * app.get('/acme/reports', claimEquals('org_id', 'acme'), (req, res) => { res.json([]); });
 * ```
 */
export function claimEquals(claim: string, expected: ClaimValue): Guard {
  return toGuard(claimEqualsCheck(claim, expected, 'claimEquals'), 'claimEquals');
}

/**
 * Requires the claim `claim` (an array, or a space-separated string) to include every one of
 * `expected`; 403 otherwise (`ERR_INSUFFICIENT_CLAIMS`).
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { claimIncludes } from 'express-m2m';
 *
 * const app = express();
 * app.get('/admin', claimIncludes('roles', 'admin'), (req, res) => { res.json({ ok: true }); });
 * ```
 */
export function claimIncludes(claim: string, ...expected: ClaimValue[]): Guard {
  return toGuard(claimIncludesCheck(claim, expected, 'claimIncludes'), 'claimIncludes');
}

/**
 * Requires a predicate on the verified claims to return exactly `true`; anything else (also an
 * exception) is a 403 with `description` as `error_description` (default: `the token's claims do
 * not allow this request`). The predicate is synchronous.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { claimCheck } from 'express-m2m';
 *
 * const app = express();
 * app.get('/v2', claimCheck<{ ver?: number }>((claims) => (claims.ver ?? 0) >= 2, 'token version 2 required'), (req, res) => {
 *   res.json({ ok: true });
 * });
 * ```
 */
export function claimCheck<Claims = JWTPayload>(
  predicate: (claims: Claims & JWTPayload) => boolean,
  description?: string,
): Guard {
  return toGuard(claimPredicateCheck(predicate, description, 'claimCheck'), 'claimCheck');
}

/**
 * Requires roles (or permissions) of the verified token, read from a claim (default `roles`, as
 * Microsoft Entra ID's app permissions), a path of nested claims (Keycloak's
 * `['realm_access', 'roles']`) or a function of the claims; all of them (default) or, with
 * `{ match: 'any' }`, one. A token without them gets 403 `insufficient_scope`
 * (`ERR_INSUFFICIENT_CLAIMS`). Bad arguments throw here, at start-up.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { keycloak, requireAuth, requireRoles } from 'express-m2m';
 *
 * const app = express();
 * app.use(requireAuth(keycloak({ baseURL: 'https://sso.example.com', realm: 'shop', audience: 'orders-api' })));
 * app.get('/orders', requireRoles('reader', { from: keycloak.clientRoles('orders-api') }), (req, res) => { res.json([]); });
 * app.delete('/orders/:id', requireRoles('orders-admin', { from: keycloak.realmRoles }), (req, res) => { res.status(204).end(); });
 * ```
 */
export function requireRoles(roles: string | readonly string[], options?: RoleCheckOptions): Guard {
  return toGuard(roleCheck(roles, options, 'requireRoles'), 'requireRoles');
}
