/** The Express error handler that answers express-m2m's rejections as RFC 6750 JSON. */
import type { ServerResponse } from 'node:http';
import { BearerError } from '../errors/bearer-errors.js';
import { OptionReader } from '../options/option-reader.js';
import type { AuthErrorRequestHandler, NextFunctionLike } from './express-types.js';

/**
 * Express error middleware for express-m2m's errors: for a `BearerError` it sets the status and
 * headers (`WWW-Authenticate`, `Retry-After`) and sends `{ "error", "error_description" }` as JSON;
 * any other error goes on to the next error handler untouched. Mount it after your routes.
 *
 * Without it, Express's default handler still answers with the right status and headers (the
 * errors carry `status` and `headers`), but with an HTML body, and it logs every rejected request
 * to `console.error` (noise on each 401), in production too: only `NODE_ENV=test` silences it.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { authErrorHandler, requireAuth } from 'express-m2m';
 *
 * const app = express();
 * app.use(requireAuth({ issuer: 'https://issuer.example', audience: 'https://api.example', jwksUri: 'https://issuer.example/jwks' }));
 * app.get('/ping', (req, res) => { res.send('pong'); });
 * app.use(authErrorHandler());
 * ```
 */
export function authErrorHandler(options?: Record<string, never>): AuthErrorRequestHandler {
  // It takes no options yet; anything given is a mistake worth knowing about at start-up.
  new OptionReader<Record<string, never>>(options, new Set(), { caller: 'authErrorHandler' });
  return function authErrorHandlerMiddleware(error: unknown, _req: unknown, res: ServerResponse, next: NextFunctionLike): void {
    if (!(error instanceof BearerError) || res.headersSent) {
      next(error);
      return;
    }
    const body = JSON.stringify(error.toJSON());
    res.statusCode = error.status;
    for (const name of Object.keys(error.headers)) res.setHeader(name, error.headers[name] as string);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.setHeader('Cache-Control', 'no-store');
    res.end(body);
  };
}
