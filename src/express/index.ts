/**
 * Express adapters: thin layers over the transport-neutral core (extraction, verification,
 * guards). Request in, `req.auth` or `next(err)` out. They work with Express 4 and 5.
 */
export { requireAuth } from './require-auth.js';
export type { RequireAuthMiddleware } from './require-auth.js';
export { REQUIRE_AUTH_ENV } from './require-auth-options.js';
export type { RequireAuthOptions, RequireAuthEvent } from './require-auth-options.js';
export { requireScopes, claimEquals, claimIncludes, claimCheck } from './authorization-guards.js';
export { authErrorHandler } from './auth-error-handler.js';
export { getAuth } from './auth-result.js';
export type { AuthResult } from './auth-result.js';
export type { AuthRequest, AuthRequestHandler, AuthErrorRequestHandler, NextFunctionLike } from './express-types.js';
export * from './outbound-auth.js';
