/**
 * The types of `outboundAuth()`: the services it is configured with and the clients route
 * handlers get (`req.outbound`, typed through Express's `Request` by declaration merging).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientCredentialsOptions } from '../outbound/client-credentials-options.js';
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

