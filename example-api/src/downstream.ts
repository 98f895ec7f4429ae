/**
 * The second small protected service the example calls from `GET /api/downstream`: an "inventory"
 * service that accepts only tokens for its own audience. The example starts it itself unless
 * `DOWNSTREAM_URL` points somewhere else.
 */
import express, { type Express } from 'express';
import { authErrorHandler, requireAuth, type InboundDpopOptions, type RequireAuthMiddleware, type RequireAuthOptions } from 'express-m2m';
import { finalErrorHandler, methodNotAllowed, notFound } from './http.js';

/** The path of the downstream's route for plain (or, in mTLS mode, certificate-bound) tokens. */
export const DOWNSTREAM_PATH = '/inventory';
/** The path of the downstream's route that requires DPoP-bound tokens (RFC 9449). */
export const DOWNSTREAM_DPOP_PATH = '/inventory-dpop';

/** The downstream service, not yet listening. */
export interface DownstreamApp {
  app: Express;
  /** The `requireAuth` middleware, for `warmUp()` and `close()`. */
  auth: RequireAuthMiddleware;
  /** The DPoP route's `requireAuth` (`dpop: { mode: 'required' }`), when that route is served. */
  dpopAuth: RequireAuthMiddleware | undefined;
}

/**
 * Builds the downstream service. `auth` says which tokens it trusts: `issuerBaseURL` (or `issuer`
 * and `jwksUri`) and its own `audience`. With `dpop`, it also serves {@link DOWNSTREAM_DPOP_PATH},
 * which accepts only DPoP-bound tokens with a valid proof (a bound token presented as Bearer, a
 * replayed proof: 401), its proofs recorded in `dpop.replayStore` (default: in memory).
 *
 * @example
 * const { app } = createDownstreamApp({ auth: { issuerBaseURL: issuer.url, audience: 'https://downstream.example.com' } });
 */
export function createDownstreamApp(options: {
  auth: RequireAuthOptions;
  dpop?: Omit<InboundDpopOptions, 'mode'> | undefined;
  log?: (line: string) => void;
}): DownstreamApp {
  const log = options.log ?? ((line: string) => console.error(line));
  const auth = requireAuth(options.auth);
  // A second requireAuth for the DPoP route: same issuer and audience, Bearer refused.
  const dpopAuth = options.dpop === undefined ? undefined : requireAuth({ ...options.auth, dpop: { ...options.dpop, mode: 'required' } });
  const app = express();
  app.disable('x-powered-by');

  if (dpopAuth !== undefined) {
    app.get(DOWNSTREAM_DPOP_PATH, dpopAuth, (req, res) => {
      res.json({
        service: 'inventory-dpop',
        message: 'Hello from the DPoP-only downstream service: your DPoP-bound token and its proof were accepted.',
        caller: req.auth?.payload.sub,
        scheme: req.auth?.scheme,
        jkt: req.auth?.jkt,
        items: [{ sku: 'WIDGET-1', name: 'Widget', inStock: 42 }],
      });
    });
    app.all(DOWNSTREAM_DPOP_PATH, methodNotAllowed(['GET']));
  }

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
  return { app, auth, dpopAuth };
}
