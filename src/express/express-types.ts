/**
 * Structural types of the few request/response parts the adapters use. They are deliberately
 * minimal so the middleware is assignable to the handler types of both Express 4 and Express 5
 * (`@types/express` 4 or 5) without casts, and works with plain `node:http` too.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { VerifiedToken } from '../inbound/verified-token.js';

/**
 * A request as the adapters see it: node's `IncomingMessage` plus what Express adds.
 *
 * @example
 * ```ts
 * import { requireAuth, type AuthRequest } from 'express-m2m';
 * import { createServer } from 'node:http';
 *
 * // requireAuth() works with plain node:http too: it reads only what AuthRequest declares.
 * const auth = requireAuth({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example' });
 * createServer((req: AuthRequest, res) => {
 *   auth(req, res, (error) => {
 *     res.statusCode = error === undefined ? 200 : (error as { status: number }).status;
 *     res.end(error === undefined ? req.auth?.payload.sub : undefined);
 *   });
 * }).listen(3000);
 * ```
 */
export interface AuthRequest extends IncomingMessage {
  /** The request target before Express's routers rewrote `url` (Express). */
  originalUrl?: string;
  /** Parsed query string (Express). */
  query?: unknown;
  /** Parsed body (body parsers). */
  body?: unknown;
  /** The verified token, set by `requireAuth()`. */
  auth?: VerifiedToken | undefined;
}

/**
 * Express's `next`: `next()` continues, `next(error)` goes to the error handlers.
 *
 * @example
 * ```ts
 * import { requireAuth, type NextFunctionLike } from 'express-m2m';
 *
 * const next: NextFunctionLike = (error) => {
 *   if (error !== undefined) console.error('rejected', error);
 * };
 * requireAuth()(req, res, next);
 * ```
 */
export type NextFunctionLike = (error?: unknown) => void;

/**
 * A request handler: `(req, res, next) => void`.
 *
 * @example
 * ```ts
 * import { requireScopes, type AuthRequestHandler } from 'express-m2m';
 *
 * const guard: AuthRequestHandler = requireScopes('read:orders');
 * app.get('/orders', guard, (req, res) => { res.json([]); });
 * ```
 */
export type AuthRequestHandler = (req: AuthRequest, res: ServerResponse, next: NextFunctionLike) => void;

/**
 * An error handler: `(err, req, res, next) => void`.
 *
 * @example
 * ```ts
 * import { authErrorHandler, type AuthErrorRequestHandler } from 'express-m2m';
 *
 * const handler: AuthErrorRequestHandler = authErrorHandler();
 * app.use(handler);
 * ```
 */
export type AuthErrorRequestHandler = (error: unknown, req: AuthRequest, res: ServerResponse, next: NextFunctionLike) => void;
