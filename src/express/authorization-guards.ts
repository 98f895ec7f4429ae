/**
 * Route guards on the verified token `requireAuth` left on the request: scopes and claims. Every
 * failure is a 403 (`insufficient_scope`); a guard without `requireAuth` before it answers 401.
 */
import { MissingTokenError } from '../errors/index.js';
import type { AuthorizationCheck } from '../guards/authorization-check.js';
import {
  createClaimEqualsCheck, createClaimIncludesCheck, createClaimPredicateCheck, type ClaimValue,
} from '../guards/claim-checks.js';
import { createScopeCheck, type ScopeCheckOptions } from '../guards/scope-check.js';
import type { JWTPayload } from 'jose';
import type { AuthRequest, AuthRequestHandler, NextFunctionLike } from './express-types.js';
import { realmOf } from './request-realm.js';
import { toBearerError } from './to-bearer-error.js';

function guard(check: AuthorizationCheck, name: string): AuthRequestHandler {
  return function authorizationGuard(req: AuthRequest, _res: unknown, next: NextFunctionLike): void {
    const auth = req.auth;
    if (auth === undefined) {
      next(new MissingTokenError(`no verified access token on the request: mount requireAuth() before ${name}()`));
      return;
    }
    try {
      check(auth);
    } catch (error) {
      next(toBearerError(error, realmOf(req)).error);
      return;
    }
    next();
  };
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
export function requireScopes(scopes: string | readonly string[], options?: ScopeCheckOptions): AuthRequestHandler {
  return guard(createScopeCheck(scopes, options, 'requireScopes'), 'requireScopes');
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
export function claimEquals(claim: string, expected: ClaimValue): AuthRequestHandler {
  return guard(createClaimEqualsCheck(claim, expected, 'claimEquals'), 'claimEquals');
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
export function claimIncludes(claim: string, ...expected: ClaimValue[]): AuthRequestHandler {
  return guard(createClaimIncludesCheck(claim, expected, 'claimIncludes'), 'claimIncludes');
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
): AuthRequestHandler {
  return guard(createClaimPredicateCheck(predicate, description, 'claimCheck'), 'claimCheck');
}
