/**
 * What `requireAuth` puts on the request, typed through Express's `Request` by declaration merging,
 * and a typed accessor for apps that want their own claim types.
 */
import type { JWTPayload } from 'jose';
import { MissingTokenError } from '../errors/index.js';
import type { VerifiedToken } from '../verification/index.js';

/**
 * The verified access token of a request (`req.auth`): the token as presented, its protected
 * header, its claims and the scopes it grants. Deeply frozen. `Claims` types your own claims
 * (see {@link getAuth}).
 *
 * @example
 * ```ts
 * import type { AuthResult } from 'express-m2m';
 *
 * app.get('/orders', (req, res) => {
 *   const auth: AuthResult | undefined = req.auth; // set by requireAuth()
 *   res.json({ client: auth?.payload.sub, scopes: auth?.scopes });
 * });
 * ```
 */
export type AuthResult<Claims = JWTPayload> = VerifiedToken<Claims>;

declare global {
  namespace Express {
    interface Request {
      /** The verified access token, set by `requireAuth()` (express-m2m). */
      auth?: AuthResult;
    }
  }
}

/**
 * The verified token of a request, typed with your own claims. Throws `MissingTokenError` (401)
 * when `requireAuth()` did not run before, so a misconfigured route fails closed.
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
export function getAuth<Claims = JWTPayload>(req: { auth?: AuthResult | undefined }): AuthResult<Claims> {
  const auth = req.auth;
  if (auth === undefined) {
    throw new MissingTokenError('no verified access token on the request: mount requireAuth() before this handler');
  }
  return auth as AuthResult<Claims>;
}
