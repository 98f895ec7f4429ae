/**
 * Structural types of the few request/response parts the adapters use. They are deliberately
 * minimal so the middleware is assignable to the handler types of both Express 4 and Express 5
 * (`@types/express` 4 or 5) without casts, and works with plain `node:http` too.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthResult } from './auth-result.js';

/** A request as the adapters see it: node's `IncomingMessage` plus what Express adds. */
export interface AuthRequest extends IncomingMessage {
  /** Parsed query string (Express). */
  query?: unknown;
  /** Parsed body (body parsers). */
  body?: unknown;
  /** The verified token, set by `requireAuth()`. */
  auth?: AuthResult | undefined;
}

/** Express's `next`: `next()` continues, `next(error)` goes to the error handlers. */
export type NextFunctionLike = (error?: unknown) => void;

/** A request handler: `(req, res, next) => void`. */
export type AuthRequestHandler = (req: AuthRequest, res: ServerResponse, next: NextFunctionLike) => void;

/** An error handler: `(err, req, res, next) => void`. */
export type AuthErrorRequestHandler = (error: unknown, req: IncomingMessage, res: ServerResponse, next: NextFunctionLike) => void;
