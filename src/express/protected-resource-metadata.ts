/**
 * `protectedResourceMetadata`: the Express adapter that publishes an API's protected resource
 * metadata (RFC 9728) at its well-known URL. The document is built, and its options checked, by
 * `src/metadata/`; this file only answers requests for it.
 */
import type { ServerResponse } from 'node:http';
import {
  issuerProblem, METADATA_OPTION_NAMES, readProtectedResourceMetadata, type MetadataDefaults, type ProtectedResourceMetadata,
  type ProtectedResourceMetadataOptions,
} from '../metadata/protected-resource-metadata.js';
import { OptionReader, type KnownOptions } from '../options/option-reader.js';
import type { AuthRequest, AuthRequestHandler, NextFunctionLike } from './express-types.js';
import { advertisedAuth, type RequireAuthMiddleware } from './require-auth.js';

/**
 * Options of {@link protectedResourceMetadata}: what the document says
 * ({@link ProtectedResourceMetadataOptions}), the `requireAuth` middleware it describes, and how
 * long clients may cache it.
 *
 * @example
 * ```ts
 * import { protectedResourceMetadata, requireAuth, type ProtectedResourceMetadataMiddlewareOptions } from 'express-m2m';
 *
 * const auth = requireAuth({ issuer: 'https://issuer.example.com', audience: 'https://api.example.com', jwksUri: 'https://issuer.example.com/jwks' });
 * const options: ProtectedResourceMetadataMiddlewareOptions = { resource: 'https://api.example.com', auth, scopesSupported: ['read:orders'] };
 * app.use(protectedResourceMetadata(options));
 * ```
 */
export interface ProtectedResourceMetadataMiddlewareOptions extends ProtectedResourceMetadataOptions {
  /**
   * The `requireAuth()` middleware that protects the API. `authorizationServers` defaults to its
   * issuers (each one's `issuer`, else its `issuerBaseURL`: write it as the issuer's identifier),
   * and `bearerMethodsSupported` to the ways it accepts a token (`header`, plus `body` and `query`
   * when enabled). When it has a `resourceMetadata` URL, that URL must be this document's. An
   * `issuers` function cannot be listed: pass `authorizationServers` then. Default: none.
   */
  auth?: RequireAuthMiddleware;
  /**
   * How long clients and caches may keep the document (`Cache-Control: public, max-age=...`), in
   * milliseconds; 0 sends `no-cache`. Default 3600000 (one hour: the document changes only with
   * a deployment, and a client that finds it stale after a change is refused and fetches it again).
   */
  cacheMaxAge?: number;
}

/**
 * The middleware `protectedResourceMetadata()` returns: an Express request handler that also
 * tells what it serves (its `document`, `url` and `path`), e.g. for requireAuth's
 * `resourceMetadata` option.
 *
 * @example
 * ```ts
 * import { protectedResourceMetadata, requireAuth } from 'express-m2m';
 *
 * const metadata = protectedResourceMetadata({ resource: 'https://api.example.com', authorizationServers: ['https://issuer.example.com'] });
 * app.use(metadata);
 * app.use(requireAuth({ issuerBaseURL: 'https://issuer.example.com', audience: 'https://api.example.com', resourceMetadata: metadata }));
 * ```
 */
export interface ProtectedResourceMetadataMiddleware extends AuthRequestHandler, ProtectedResourceMetadata {}

const MIDDLEWARE_OPTION_NAMES: KnownOptions<ProtectedResourceMetadataMiddlewareOptions> = { ...METADATA_OPTION_NAMES, auth: true, cacheMaxAge: true };
const CALLER = 'protectedResourceMetadata';
const ALLOWED_METHODS = 'GET, HEAD, OPTIONS';
/** A comma-separated list of header names (RFC 9110 tokens), as `Access-Control-Request-Headers` carries it. */
const HEADER_NAME_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*,[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/;

/**
 * Express middleware that publishes the API's protected resource metadata (RFC 9728): it answers
 * `GET` and `HEAD` at the well-known path of `resource` (`/.well-known/oauth-protected-resource`,
 * followed by the resource's path, if any: `/.well-known/oauth-protected-resource/v1` for
 * `https://api.example.com/v1`) with the JSON document, `OPTIONS` there as a CORS preflight, any
 * other method there with 405, and passes every other request on. The document is public: it is
 * served to any origin (`Access-Control-Allow-Origin: *`, no credentials) and may be cached.
 * Mount it at the root of the app, before `requireAuth` (clients fetch it without a token).
 *
 * One middleware serves one resource; an app with several resource identifiers (`/v1`, `/v2`)
 * mounts one per resource. Bad options throw a `TypeError` naming the option, here.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { authErrorHandler, protectedResourceMetadata, requireAuth } from 'express-m2m';
 *
 * const app = express();
 * const auth = requireAuth({
 *   issuerBaseURL: 'https://issuer.example.com',
 *   audience: 'https://api.example.com',
 *   resourceMetadata: 'https://api.example.com/.well-known/oauth-protected-resource',
 * });
 * app.use(protectedResourceMetadata({ resource: 'https://api.example.com', auth, scopesSupported: ['read:orders'] }));
 * app.use(auth);
 * app.use(authErrorHandler());
 * ```
 */
export function protectedResourceMetadata(options: ProtectedResourceMetadataMiddlewareOptions): ProtectedResourceMetadataMiddleware {
  const read = new OptionReader<ProtectedResourceMetadataMiddlewareOptions>(options, MIDDLEWARE_OPTION_NAMES, { caller: CALLER });
  const maxAge = read.duration('cacheMaxAge', 3_600_000, { zero: true });
  const defaults = authDefaults(read);
  const { auth: _auth, cacheMaxAge: _cacheMaxAge, ...own } = (options ?? {}) as ProtectedResourceMetadataMiddlewareOptions;
  const metadata = readProtectedResourceMetadata(new OptionReader<ProtectedResourceMetadataOptions>(own, METADATA_OPTION_NAMES, { caller: CALLER }), defaults);
  checkAgainstAuth(read, metadata, defaults);

  const body = Buffer.from(JSON.stringify(metadata.document));
  const cacheControl = maxAge === 0 ? 'no-cache' : `public, max-age=${Math.floor(maxAge / 1000)}`;

  const middleware = function protectedResourceMetadataMiddleware(req: AuthRequest, res: ServerResponse, next: NextFunctionLike): void {
    const target = req.originalUrl ?? req.url ?? '';
    const query = target.indexOf('?');
    if ((query === -1 ? target : target.slice(0, query)) !== metadata.path) {
      next();
      return;
    }
    // Public metadata: any origin may read it, never with credentials (`*` forbids them).
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method === 'GET' || req.method === 'HEAD') {
      res.statusCode = 200;
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('Content-Length', body.length);
      res.setHeader('Cache-Control', cacheControl);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.end(req.method === 'GET' ? body : undefined);
      return;
    }
    res.setHeader('Allow', ALLOWED_METHODS);
    if (req.method === 'OPTIONS') {
      // A CORS preflight (a browser client that adds a header of its own, e.g. MCP-Protocol-Version).
      res.statusCode = 204;
      res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
      const requested = req.headers['access-control-request-headers'];
      if (typeof requested === 'string' && requested.length <= 1024 && HEADER_NAME_LIST.test(requested.trim())) {
        res.setHeader('Access-Control-Allow-Headers', requested.trim());
      }
      res.setHeader('Access-Control-Max-Age', '86400');
      res.end();
      return;
    }
    res.statusCode = 405;
    res.setHeader('Content-Length', 0);
    res.end();
  } as ProtectedResourceMetadataMiddleware;
  for (const name of ['document', 'url', 'path'] as const) {
    Object.defineProperty(middleware, name, { value: metadata[name], enumerable: true });
  }
  return middleware;
}

/** The defaults the `auth` option gives, checked: its issuers must be issuer identifiers. */
function authDefaults(read: OptionReader<ProtectedResourceMetadataMiddlewareOptions>): MetadataDefaults & { resourceMetadata?: string } {
  if (!read.has('auth')) return { authorizationServersHint: ': pass it, or the requireAuth() middleware as "auth"' };
  const advertised = advertisedAuth(read.raw('auth'));
  if (advertised === undefined) read.fail('auth', 'must be a requireAuth() middleware');
  const { issuers } = advertised;
  if ('unknown' in issuers && !read.has('authorizationServers')) read.fail('auth', `cannot give "authorizationServers" (${issuers.unknown}): pass "authorizationServers"`);
  if ('list' in issuers && !read.has('authorizationServers')) {
    for (const issuer of issuers.list) {
      const problem = issuerProblem(issuer);
      if (problem !== undefined) read.fail('auth', `cannot give "authorizationServers" (its issuer ${problem}): pass "authorizationServers"`);
    }
  }
  return {
    authorizationServers: 'list' in issuers ? issuers.list : undefined,
    bearerMethods: advertised.bearerMethods,
    dpop: advertised.dpop,
    certificateBoundTokensRequired: advertised.certificateBoundTokensRequired,
    ...(advertised.resourceMetadata === undefined ? {} : { resourceMetadata: advertised.resourceMetadata }),
  };
}

/** The document must not advertise what `auth` refuses, nor be published elsewhere than auth's challenges say. */
function checkAgainstAuth(
  read: OptionReader<ProtectedResourceMetadataMiddlewareOptions>,
  metadata: ProtectedResourceMetadata,
  defaults: MetadataDefaults & { resourceMetadata?: string },
): void {
  if (!read.has('auth')) return;
  const accepted = defaults.bearerMethods ?? [];
  for (const method of metadata.document.bearer_methods_supported ?? []) {
    if (!accepted.includes(method)) {
      read.fail('bearerMethodsSupported', `lists '${method}', which "auth" does not accept (${method === 'body' ? 'allowBodyToken' : 'allowQueryToken'} is off)`);
    }
  }
  if (defaults.resourceMetadata !== undefined && defaults.resourceMetadata !== metadata.url) {
    read.fail('resource', `gives the metadata URL ${JSON.stringify(metadata.url)}, but the challenges of "auth" point to ${JSON.stringify(defaults.resourceMetadata)}: give both the same resource`);
  }
}
