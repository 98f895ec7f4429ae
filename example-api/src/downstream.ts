/**
 * The second small protected service the example calls from `GET /api/downstream`: an "inventory"
 * service that accepts only tokens for its own audience. The example starts it itself unless
 * `DOWNSTREAM_URL` points somewhere else.
 */
import express, { type Express } from 'express';
import { authErrorHandler, requireAuth, type RequireAuthMiddleware, type RequireAuthOptions } from 'express-m2m';
import { finalErrorHandler, methodNotAllowed, notFound } from './http.js';

/** The path of the downstream's one route. */
export const DOWNSTREAM_PATH = '/inventory';

/** The downstream service, not yet listening. */
export interface DownstreamApp {
  app: Express;
  /** The `requireAuth` middleware, for `warmUp()` and `close()`. */
  auth: RequireAuthMiddleware;
}

/**
 * Builds the downstream service. `auth` says which tokens it trusts: `issuerBaseURL` (or `issuer`
 * and `jwksUri`) and its own `audience`.
 *
 * @example
 * const { app } = createDownstreamApp({ auth: { issuerBaseURL: issuer.url, audience: 'https://downstream.example.com' } });
 */
export function createDownstreamApp(options: { auth: RequireAuthOptions; log?: (line: string) => void }): DownstreamApp {
  const log = options.log ?? ((line: string) => console.error(line));
  const auth = requireAuth(options.auth);
  const app = express();
  app.disable('x-powered-by');

  app.get(DOWNSTREAM_PATH, auth, (req, res) => {
    res.json({
      service: 'inventory',
      message: 'Hello from the downstream service: your service token was accepted.',
      caller: req.auth?.payload.sub,
      scopes: req.auth?.scopes ?? [],
      items: [
        { sku: 'WIDGET-1', name: 'Widget', inStock: 42 },
        { sku: 'GADGET-7', name: 'Gadget', inStock: 7 },
      ],
    });
  });
  app.all(DOWNSTREAM_PATH, methodNotAllowed(['GET']));
  app.use(notFound());
  app.use(authErrorHandler());
  app.use(finalErrorHandler(log));
  return { app, auth };
}
