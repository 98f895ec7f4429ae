/** The Express middleware that admits a request only with a valid Bearer access token. */
import { extractBearerToken, type ExtractionOptions } from '../extraction/index.js';
import { isPromiseLike } from '../lib/is-promise-like.js';
import { createVerifier, type JwtVerifier, type VerifiedToken } from '../verification/index.js';
import type { AuthRequest, AuthRequestHandler, NextFunctionLike } from './express-types.js';
import { rememberRealm } from './request-realm.js';
import { resolveRequireAuthOptions, type RequireAuthOptions } from './require-auth-options.js';
import { tokenRequestOf } from './token-request.js';
import { toBearerError } from './to-bearer-error.js';

/**
 * The middleware `requireAuth()` returns: an Express request handler with start-up and shutdown hooks.
 *
 * @example
 * ```ts
 * import { requireAuth } from 'express-m2m';
 *
 * const auth = requireAuth({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example' });
 * app.use(auth);
 * await auth.warmUp().catch((error) => logger.warn({ err: error }, 'issuer not reachable yet'));
 * const server = app.listen(3000);
 * process.on('SIGTERM', () => server.close(() => auth.close()));
 * ```
 */
export interface RequireAuthMiddleware extends AuthRequestHandler {
  /**
   * Runs discovery and fetches the keys now (call it at start-up so the first request does not
   * wait). Rejects when the issuer cannot be reached; requests then retry on their own.
   */
  warmUp(): Promise<void>;
  /** Stops background key refreshes and drops cached tokens (for tests and graceful shutdown). */
  close(): void;
}

/**
 * Express middleware that requires a valid Bearer access token (RFC 6750). It takes the token from
 * the `Authorization` header (the query string and form body only when enabled), verifies the JWT
 * (signature, algorithm allowlist, `iss`, `aud`, `exp`, `nbf`, `iat`, ...) and then sets
 * `req.auth = { token, header, payload, scopes }` and calls `next()`. On failure it calls
 * `next(error)` with a `BearerError` carrying `status` and `headers`: 401 without error code (no
 * token), 400 `invalid_request`, 401 `invalid_token`, or 503 with `Retry-After` when the issuer's
 * keys cannot be had. Mount {@link authErrorHandler} to answer those as JSON.
 *
 * Options left out come from the environment (`ISSUER_BASE_URL`, `ISSUER`, `AUDIENCE`,
 * `JWKS_URI`). Bad or contradictory options throw a `TypeError` naming the option, here.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { authErrorHandler, requireAuth, requireScopes } from 'express-m2m';
 *
 * const app = express();
 * const auth = requireAuth({ issuerBaseURL: 'https://issuer.example', audience: 'https://api.example' });
 * app.use(auth);
 * app.get('/orders', requireScopes('read:orders'), (req, res) => {
 *   res.json({ client: req.auth?.payload.sub });
 * });
 * app.use(authErrorHandler());
 * await auth.warmUp();
 * app.listen(3000);
 * ```
 */
export function requireAuth(options?: RequireAuthOptions): RequireAuthMiddleware {
  const resolved = resolveRequireAuthOptions(options, process.env);
  let verifier: JwtVerifier;
  try {
    verifier = createVerifier(resolved.verifier);
  } catch (error) {
    // createVerifier's messages name the option without a prefix: say whose option it is.
    if (error instanceof TypeError) throw new TypeError(`requireAuth: ${error.message}`, { cause: error });
    throw error;
  }
  const extraction: ExtractionOptions = {
    allowQueryToken: resolved.allowQueryToken,
    allowBodyToken: resolved.allowBodyToken,
  };
  const { realm, onEvent } = resolved;

  function reject(next: NextFunctionLike, thrown: unknown): void {
    const { error, unexpected } = toBearerError(thrown, realm);
    if (onEvent !== undefined) {
      if (unexpected) onEvent({ type: 'auth.unexpected_error', error: thrown });
      onEvent({ type: 'auth.rejected', status: error.status, code: error.code });
    }
    next(error);
  }

  function accept(req: AuthRequest, auth: VerifiedToken, next: NextFunctionLike): void {
    req.auth = auth;
    if (realm !== undefined) rememberRealm(req, realm);
    next();
  }

  const middleware = function requireAuthMiddleware(req: AuthRequest, _res: unknown, next: NextFunctionLike): void {
    let result: VerifiedToken | PromiseLike<VerifiedToken>;
    try {
      result = verifier.verify(extractBearerToken(tokenRequestOf(req), extraction));
    } catch (error) {
      reject(next, error);
      return;
    }
    // Hot path: a cached token or key verifies synchronously, and next() runs without a promise.
    if (!isPromiseLike(result)) {
      accept(req, result, next);
      return;
    }
    result.then((auth) => accept(req, auth, next), (error: unknown) => reject(next, error));
  } as RequireAuthMiddleware;

  middleware.warmUp = () => verifier.warmUp();
  middleware.close = () => verifier.close();
  return middleware;
}
