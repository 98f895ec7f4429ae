/**
 * `outboundAuth()`: Express middleware that gives every route handler authenticated clients for the
 * downstream services it calls (`getOutbound(req).fetch('billing', '/invoices')`). Token providers are
 * built once, when the middleware is created, never per request. Works with Express 4 and 5.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MemoryTokenCache } from '../caches/memory-token-cache.js';
import { OptionReader, type KnownOptions } from '../options/option-reader.js';
import { buildTokenProvider } from '../outbound/client-credentials.js';
import { CLIENT_CREDENTIALS_OPTION_NAMES, type ClientCredentialsOptions } from '../outbound/client-credentials-options.js';
import { TokenRequestError } from '../outbound/token-request-error.js';
import type { TokenProvider } from '../outbound/types.js';
import type {
  OutboundAuthMiddleware, OutboundAuthOptions, OutboundClients, OutboundServiceClient, OutboundServiceOptions,
} from './outbound-auth-types.js';
import { OutboundTokenError } from './outbound-token-error.js';

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

const RESERVED = new Set(['fetch', 'service', 'then', 'constructor', '__proto__', 'prototype', 'toJSON']);

const OUTBOUND_AUTH_OPTION_NAMES: KnownOptions<OutboundAuthOptions> = { services: true, defaults: true };
const SERVICE_OPTION_NAMES: KnownOptions<OutboundServiceOptions> = { ...CLIENT_CREDENTIALS_OPTION_NAMES, baseUrl: true, provider: true };

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
  const read: OptionReader<OutboundAuthOptions> = new OptionReader(options, OUTBOUND_AUTH_OPTION_NAMES, { caller: 'outboundAuth' });
  if (options === undefined) read.failWith('the options must be an object');
  const services = read.raw('services');
  if (typeof services !== 'object' || services === null || Array.isArray(services) || Object.keys(services).length === 0) {
    read.fail('services', 'must be an object with at least one service');
  }
  // The shared defaults: checked for unknown names here (their values are checked per service).
  const defaults = (read.raw('defaults') ?? {}) as Partial<ClientCredentialsOptions>;
  read.nested('defaults', CLIENT_CREDENTIALS_OPTION_NAMES);
  const sharedCache = defaults.cache ?? new MemoryTokenCache();
  const owned: TokenProvider[] = [];
  const clients = new Map<string, OutboundServiceClient>();

  for (const [name, service] of Object.entries(services as Record<string, OutboundServiceOptions>)) {
    if (RESERVED.has(name)) read.failWith(`service name "${name}" is reserved`);
    const path = `services.${name}.`;
    const serviceRead: OptionReader<OutboundServiceOptions> = new OptionReader(service, SERVICE_OPTION_NAMES, { caller: 'outboundAuth', path });
    if (service === undefined) read.fail(`services.${name}`, 'must be an object');
    const baseUrl = serviceRead.httpUrl('baseUrl', service.allowInsecureHttp ?? defaults.allowInsecureHttp ?? false);
    if (baseUrl === undefined) serviceRead.fail('baseUrl', 'is required: the absolute http(s) URL the service\'s paths are resolved against');
    const { baseUrl: _baseUrl, provider: given, ...credentials } = service;
    let provider: TokenProvider;
    if (given !== undefined) {
      if (typeof given !== 'object' || given === null || typeof given.fetch !== 'function' || typeof given.getToken !== 'function') {
        serviceRead.fail('provider', 'must be a TokenProvider (e.g. from clientCredentials())');
      }
      if (Object.keys(credentials).length > 0) {
        read.failWith(`services.${name}: give "provider" or clientCredentials options (${Object.keys(credentials).join(', ')}), not both`);
      }
      provider = given;
    } else {
      provider = buildTokenProvider({ cache: sharedCache, ...defaults, ...credentials } as ClientCredentialsOptions, { caller: 'outboundAuth', path });
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
