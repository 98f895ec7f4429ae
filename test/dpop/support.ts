/** Shared set-up of the DPoP tests: an issuer, an API with requireAuth({ dpop }), and calls with proofs. */
import express from 'express';
import { authErrorHandler, requireAuth, requireScopes, type RequireAuthEvent, type RequireAuthOptions } from 'express-m2m';
import { createDpopProof, generateDpopKey, type CreateDpopProofOptions, type DpopKeyPair, type LocalIssuer } from 'express-m2m/testing';
import { AUDIENCE, listen } from '../express/support.js';

export { AUDIENCE };

/** A response, reduced to what the tests assert. */
export interface Answer {
  status: number;
  challenge: string | null;
  nonce: string | null;
  body: Record<string, unknown>;
}

/** A running API: GET/POST /orders (and GET /admin, scope admin) behind requireAuth; answers `{ scheme, jkt, sub }`. */
export interface DpopApi {
  url: string;
  events: RequireAuthEvent[];
  /** A call with exactly these headers. */
  call(path: string, headers: Record<string, string>, method?: string): Promise<Answer>;
  close(): Promise<void>;
}

export async function startApi(
  issuer: LocalIssuer,
  options: Partial<RequireAuthOptions> = {},
  makeApp: () => express.Express = () => express(),
  configure?: (app: express.Express) => void,
): Promise<DpopApi> {
  const events: RequireAuthEvent[] = [];
  const auth = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, dpop: {}, onEvent: (event) => events.push(event), ...options });
  const app = makeApp();
  configure?.(app);
  const handler = (req: express.Request, res: express.Response) => {
    res.json({ scheme: req.auth?.scheme ?? 'Bearer', jkt: req.auth?.jkt ?? null, sub: req.auth?.payload.sub ?? null });
  };
  app.get('/orders', auth, handler);
  app.post('/orders', auth, handler);
  app.get('/orders/:id', auth, handler);
  app.get('/admin', auth, requireScopes('admin'), handler);
  app.use(authErrorHandler());
  const server = await listen(app);
  return {
    url: server.url,
    events,
    async call(path, headers, method = 'GET') {
      const response = await fetch(`${server.url}${path}`, { method, headers });
      const text = await response.text();
      return {
        status: response.status,
        challenge: response.headers.get('www-authenticate'),
        nonce: response.headers.get('dpop-nonce'),
        body: text === '' ? {} : JSON.parse(text) as Record<string, unknown>,
      };
    },
    async close() {
      auth.close();
      await server.close();
    },
  };
}

/** A DPoP-bound token for `key`. */
export function boundToken(issuer: LocalIssuer, key: DpopKeyPair, claims: Record<string, unknown> = {}): Promise<string> {
  return issuer.accessToken({ audience: AUDIENCE, claims: { cnf: { jkt: key.jkt }, ...claims } });
}

/** The headers of a DPoP request: `Authorization: DPoP <token>` and a proof (options override). */
export function dpopHeaders(
  api: { url: string },
  key: DpopKeyPair,
  token: string,
  path = '/orders',
  proof: Partial<CreateDpopProofOptions> = {},
  method = 'GET',
): Record<string, string> {
  return {
    authorization: `DPoP ${token}`,
    dpop: createDpopProof({ key, htm: method, htu: `${api.url}${path}`, accessToken: token, ...proof }),
  };
}

export { createDpopProof, generateDpopKey };
