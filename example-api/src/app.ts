/**
 * The example API as an Express app (no listening here): public, private and scope-protected
 * routes, and a route that calls a downstream service with a client-credentials token.
 */
import express, { type Express, type Response } from 'express';
import {
  authErrorHandler,
  clientCredentials,
  getOutbound,
  outboundAuth,
  OutboundTokenError,
  requireAuth,
  requireScopes,
  type ClientCredentialsOptions,
  type ClientCredentialsProvider,
  type OutboundAuthMiddleware,
  type OutboundServiceName,
  type RequireAuthMiddleware,
  type RequireAuthOptions,
} from 'express-m2m';
import { errorBody, finalErrorHandler, methodNotAllowed, notFound } from './http.js';
import { OrderStore, parseNewOrder } from './orders.js';

/** Where `GET /api/downstream` goes, and the client-credentials settings of the token it sends. */
export interface DownstreamTarget {
  /** The URL called (GET). */
  url: string;
  /** The client-credentials settings (token endpoint or issuer, client, audience, scope...). */
  client: ClientCredentialsOptions;
  /** Timeout of the downstream call, in milliseconds. Default 10000. */
  timeoutDuration?: number;
}

/** Options of {@link createApp}. */
export interface AppOptions {
  /** Which tokens the API accepts: `issuerBaseURL` (or `issuer` + `jwksUri`) and `audience`. */
  auth: RequireAuthOptions;
  /** The downstream call; when undefined, `GET /api/downstream` answers 503 `downstream_not_configured`. */
  downstream?: DownstreamTarget | undefined;
  /**
   * The DPoP-only downstream (`client` with `dpop`); when undefined, `GET /api/downstream-dpop`
   * answers 503 `downstream_not_configured`.
   */
  downstreamDpop?: DownstreamTarget | undefined;
  /** Where unexpected errors and operational warnings go (never tokens or secrets). Default `console.error`. */
  log?: (line: string) => void;
}

/** The app with the hooks a server needs around it. */
export interface ExampleApp {
  app: Express;
  /** Fetches the issuer's metadata and keys now, so the first request does not wait. */
  warmUp(): Promise<void>;
  /** Stops background work (key refreshes, token refreshes). */
  close(): Promise<void>;
}

/** The routes, for `GET /` and the README. */
export const ROUTES = [
  { method: 'GET', path: '/api/public', needs: 'nothing' },
  { method: 'GET', path: '/api/private', needs: 'a valid access token' },
  { method: 'GET', path: '/api/orders', needs: 'scope read:orders' },
  { method: 'POST', path: '/api/orders', needs: 'scope write:orders; JSON body {"item": string, "quantity": integer}' },
  { method: 'GET', path: '/api/downstream', needs: 'a valid access token; calls the downstream service with a client-credentials token' },
  { method: 'GET', path: '/api/downstream-dpop', needs: 'a valid access token; calls the DPoP-only downstream service with a DPoP-bound token and a new proof' },
  { method: 'GET', path: '/health', needs: 'nothing; the health of the issuer\'s keys and of the outbound token (no secrets)' },
] as const;

/** The name of the downstream service in `outboundAuth`. */
// Typed as any service name: this example does not augment `OutboundServiceRegistry` (that is global
// to a TypeScript program, and this repository type-checks the library's tests in the same program).
const DOWNSTREAM: OutboundServiceName = 'downstream' as OutboundServiceName;
/** The name of the DPoP-only downstream service in `outboundAuth`. */
const DOWNSTREAM_DPOP: OutboundServiceName = 'downstream-dpop' as OutboundServiceName;
/** Largest JSON body `POST /api/orders` reads. */
const MAX_BODY = '16kb';
/** Largest downstream answer passed on, in bytes. */
const MAX_DOWNSTREAM_BODY = 1_000_000;

/**
 * Builds the example API.
 *
 * @example
 * const { app, warmUp } = createApp({ auth: { issuerBaseURL: 'https://tenant.eu.auth0.com/', audience: 'https://api.example.com' } });
 * await warmUp();
 * app.listen(3000);
 */
export function createApp(options: AppOptions): ExampleApp {
  const log = options.log ?? ((line: string) => console.error(line));
  const auth: RequireAuthMiddleware = requireAuth(options.auth);
  const orders = new OrderStore();
  const downstream = options.downstream;
  const downstreamDpop = options.downstreamDpop;
  // One provider per downstream, built here (not by outboundAuth) so that GET /health can show its state.
  const providerFor = (target: DownstreamTarget | undefined): ClientCredentialsProvider | undefined => target === undefined ? undefined : clientCredentials({
    ...target.client,
    // Tell the operator when the API's own token cannot be had; events never hold the secret or a token.
    onEvent: (event) => {
      if (event.type === 'token.failed') log(`example-api: no token for the downstream service: ${event.error.message}`);
      target.client.onEvent?.(event);
    },
  });
  // `getOutbound(req).fetch(DOWNSTREAM, path)` attaches the token (and, for DPoP, a new proof).
  const target = downstream === undefined ? undefined : new URL(downstream.url);
  const dpopTarget = downstreamDpop === undefined ? undefined : new URL(downstreamDpop.url);
  const provider = providerFor(downstream);
  const dpopProvider = providerFor(downstreamDpop);
  const services: Record<string, { provider: ClientCredentialsProvider; baseUrl: string }> = {};
  // The service's base URL is the downstream URL's origin; its path and query are what the route fetches.
  if (provider !== undefined && target !== undefined) services[DOWNSTREAM] = { provider, baseUrl: target.origin };
  if (dpopProvider !== undefined && dpopTarget !== undefined) services[DOWNSTREAM_DPOP] = { provider: dpopProvider, baseUrl: dpopTarget.origin };
  const outbound: OutboundAuthMiddleware | undefined = Object.keys(services).length === 0 ? undefined : outboundAuth({ services });

  const app = express();
  app.disable('x-powered-by');

  app.get('/', (_req, res) => {
    res.json({ name: 'express-m2m example API', routes: ROUTES });
  });

  // Safe to expose: issuer and endpoint URLs, client id, audience, ages, error codes and messages;
  // never a token or a secret (docs/observability.md "Health"). Always 200: `status` says the rest
  // (a liveness probe must not restart the API because its issuer is down).
  app.get('/health', (_req, res) => {
    const inbound = auth.health();
    const token = provider?.health();
    const statuses = [inbound.status, token?.status ?? 'ok'];
    const status = statuses.includes('down') ? 'down' : statuses.includes('degraded') ? 'degraded' : 'ok';
    res.set('cache-control', 'no-store').json({ status, auth: inbound, outbound: token ?? null });
  });

  app.get('/api/public', (_req, res) => {
    res.json({ message: 'Hello from a public endpoint! You don\'t need to be authenticated to see this.' });
  });

  app.get('/api/private', auth, (req, res) => {
    res.json({
      message: 'Hello from a private endpoint! You need to be authenticated to see this.',
      sub: req.auth?.payload.sub,
      scopes: req.auth?.scopes ?? [],
    });
  });

  app.get('/api/orders', auth, requireScopes('read:orders'), (_req, res) => {
    res.json({ orders: orders.list() });
  });

  // The body is parsed only after the token and the scope are checked: an anonymous client never
  // gets its body parsed, and a malformed body from an authorized one is a JSON 400.
  app.post('/api/orders', auth, requireScopes('write:orders'), express.json({ limit: MAX_BODY, strict: false }), (req, res) => {
    const parsed = parseNewOrder(req.body);
    if (!parsed.ok) {
      res.status(400).json(errorBody('invalid_order', parsed.problem));
      return;
    }
    const order = orders.add(parsed.order, String(req.auth?.payload.sub ?? 'unknown'));
    res.status(201).location(`/api/orders/${order.id}`).json({ order });
  });

  if (outbound !== undefined && provider !== undefined && target !== undefined && downstream !== undefined) {
    const path = `${target.pathname}${target.search}`;
    app.get('/api/downstream', auth, outbound, async (req, res) => {
      await callDownstream(res, () => getOutbound(req).fetch(DOWNSTREAM, path, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(downstream.timeoutDuration ?? 10_000),
      }), log);
    });
  } else {
    app.get('/api/downstream', auth, (_req, res) => {
      res.status(503).json(errorBody(
        'downstream_not_configured',
        'this API has no outbound client: set CLIENT_ID, CLIENT_SECRET and DOWNSTREAM_AUDIENCE (and DOWNSTREAM_URL or TOKEN_ENDPOINT as needed)',
      ));
    });
  }

  if (outbound !== undefined && dpopProvider !== undefined && dpopTarget !== undefined && downstreamDpop !== undefined) {
    const path = `${dpopTarget.pathname}${dpopTarget.search}`;
    // The same call; the DPoP provider sends `Authorization: DPoP <token>` and a new proof for this URL.
    app.get('/api/downstream-dpop', auth, outbound, async (req, res) => {
      await callDownstream(res, () => getOutbound(req).fetch(DOWNSTREAM_DPOP, path, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(downstreamDpop.timeoutDuration ?? 10_000),
      }), log);
    });
  } else {
    app.get('/api/downstream-dpop', auth, (_req, res) => {
      res.status(503).json(errorBody(
        'downstream_not_configured',
        'the DPoP-only downstream service runs with the embedded issuer only (npm start without ISSUER_BASE_URL, ISSUER or JWKS_URI)',
      ));
    });
  }

  for (const route of ['/api/public', '/api/private', '/api/downstream', '/api/downstream-dpop', '/health']) app.all(route, methodNotAllowed(['GET']));
  app.all('/api/orders', methodNotAllowed(['GET', 'POST']));
  app.all('/', methodNotAllowed(['GET']));
  app.use(notFound());
  app.use(authErrorHandler());
  app.use(finalErrorHandler(log));

  return {
    app,
    warmUp: () => auth.warmUp(),
    async close() {
      auth.close();
      await outbound?.close();
      await provider?.close();
      await dpopProvider?.close();
    },
  };
}

/**
 * Calls the downstream with the API's own token and answers with its status and JSON body (a 5xx
 * becomes a 502; an answer that is not JSON, a failed connection or a missing token a 502/503/504).
 */
async function callDownstream(
  res: Response,
  send: () => Promise<globalThis.Response>,
  log: (line: string) => void,
): Promise<void> {
  let answer: globalThis.Response;
  try {
    answer = await send();
  } catch (error) {
    sendCallFailure(res, error, log);
    return;
  }
  let text: string;
  try {
    text = await readLimited(answer, MAX_DOWNSTREAM_BODY);
  } catch {
    res.status(502).json(errorBody('bad_gateway', 'the downstream service\'s answer could not be read in full'));
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    res.status(502).json(errorBody('bad_gateway', `the downstream service answered HTTP ${answer.status} without a JSON body`));
    return;
  }
  if (answer.status >= 500) {
    // The downstream failed, not the client: a gateway error, never a 5xx passed on as our own.
    res.status(502).json(errorBody('bad_gateway', `the downstream service failed with HTTP ${answer.status}`));
    return;
  }
  res.status(answer.status).json(body);
}

/** The answer when the downstream call could not be made: never a 500, never the token. */
function sendCallFailure(res: Response, error: unknown, log: (line: string) => void): void {
  if (error instanceof OutboundTokenError) {
    // 503 + Retry-After when the authorization server is unreachable or failing; 502 when it refused
    // our own client (wrong secret, audience not authorized): a gateway problem either way, not the caller's.
    for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
    if (error.status === 503) {
      res.status(503).json(errorBody('temporarily_unavailable', 'no token for the downstream service could be had from the authorization server; try again later'));
    } else {
      const reason = error.cause.error ?? (error.cause.status === undefined ? error.cause.code : `HTTP ${error.cause.status}`);
      res.status(502).json(errorBody('bad_gateway', `the authorization server refused this API's client credentials (${reason})`));
    }
    return;
  }
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    res.status(504).json(errorBody('gateway_timeout', 'the downstream service did not answer in time'));
    return;
  }
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  log(`example-api: the downstream call failed: ${typeof cause === 'string' ? cause : String(name)}`);
  res.status(502).json(errorBody('bad_gateway', 'the downstream service is unreachable'));
}

/** Reads a response body as text, giving up past `limit` bytes. */
async function readLimited(answer: globalThis.Response, limit: number): Promise<string> {
  const declared = Number(answer.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await answer.body?.cancel().catch(() => undefined);
    throw new Error('too large');
  }
  const buffer = Buffer.from(await answer.arrayBuffer());
  if (buffer.length > limit) throw new Error('too large');
  return buffer.toString('utf8');
}
