/**
 * `requireAuth`: the Express adapter of the inbound pipeline. It translates `req` into an
 * `InboundRequest`, and the outcome into `req.auth` + `next()` or `next(error)`.
 */
import { inChallengeContext, type BearerError } from '../errors/bearer-errors.js';
import { addsNothing, DEFAULT_CHALLENGE_CONTEXT, type ChallengeContext } from '../errors/challenge.js';
import { readDpop } from '../dpop/dpop-options.js';
import { buildAuthenticator } from '../inbound/authenticate.js';
import { presentedScheme } from '../inbound/credentials/extract-credentials.js';
import { toRejection } from '../inbound/rejection.js';
import type { VerifiedToken } from '../inbound/verified-token.js';
import { issuerStatus, worstStatus } from '../inbound/issuers/issuers-health.js';
import { healthOf } from '../lib/health-registry.js';
import type { ServerResponse } from 'node:http';
import { isPromiseLike } from '../lib/is-promise-like.js';
import type { AuthHealth, IssuerHealth } from '../observability/health.js';
import { ExpressInboundRequest } from './express-inbound-request.js';
import type { AuthRequest, AuthRequestHandler, NextFunctionLike } from './express-types.js';
import { rejectionEvent } from './rejection-event.js';
import { rememberAdmission, rememberAnonymous, type AdmissionContext } from './request-state.js';
import { resolveRequireAuthOptions, type AdvertisedAuth, type RequireAuthOptions } from './require-auth-options.js';

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
  /**
   * The health of the issuers' keys and introspection, derived now from the state the middleware
   * keeps anyway: per issuer, keys fresh, stale or missing with their age, the last error and the
   * cooldown. A plain object with no secret in it (docs/observability.md "Health").
   */
  health(): AuthHealth;
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
 * `JWKS_URI`, `SECRET`, `TOKEN_SIGNING_ALG`: see {@link RequireAuthOptions}). Bad or
 * contradictory options throw a `TypeError` naming the option, here.
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
  const { pipeline, realm, resourceMetadata, credentialsRequired, onEvent, advertised, publicBaseUrl } = resolveRequireAuthOptions(options, process.env);
  const authenticator = buildAuthenticator(pipeline, { issuer: 'ISSUER_BASE_URL', audience: 'AUDIENCE' });
  const dpop = readDpop(pipeline);
  const given: ChallengeContext = { realm, resourceMetadata, ...(dpop === undefined ? {} : { dpop: Object.freeze({ algs: dpop.algorithms.join(' '), bearer: dpop.mode === 'allowed' }) }) };
  const context: ChallengeContext = addsNothing(given) ? DEFAULT_CHALLENGE_CONTEXT : Object.freeze(given);
  // With DPoP on, a rejection is answered in the scheme the request used (RFC 9449 section 7.1).
  const dpopContext: ChallengeContext = dpop === undefined ? context : Object.freeze({ ...given, scheme: 'DPoP' as const });
  // What the guards after this middleware answer in, and report to.
  const admission: AdmissionContext | undefined = context === DEFAULT_CHALLENGE_CONTEXT && onEvent === undefined ? undefined : Object.freeze({ context, onEvent });
  const dpopAdmission: AdmissionContext | undefined = dpop === undefined ? admission : Object.freeze({ context: dpopContext, onEvent });
  const nonces = dpop?.nonces;

  function reject(req: AuthRequest, next: NextFunctionLike, thrown: unknown, inbound: ExpressInboundRequest): void {
    const { error, unexpected } = toRejection(thrown);
    if (!credentialsRequired && error.code === 'ERR_TOKEN_MISSING') {
      // No credentials at all: an anonymous request (credentials that fail are refused below). A
      // guard after this refuses it in this middleware's challenge context.
      rememberAnonymous(req, admission);
      next();
      return;
    }
    if (onEvent !== undefined) {
      if (unexpected) onEvent({ type: 'auth.unexpected_error', error: thrown });
      onEvent(rejectionEvent(req, error));
    }
    next(inChallengeContext<BearerError>(error, dpop !== undefined && presentedScheme(inbound) === 'DPoP' ? dpopContext : context));
  }

  function accept(req: AuthRequest, res: ServerResponse | undefined, auth: VerifiedToken, next: NextFunctionLike): void {
    req.auth = auth;
    if (auth.scheme === 'DPoP') {
      rememberAdmission(req, auth, dpopAdmission);
      // RFC 9449 section 8.2: the current nonce on every DPoP answer, so clients follow its rotation.
      if (nonces !== undefined && typeof res?.setHeader === 'function' && !res.headersSent) res.setHeader('DPoP-Nonce', nonces.current());
    } else {
      rememberAdmission(req, auth, admission);
    }
    next();
  }

  const middleware = function requireAuthMiddleware(req: AuthRequest, res: ServerResponse, next: NextFunctionLike): void {
    let result: VerifiedToken | Promise<VerifiedToken>;
    const inbound = new ExpressInboundRequest(req, publicBaseUrl);
    try {
      result = authenticator.authenticate(inbound);
    } catch (error) {
      reject(req, next, error, inbound);
      return;
    }
    // Hot path: a cached token or key verifies synchronously, and next() runs without a promise.
    if (!isPromiseLike(result)) {
      accept(req, res, result, next);
      return;
    }
    (result as Promise<VerifiedToken>).then((auth) => accept(req, res, auth, next), (error: unknown) => reject(req, next, error, inbound));
  } as RequireAuthMiddleware;

  middleware.warmUp = () => authenticator.warmUp();
  middleware.close = () => authenticator.close();
  const now = pipeline.func<() => number>('now', 'a function returning milliseconds') ?? Date.now;
  middleware.health = () => {
    const issuers = healthOf<IssuerHealth[]>(authenticator, now()) ?? [];
    return { status: worstStatus(issuers.map(issuerStatus)), issuers };
  };
  advertisements.set(middleware, dpop === undefined ? advertised
    : Object.freeze({ ...advertised, dpop: Object.freeze({ algorithms: dpop.algorithms, required: dpop.mode === 'required' }) }));
  return middleware;
}

/** What each requireAuth says of itself in protected resource metadata (kept off the middleware's own properties). */
const advertisements = new WeakMap<object, AdvertisedAuth>();

/** Internal: what `value`, a requireAuth middleware, says of itself in protected resource metadata; `undefined` for anything else. */
export function advertisedAuth(value: unknown): AdvertisedAuth | undefined {
  return typeof value === 'function' ? advertisements.get(value) : undefined;
}
