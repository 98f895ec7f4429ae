/**
 * What `requireAuth` puts on the request, typed through Express's `Request` by declaration merging,
 * and a typed accessor for apps that want their own claim types.
 */
import type { JWTPayload } from 'jose';
import { MissingTokenError } from '../errors/bearer-errors.js';
import type { VerifiedToken } from '../inbound/verified-token.js';
import { admittedToken } from './request-state.js';

declare global {
  namespace Express {
    interface Request {
      /** The verified access token, set by `requireAuth()` (express-m2m). */
      auth?: VerifiedToken;
    }
  }
}

/**
 * The verified token of a request, typed with your own claims. Throws `MissingTokenError` (401)
 * when `requireAuth()` did not admit the request (it did not run before, or something else
 * replaced `req.auth` since), so a misconfigured route fails closed.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { getAuth, requireAuth } from 'express-m2m';
 *
 * interface OrderClaims { org_id: string }
 *
 * const app = express();
 * app.get('/orders', requireAuth({ issuer: 'https://issuer.example', audience: 'https://api.example', jwksUri: 'https://issuer.example/jwks' }), (req, res) => {
 *   const { payload } = getAuth<OrderClaims>(req);
 *   res.json({ org: payload.org_id });
 * });
 * ```
 */
export function getAuth<Claims = JWTPayload>(req: { auth?: VerifiedToken | undefined }): VerifiedToken<Claims> {
  const auth = admittedToken(req);
  if (auth === undefined) {
    throw new MissingTokenError('no verified access token on the request: mount requireAuth() before this handler');
  }
  return auth as VerifiedToken<Claims>;
}
