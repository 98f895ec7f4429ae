/**
 * `outboundAuth()`: Express middleware that gives every route handler authenticated clients for the
 * downstream services it calls (`getOutbound(req).fetch('billing', '/invoices')`). Token providers are
 * built once, when the middleware is created, never per request. Works with Express 4 and 5.
 */
import { isHttpUrl } from '../lib/urls.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MemoryTokenCache } from '../caches/memory-token-cache.js';
import { clientCredentials, type ClientCredentialsOptions } from '../outbound/client-credentials.js';
import { TokenRequestError } from '../outbound/token-request-error.js';
import type { TokenProvider } from '../outbound/types.js';

/**
 * Augment this interface to type the service names (`getOutbound(req).billing`,
 * `getOutbound(req).fetch('billing', ...)`). Left empty, any string is accepted and unknown names
 * throw at run time.
 *
 * @example
 * ```ts
 * declare module 'express-m2m' {
 *   interface OutboundServiceRegistry { billing: true; ledger: true }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface OutboundServiceRegistry {}

/**
 * A service name: the keys of {@link OutboundServiceRegistry}, or any string when it is empty.
 *
 * @example
 * ```ts
 * import type { OutboundServiceName } from 'express-m2m';
 *
 * const service: OutboundServiceName = 'billing'; // checked against OutboundServiceRegistry when it is augmented
 * ```
 */
export type OutboundServiceName = [keyof OutboundServiceRegistry] extends [never] ? string : keyof OutboundServiceRegistry & string;

/**
 * One downstream service: where it is, and how to get tokens for it.
 *
 * @example
 * ```ts
 * import { clientCredentials, type OutboundServiceOptions } from 'express-m2m';
 *
 * const billing: OutboundServiceOptions = { baseUrl: 'https://billing.example.com/api', audience: 'https://billing.example.com', scope: 'invoices:read' };
 * const ledger: OutboundServiceOptions = {
 *   baseUrl: 'https://ledger.example.com',
 *   provider: clientCredentials({ tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'svc', clientSecret: 'placeholder' }),
 * };
 * ```
 */
export interface OutboundServiceOptions extends Partial<ClientCredentialsOptions> {
  /** Base URL the service's paths are resolved against, e.g. `https://billing.internal/api`. Required. */
  baseUrl: string;
  /**
   * A token provider to use as-is (e.g. one shared with other code). Without it, one is built from
   * `defaults` merged with this service's own `clientCredentials` options (`audience`, `scope`, ...).
   */
  provider?: TokenProvider;
}

/**
 * Options of {@link outboundAuth}.
 *
 * @example
 * ```ts
 * import { outboundAuth, type OutboundAuthOptions } from 'express-m2m';
 *
 * const options: OutboundAuthOptions = {
 *   defaults: { tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'orders', clientSecret: 'placeholder' },
 *   services: { billing: { baseUrl: 'https://billing.example.com', audience: 'https://billing.example.com' } },
 * };
 * const outbound = outboundAuth(options);
 * ```
 */
export interface OutboundAuthOptions {
  /** The downstream services by name. Required, at least one. */
  services: Record<string, OutboundServiceOptions>;
  /**
   * `clientCredentials` options shared by every service without its own `provider` (token endpoint,
   * client credentials, `cache`, `onEvent`); a service's own options win. When no `cache` is given,
   * the services share one {@link MemoryTokenCache}, so services with the same audience and scope
   * share a token.
   */
  defaults?: Partial<ClientCredentialsOptions>;
}

/**
 * An authenticated client for one downstream service.
 *
 * @example
 * ```ts
 * import { getOutbound, type OutboundServiceClient } from 'express-m2m';
 * import type { Request } from 'express';
 *
 * async function invoices(req: Request): Promise<unknown> {
 *   const billing: OutboundServiceClient = getOutbound(req).service('billing');
 *   return (await billing.fetch('/invoices')).json();
 * }
 * ```
 */
export interface OutboundServiceClient {
  /** The service name. */
  readonly name: string;
  /** The base URL paths are resolved against. */
  readonly baseUrl: string;
  /** The token provider behind this client. */
  readonly provider: TokenProvider;
  /**
   * `fetch(baseUrl + path)` with the service's Bearer token (and the provider's one retry on a 401
   * `invalid_token`). `path` must be relative: an absolute URL would send the token elsewhere and throws.
   * Token failures reject with {@link OutboundTokenError}.
   */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** A token for this service. Rejects with {@link OutboundTokenError}. */
  getToken(): Promise<string>;
}

/**
 * What `req.outbound` holds: a `fetch` by service name, and the clients by name.
 *
 * @example
 * ```ts
 * import { getOutbound, type OutboundClients } from 'express-m2m';
 * import type { Request } from 'express';
 *
 * const clientsOf = (req: Request): OutboundClients => getOutbound(req);
 * // clientsOf(req).fetch('billing', '/invoices'), clientsOf(req).service('billing').getToken()
 * ```
 */
export type OutboundClients = {
  /** `req.outbound.fetch('billing', '/invoices')`: fetch a path of a named service with its token. */
  fetch(service: OutboundServiceName, path: string, init?: RequestInit): Promise<Response>;
  /** The client of a named service; throws for an unknown name. */
  service(name: OutboundServiceName): OutboundServiceClient;
} & { readonly [Name in keyof OutboundServiceRegistry]: OutboundServiceClient };

declare global {
  namespace Express {
    interface Request {
      /**
       * Authenticated clients of downstream services, set by `outboundAuth()` (express-m2m). Undefined
       * on routes the middleware does not run for: read it with `getOutbound(req)`, which throws a
       * clear error there instead.
       */
      outbound?: OutboundClients;
    }
  }
}

/**
 * The downstream clients `outboundAuth()` put on this request (`req.outbound`), typed; throws a
 * `TypeError` naming the cause when the middleware did not run for this route (a setup mistake).
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { getOutbound, outboundAuth } from 'express-m2m';
 *
 * const app = express();
 * app.use(outboundAuth({
 *   defaults: { tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'orders', clientSecret: 'placeholder' },
 *   services: { billing: { baseUrl: 'https://billing.example.com', audience: 'https://billing.example.com' } },
 * }));
 * app.get('/invoices', async (req, res) => {
 *   const response = await getOutbound(req).fetch('billing', '/invoices');
 *   res.status(response.status).json(await response.json());
 * });
 * ```
 */
export function getOutbound(req: { outbound?: OutboundClients }): OutboundClients {
  const outbound = req.outbound;
  if (outbound === undefined) {
    throw new TypeError('getOutbound: req.outbound is not set: mount outboundAuth() before this route');
  }
  return outbound;
}

/**
 * The middleware returned by {@link outboundAuth}, with the clients for use outside requests.
 *
 * @example
 * ```ts
 * import { outboundAuth } from 'express-m2m';
 *
 * const outbound = outboundAuth({
 *   defaults: { tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'orders', clientSecret: 'placeholder' },
 *   services: { billing: { baseUrl: 'https://billing.example.com' } },
 * });
 * await outbound.clients.service('billing').getToken(); // e.g. a start-up check, outside any request
 * process.on('SIGTERM', () => void outbound.close());
 * ```
 */
export interface OutboundAuthMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  /** The same object handlers get as `req.outbound` (for jobs and start-up checks). */
  readonly clients: OutboundClients;
  /** Closes the providers this middleware built (not those it was given). */
  close(): Promise<void>;
}

/**
 * A downstream call could not get a token. Carries a status meant for the caller of your API
 * (503 with `Retry-After` for a transient failure, 502 when the authorization server rejected the
 * client), not the authorization server's own status; the {@link TokenRequestError} is its `cause`.
 *
 * @example
 * ```ts
 * import type { Request, Response, NextFunction } from 'express';
 * import { OutboundTokenError } from 'express-m2m';
 *
 * export function downstreamErrors(error: unknown, _req: Request, res: Response, next: NextFunction) {
 *   if (!(error instanceof OutboundTokenError)) return next(error);
 *   console.error(error.service, error.cause.code, error.cause.error);
 *   res.status(error.status).set(error.headers).json({ error: 'downstream_unavailable' });
 * }
 * ```
 */
export class OutboundTokenError extends Error {
  /** 502 or 503, for Express's error handler. */
  readonly status: number;
  /** Same as `status`. */
  readonly statusCode: number;
  /** Stable code. */
  readonly code = 'ERR_OUTBOUND_TOKEN_UNAVAILABLE';
  /** The service name. */
  readonly service: string;
  /** Response headers (`Retry-After` on 503). */
  readonly headers: Record<string, string>;
  /** The message names internals (the token endpoint): not for the client. */
  readonly expose = false;
  override readonly cause: TokenRequestError;

  constructor(service: string, cause: TokenRequestError) {
    super(`no token for service "${service}": ${cause.message}`, { cause });
    this.name = 'OutboundTokenError';
    this.service = service;
    this.cause = cause;
    this.status = cause.retryable ? 503 : 502;
    this.statusCode = this.status;
    this.headers = this.status === 503 ? { 'Retry-After': String(Math.max(1, Math.ceil((cause.retryAfter ?? 5000) / 1000))) } : {};
  }
}

const RESERVED = new Set(['fetch', 'service', 'then', 'constructor', '__proto__', 'prototype', 'toJSON']);

function fail(message: string): never {
  throw new TypeError(`outboundAuth: ${message}`);
}

/** Joins a relative path to the base URL (keeping the base path); refuses absolute URLs. */
function resolveUrl(service: string, baseUrl: string, path: string): string {
  if (typeof path !== 'string') throw new TypeError(`outbound service "${service}": path must be a string`);
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith('//') || path.startsWith('\\')) {
    throw new TypeError(`outbound service "${service}": path must be relative to ${baseUrl} (an absolute URL would send its token elsewhere)`);
  }
  const base = baseUrl.endsWith('/') ? baseUrl.slice(0, -1) : baseUrl;
  if (path === '') return base;
  return path.startsWith('/') || path.startsWith('?') || path.startsWith('#') ? `${base}${path}` : `${base}/${path}`;
}

function wrapTokenError(service: string, error: unknown): never {
  if (error instanceof TokenRequestError) throw new OutboundTokenError(service, error);
  throw error;
}

/**
 * Express middleware that puts authenticated downstream clients on `req.outbound`. Providers are
 * built once here; a request only gets a reference to the same clients object.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { getOutbound, outboundAuth } from 'express-m2m';
 *
 * const app = express();
 * app.use(outboundAuth({
 *   defaults: {
 *     tokenEndpoint: 'https://auth.example.com/oauth/token',
 *     clientId: 'orders-service',
 *     clientSecret: process.env.ORDERS_CLIENT_SECRET ?? 'placeholder',
 *   },
 *   services: {
 *     billing: { baseUrl: 'https://billing.example.com', audience: 'https://billing.example.com' },
 *   },
 * }));
 * app.get('/orders/:id/invoice', async (req, res) => {
 *   const response = await getOutbound(req).fetch('billing', `/invoices?order=${encodeURIComponent(req.params.id)}`);
 *   res.status(response.status).json(await response.json());
 * });
 * ```
 */
export function outboundAuth(options: OutboundAuthOptions): OutboundAuthMiddleware {
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  const { services, defaults = {} } = options;
  if (typeof services !== 'object' || services === null || Object.keys(services).length === 0) {
    fail('"services" must be an object with at least one service');
  }
  if (typeof defaults !== 'object' || defaults === null) fail('"defaults" must be an object');
  const sharedCache = defaults.cache ?? new MemoryTokenCache();
  const owned: TokenProvider[] = [];
  const clients = new Map<string, OutboundServiceClient>();

  for (const [name, service] of Object.entries(services)) {
    if (RESERVED.has(name)) fail(`service name "${name}" is reserved`);
    if (typeof service !== 'object' || service === null) fail(`services.${name} must be an object`);
    const { baseUrl, provider: given, ...credentials } = service;
    if (!isHttpUrl(baseUrl)) {
      fail(`services.${name}: "baseUrl" must be an absolute http(s) URL`);
    }
    let provider: TokenProvider;
    if (given !== undefined) {
      if (typeof given !== 'object' || given === null || typeof given.fetch !== 'function' || typeof given.getToken !== 'function') {
        fail(`services.${name}: "provider" must be a TokenProvider (e.g. from clientCredentials())`);
      }
      if (Object.keys(credentials).length > 0) {
        fail(`services.${name}: give "provider" or clientCredentials options (${Object.keys(credentials).join(', ')}), not both`);
      }
      provider = given;
    } else {
      try {
        provider = clientCredentials({ cache: sharedCache, ...defaults, ...credentials } as ClientCredentialsOptions);
      } catch (error) {
        fail(`services.${name}: ${error instanceof Error ? error.message.replace(/^clientCredentials: /, '') : String(error)}`);
      }
      owned.push(provider);
    }
    const client: OutboundServiceClient = Object.freeze({
      name,
      baseUrl,
      provider,
      fetch: (path: string, init?: RequestInit) =>
        provider.fetch(resolveUrl(name, baseUrl, path), init).catch((error: unknown) => wrapTokenError(name, error)),
      getToken: () => provider.getToken().catch((error: unknown) => wrapTokenError(name, error)),
    });
    clients.set(name, client);
  }

  const lookup = (name: string): OutboundServiceClient => {
    const client = clients.get(name);
    if (client === undefined) {
      throw new TypeError(`outboundAuth: unknown service ${JSON.stringify(name)} (known: ${[...clients.keys()].join(', ')})`);
    }
    return client;
  };
  const outbound = Object.freeze(Object.assign(Object.create(null) as object, Object.fromEntries(clients), {
    fetch: (service: string, path: string, init?: RequestInit): Promise<Response> => {
      try {
        return lookup(service).fetch(path, init);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    service: lookup,
  })) as unknown as OutboundClients;

  const middleware = ((req: IncomingMessage, _res: ServerResponse, next: (error?: unknown) => void): void => {
    (req as IncomingMessage & { outbound: OutboundClients }).outbound = outbound;
    next();
  }) as OutboundAuthMiddleware;
  Object.defineProperty(middleware, 'clients', { value: outbound, enumerable: true });
  Object.defineProperty(middleware, 'close', {
    value: async () => {
      await Promise.all(owned.map((provider) => provider.close()));
    },
  });
  return middleware;
}
