/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728): the JSON document an API publishes about
 * itself (its resource identifier, the authorization servers that issue its tokens, its scopes,
 * how a token may be sent), and the well-known URL it is published at. Transport-neutral: the
 * Express adapter (`src/express/protected-resource-metadata.ts`) serves what is built here.
 */
import { quotable } from '../errors/quotable.js';
import { isHttpUrl, isLoopback } from '../lib/urls.js';
import { OptionReader, type KnownOptions } from '../options/option-reader.js';

/**
 * How a client may send the access token (RFC 9728 section 2, `bearer_methods_supported`): the
 * `Authorization` header, the form body or the query string (RFC 6750 section 2.1, 2.2, 2.3).
 *
 * @example
 * ```ts
 * import type { BearerMethod } from 'express-m2m';
 *
 * const methods: BearerMethod[] = ['header'];
 * ```
 */
export type BearerMethod = 'header' | 'body' | 'query';

/**
 * What the metadata document says (RFC 9728 section 2), in the project's camelCase; each option
 * names the member it fills.
 *
 * DPoP (RFC 9449) is advertised (`dpop_signing_alg_values_supported`,
 * `dpop_bound_access_tokens_required`) when given here, or taken from requireAuth's `dpop` by
 * `protectedResourceMetadata({ auth })`. `tls_client_certificate_bound_access_tokens` (RFC 8705)
 * is listed when the API requires certificate-bound tokens (from requireAuth's
 * `mtls.mode: 'required'`, or the option). `jwks_uri`, `resource_signing_alg_values_supported`,
 * `authorization_details_types_supported` and `signed_metadata` are not supported either.
 *
 * @example
 * ```ts
 * import { createProtectedResourceMetadata, type ProtectedResourceMetadataOptions } from 'express-m2m';
 *
 * const options: ProtectedResourceMetadataOptions = {
 *   resource: 'https://api.example.com/v1',
 *   authorizationServers: ['https://issuer.example.com'],
 *   scopesSupported: ['read:orders', 'write:orders'],
 *   resourceName: 'Orders API',
 * };
 * const { url, document } = createProtectedResourceMetadata(options);
 * // url === 'https://api.example.com/.well-known/oauth-protected-resource/v1'
 * ```
 */
export interface ProtectedResourceMetadataOptions {
  /**
   * `resource` (required): the API's resource identifier, the URL clients call it by (and,
   * usually, the audience its tokens are minted for). An https URL (plain http only on a loopback
   * address), written in canonical form (lower-case host, no default port), without user
   * information, query or fragment. The document's `resource` is this string exactly.
   */
  resource: string;
  /**
   * `authorization_servers`: the issuer identifiers (RFC 8414) of the authorization servers whose
   * tokens the API accepts: https URLs (http only on loopback), without query or fragment.
   * Required here; `protectedResourceMetadata()` also takes them from its `auth` option.
   */
  authorizationServers?: readonly string[];
  /** `scopes_supported`: the scopes a client may ask for to call the API (an array or a space-separated string). Default: none listed. */
  scopesSupported?: string | readonly string[];
  /**
   * `bearer_methods_supported`: how a token may be sent. Default `['header']`: `requireAuth` reads
   * the `Authorization` header, and the body and query only when `allowBodyToken` /
   * `allowQueryToken` say so (`protectedResourceMetadata()` takes them from its `auth` option).
   */
  bearerMethodsSupported?: readonly BearerMethod[];
  /**
   * `dpop_signing_alg_values_supported` (RFC 9728 section 2, RFC 9449): the DPoP proof algorithms
   * the API accepts. Default: none listed (`protectedResourceMetadata()` takes requireAuth's
   * `dpop.algorithms` from its `auth` option).
   */
  dpopSigningAlgValuesSupported?: readonly string[];
  /**
   * `dpop_bound_access_tokens_required`: whether the API accepts only DPoP-bound tokens. Default:
   * not listed (`protectedResourceMetadata()` takes it from requireAuth's `dpop.mode`).
   */
  dpopBoundAccessTokensRequired?: boolean;
  /** `resource_name`: a name for people, e.g. `Orders API`. Default: none. */
  resourceName?: string;
  /** `resource_documentation`: the URL of the API's documentation for developers. Default: none. */
  resourceDocumentation?: string;
  /** `resource_policy_uri`: the URL of what the API does with the data it gets. Default: none. */
  resourcePolicyUri?: string;
  /** `resource_tos_uri`: the URL of the API's terms of service. Default: none. */
  resourceTosUri?: string;
  /**
   * `tls_client_certificate_bound_access_tokens` (RFC 9728 section 2, RFC 8705): the API accepts
   * only certificate-bound tokens. Default: `protectedResourceMetadata()` takes it from its `auth`
   * option (`true` when `mtls.mode` is `'required'`); otherwise not listed.
   */
  tlsClientCertificateBoundAccessTokens?: boolean;
}

/**
 * The metadata document (RFC 9728 section 2), as served: only the members that have a value.
 *
 * @example
 * ```ts
 * import type { ProtectedResourceMetadataDocument } from 'express-m2m';
 *
 * const document: ProtectedResourceMetadataDocument = await (await fetch('https://api.example.com/.well-known/oauth-protected-resource')).json();
 * console.log(document.authorization_servers?.[0]);
 * ```
 */
export interface ProtectedResourceMetadataDocument {
  /** The resource identifier. */
  readonly resource: string;
  /** Issuer identifiers of the authorization servers whose tokens the API accepts. */
  readonly authorization_servers?: readonly string[];
  /** The scopes a client may ask for. */
  readonly scopes_supported?: readonly string[];
  /** How a token may be sent. */
  readonly bearer_methods_supported?: readonly BearerMethod[];
  /** The DPoP proof algorithms accepted (RFC 9449). */
  readonly dpop_signing_alg_values_supported?: readonly string[];
  /** Whether only DPoP-bound tokens are accepted (RFC 9449). */
  readonly dpop_bound_access_tokens_required?: boolean;
  /** A name for people. */
  readonly resource_name?: string;
  /** The URL of the API's documentation. */
  readonly resource_documentation?: string;
  /** The URL of the API's data policy. */
  readonly resource_policy_uri?: string;
  /** The URL of the API's terms of service. */
  readonly resource_tos_uri?: string;
  /** The API accepts only certificate-bound access tokens (RFC 8705). */
  readonly tls_client_certificate_bound_access_tokens?: boolean;
}

/**
 * A built metadata document and where it is published.
 *
 * @example
 * ```ts
 * import { createProtectedResourceMetadata } from 'express-m2m';
 *
 * const metadata = createProtectedResourceMetadata({ resource: 'https://api.example.com', authorizationServers: ['https://issuer.example.com'] });
 * // metadata.url === 'https://api.example.com/.well-known/oauth-protected-resource', metadata.path === '/.well-known/oauth-protected-resource'
 * ```
 */
export interface ProtectedResourceMetadata {
  /** The document (frozen). */
  readonly document: ProtectedResourceMetadataDocument;
  /**
   * Its URL (RFC 9728 section 3.1): the well-known path inserted between the host and the path of
   * the resource identifier, e.g. `https://api.example.com/.well-known/oauth-protected-resource/v1`
   * for `https://api.example.com/v1`. The `resource_metadata` of requireAuth's challenges.
   */
  readonly url: string;
  /** The path of {@link url}, the one request path the document is answered at. */
  readonly path: string;
}

/** The well-known URI suffix of RFC 9728 section 3 (registered in section 8.3). */
export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';

/** Every option {@link createProtectedResourceMetadata} takes. */
export const METADATA_OPTION_NAMES: KnownOptions<ProtectedResourceMetadataOptions> = {
  resource: true, authorizationServers: true, scopesSupported: true, bearerMethodsSupported: true,
  resourceName: true, resourceDocumentation: true, resourcePolicyUri: true, resourceTosUri: true,
  dpopSigningAlgValuesSupported: true, dpopBoundAccessTokensRequired: true,   tlsClientCertificateBoundAccessTokens: true,
};

const BEARER_METHODS: readonly BearerMethod[] = ['header', 'body', 'query'];
/** RFC 6749 section 3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** What a caller adds to the options: defaults it found elsewhere (its `auth` option). */
export interface MetadataDefaults {
  /** Used when `authorizationServers` is not given. */
  authorizationServers?: readonly string[] | undefined;
  /** Used when `bearerMethodsSupported` is not given (default `['header']`). */
  bearerMethods?: readonly BearerMethod[] | undefined;
  /** Used when `tlsClientCertificateBoundAccessTokens` is not given: requireAuth's `mtls.mode` is `'required'`. */
  certificateBoundTokensRequired?: boolean | undefined;
  /** Says how to give `authorizationServers` when it is missing. */
  authorizationServersHint?: string;
  /** Used when the DPoP options are not given: requireAuth's DPoP. */
  dpop?: { readonly algorithms: readonly string[]; readonly required: boolean } | undefined;
}

/**
 * Builds the protected resource metadata document of an API and its well-known URL, for any
 * framework (`protectedResourceMetadata()` serves it with Express). Bad options throw a
 * `TypeError` naming the option.
 *
 * @example
 * ```ts
 * import { createProtectedResourceMetadata } from 'express-m2m';
 *
 * const { path, document } = createProtectedResourceMetadata({
 *   resource: 'https://api.example.com/v1',
 *   authorizationServers: ['https://issuer.example.com'],
 *   scopesSupported: 'read:orders write:orders',
 * });
 * fastify.get(path, (request, reply) => reply.header('Cache-Control', 'public, max-age=3600').send(document));
 * ```
 */
export function createProtectedResourceMetadata(options: ProtectedResourceMetadataOptions): ProtectedResourceMetadata {
  return readProtectedResourceMetadata(
    new OptionReader<ProtectedResourceMetadataOptions>(options, METADATA_OPTION_NAMES, { caller: 'createProtectedResourceMetadata' }),
  );
}

/** Internal: the document from options read by `read` (createProtectedResourceMetadata's reader, or the middleware's). */
export function readProtectedResourceMetadata(
  read: OptionReader<ProtectedResourceMetadataOptions>,
  defaults: MetadataDefaults = {},
): ProtectedResourceMetadata {
  if (!read.has('resource')) read.required('resource', 'the URL clients call the API by');
  const resource = resourceIdentifier(read);
  const servers = read.has('authorizationServers')
    ? read.stringList('authorizationServers', { expected: 'a non-empty array of issuer URLs' })!
    : defaults.authorizationServers;
  if (servers === undefined) {
    read.required('authorizationServers', `clients find where to get a token from it${defaults.authorizationServersHint ?? ''}`);
  }
  servers.forEach((server, index) => {
    const problem = issuerProblem(server);
    if (problem !== undefined) read.fail(read.has('authorizationServers') ? `authorizationServers[${index}]` : 'authorizationServers', problem);
  });
  const scopes = read.stringList('scopesSupported', { string: 'split', expected: 'a space-separated string or an array of scope names' });
  scopes?.forEach((scope, index) => {
    if (!SCOPE_TOKEN.test(scope)) read.fail(`scopesSupported[${index}]`, 'must be a scope name: printable ASCII without spaces, quotes or backslashes (RFC 6749 section 3.3)');
  });
  const methods = read.stringList('bearerMethodsSupported', { expected: "a non-empty array of 'header', 'body' or 'query'" });
  methods?.forEach((method, index) => {
    if (!(BEARER_METHODS as readonly string[]).includes(method)) read.fail(`bearerMethodsSupported[${index}]`, "must be 'header', 'body' or 'query'");
  });
  const name = read.string('resourceName');

  const document: Record<string, unknown> = { resource, authorization_servers: Object.freeze([...servers]) };
  if (scopes !== undefined) document.scopes_supported = Object.freeze(scopes);
  document.bearer_methods_supported = Object.freeze([...(methods ?? defaults.bearerMethods ?? ['header'])]);
  if (name !== undefined) document.resource_name = name;
  const dpopAlgorithms = read.stringList('dpopSigningAlgValuesSupported', { expected: 'a non-empty array of JWS algorithm names' }) ?? defaults.dpop?.algorithms;
  if (dpopAlgorithms !== undefined) document.dpop_signing_alg_values_supported = Object.freeze([...dpopAlgorithms]);
  const dpopRequired = read.has('dpopBoundAccessTokensRequired') ? read.boolean('dpopBoundAccessTokensRequired', false) : defaults.dpop?.required;
  if (dpopRequired !== undefined) document.dpop_bound_access_tokens_required = dpopRequired;
  for (const [option, member] of [
    ['resourceDocumentation', 'resource_documentation'],
    ['resourcePolicyUri', 'resource_policy_uri'],
    ['resourceTosUri', 'resource_tos_uri'],
  ] as const) {
    const value = linkOption(read, option);
    if (value !== undefined) document[member] = value;
  }

  const certificateBound = read.boolean('tlsClientCertificateBoundAccessTokens', defaults.certificateBoundTokensRequired === true);
  if (certificateBound) document.tls_client_certificate_bound_access_tokens = true;

  const url = new URL(resource);
  const path = `${PROTECTED_RESOURCE_WELL_KNOWN}${url.pathname === '/' ? '' : url.pathname}`;
  return Object.freeze({ document: Object.freeze(document) as unknown as ProtectedResourceMetadataDocument, url: `${url.origin}${path}`, path });
}

/** `resource`, checked: an https (or loopback http) URL in canonical form, without userinfo, query or fragment. */
function resourceIdentifier(read: OptionReader<ProtectedResourceMetadataOptions>): string {
  const value = read.raw('resource');
  const shown = typeof value === 'string' ? `, got ${JSON.stringify(value.slice(0, 200))}` : '';
  if (!isHttpUrl(value)) read.fail('resource', `must be an absolute https URL${shown}`);
  const url = new URL(value);
  if (url.protocol === 'http:' && !isLoopback(url)) read.fail('resource', `must be an https URL (plain http only on loopback)${shown}`);
  if (value.includes('#')) read.fail('resource', `must have no fragment (RFC 9728 section 1.2)${shown}`);
  if (value.includes('?')) read.fail('resource', `must have no query (RFC 8707 section 2: the metadata is found by path)${shown}`);
  if (url.username !== '' || url.password !== '') read.fail('resource', 'must have no user information');
  // Clients compare the identifier as a string (RFC 9728 section 3.3): one spelling only.
  const canonical = url.pathname === '/' && !value.endsWith('/') ? url.href.slice(0, -1) : url.href;
  if (value !== canonical) read.fail('resource', `must be written in canonical form, ${JSON.stringify(canonical)}${shown}`);
  return value;
}

/** An optional link for people: an absolute http(s) URL. */
function linkOption(read: OptionReader<ProtectedResourceMetadataOptions>, name: 'resourceDocumentation' | 'resourcePolicyUri' | 'resourceTosUri'): string | undefined {
  const value = read.raw(name);
  if (value === undefined) return undefined;
  if (!isHttpUrl(value)) read.fail(name, `must be an absolute http(s) URL${typeof value === 'string' ? `, got ${JSON.stringify(value.slice(0, 200))}` : ''}`);
  return value;
}

/**
 * Why `value` cannot be an authorization server's issuer identifier (RFC 8414 section 2: an https
 * URL without query or fragment; plain http only on loopback), or `undefined` when it can.
 */
export function issuerProblem(value: string): string | undefined {
  const shown = JSON.stringify(value.slice(0, 200));
  if (!isHttpUrl(value)) return `must be an issuer identifier, an absolute https URL, got ${shown}`;
  const url = new URL(value);
  if (url.protocol === 'http:' && !isLoopback(url)) return `must be an https URL (plain http only on loopback), got ${shown}`;
  if (value.includes('?') || value.includes('#')) return `must have no query or fragment (RFC 8414 section 2), got ${shown}`;
  if (url.username !== '' || url.password !== '') return 'must have no user information';
  return undefined;
}

/**
 * Why `value` cannot be the `resource_metadata` URL of a challenge (an https URL, plain http only
 * on loopback, no fragment, header-safe as is), or `undefined` when it can.
 */
export function resourceMetadataUrlProblem(value: unknown): string | undefined {
  const shown = typeof value === 'string' ? `, got ${JSON.stringify(value.slice(0, 200))}` : '';
  if (!isHttpUrl(value)) return `must be the absolute https URL of the protected resource metadata${shown}`;
  const url = new URL(value);
  if (url.protocol === 'http:' && !isLoopback(url)) return `must be an https URL (plain http only on loopback)${shown}`;
  if (value.includes('#')) return `must have no fragment${shown}`;
  if (quotable(value) !== value || value.includes(' ')) return `must be printable ASCII without spaces, quotes or backslashes (percent-encode them)${shown}`;
  return undefined;
}
