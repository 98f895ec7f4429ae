/** The Express error handler that answers express-m2m's rejections as RFC 6750 JSON. */
import type { ServerResponse } from 'node:http';
import { BearerError } from '../errors/bearer-errors.js';
import { OptionReader, type KnownOptions } from '../options/option-reader.js';
import type { AuthErrorRequestHandler, AuthRequest, NextFunctionLike } from './express-types.js';
import { rejectionEvent } from './rejection-event.js';
import type { AuthRejectedEvent } from './require-auth-options.js';

/**
 * What `authErrorHandler` answered: the request's `auth.rejected` event, with the
 * `error_description` the client got.
 *
 * @example
 * ```ts
 * import type { RenderedRejection } from 'express-m2m';
 *
 * const log = (rejection: RenderedRejection) => console.info(rejection.status, rejection.code, rejection.path, rejection.description);
 * ```
 */
export interface RenderedRejection extends AuthRejectedEvent {
  /** The `error_description` sent to the client. */
  description: string;
}

/**
 * Options of {@link authErrorHandler}.
 *
 * @example
 * ```ts
 * import { authErrorHandler, type AuthErrorHandlerOptions } from 'express-m2m';
 *
 * const options: AuthErrorHandlerOptions = { onRejection: (rejection) => logger.info(rejection, 'request refused') };
 * app.use(authErrorHandler(options));
 * ```
 */
export interface AuthErrorHandlerOptions {
  /**
   * Observes every rejection the handler answers (route, status, code, client, expected and
   * received values; never the token), e.g. to log refused requests. Exceptions it throws are
   * ignored. Default: none.
   */
  onRejection?: (rejection: RenderedRejection) => void;
}

const AUTH_ERROR_HANDLER_OPTION_NAMES: KnownOptions<AuthErrorHandlerOptions> = { onRejection: true };

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
export function authErrorHandler(options?: AuthErrorHandlerOptions): AuthErrorRequestHandler {
  const read = new OptionReader<AuthErrorHandlerOptions>(options, AUTH_ERROR_HANDLER_OPTION_NAMES, { caller: 'authErrorHandler' });
  const onRejection = read.func<(rejection: RenderedRejection) => void>('onRejection');
  return function authErrorHandlerMiddleware(error: unknown, req: AuthRequest, res: ServerResponse, next: NextFunctionLike): void {
    if (!(error instanceof BearerError) || res.headersSent) {
      next(error);
      return;
    }
    if (onRejection !== undefined) {
      try {
        onRejection({ ...rejectionEvent(req, error), description: error.message });
      } catch {
        // An observer's failure must not change the answer.
      }
    }
    const body = JSON.stringify(error.toJSON());
    res.statusCode = error.status;
    // `headers` renders the challenge on every read: read it once.
    const headers = error.headers;
    for (const name of Object.keys(headers)) res.setHeader(name, headers[name] as string);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.setHeader('Cache-Control', 'no-store');
    res.end(body);
  };
}
