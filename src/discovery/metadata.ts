/**
 * Internal: what an authorization server's metadata document is (OpenID Connect Discovery 1.0,
 * RFC 8414), where it is found, and which of its endpoints may be used.
 */
import { isHttpUrl } from '../lib/urls.js';
import { UpstreamError } from '../transport/fetch-json.js';

/**
 * The metadata fields express-m2m reads; the rest of the document is kept as-is.
 *
 * @example
 * ```ts
 * import { MetadataDiscovery, type AuthorizationServerMetadata } from 'express-m2m/extend';
 *
 * const metadata: AuthorizationServerMetadata = await new MetadataDiscovery('https://issuer.example/').get();
 * console.log(metadata.issuer, metadata.jwks_uri, metadata.token_endpoint);
 * ```
 */
export interface AuthorizationServerMetadata {
  issuer: string;
  jwks_uri?: string;
  token_endpoint?: string;
  token_endpoint_auth_methods_supported?: string[];
  /** The RFC 7662 token introspection endpoint (RFC 8414 section 2). */
  introspection_endpoint?: string;
  /** RFC 8705 section 5: the endpoints to use with mutual TLS, when they differ (their `token_endpoint` is checked as the other endpoints). */
  mtls_endpoint_aliases?: {
    /** The token endpoint to use with mutual TLS. */
    token_endpoint?: string;
    [endpoint: string]: unknown;
  };
  [field: string]: unknown;
}

function trimSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/**
 * The metadata URLs to try for an issuer, in order: OIDC first, then RFC 8414.
 *
 * @example
 * ```ts
 * import { discoveryUrls } from 'express-m2m/extend';
 *
 * discoveryUrls('https://issuer.example/tenant');
 * // ['https://issuer.example/tenant/.well-known/openid-configuration',
 * //  'https://issuer.example/.well-known/oauth-authorization-server/tenant']
 * ```
 */
export function discoveryUrls(issuerBaseURL: string): string[] {
  if (issuerBaseURL.includes('/.well-known/')) return [issuerBaseURL];
  const base = new URL(issuerBaseURL);
  const path = trimSlash(base.pathname);
  return [
    `${base.origin}${path}/.well-known/openid-configuration`,
    `${base.origin}/.well-known/oauth-authorization-server${path}`,
  ];
}

/**
 * Metadata naming an endpoint that must not be used: not an http(s) URL, or plain http from an
 * https issuer (a JWKS fetched in clear could be swapped; a client secret sent in clear stolen).
 * Checked here, once, for the inbound (`jwks_uri`, `introspection_endpoint`) and outbound
 * (`token_endpoint`) sides alike.
 *
 * @example
 * ```ts
 * import { InsecureMetadataError, MetadataDiscovery } from 'express-m2m/extend';
 *
 * await new MetadataDiscovery('https://issuer.example.com/').get().catch((error) => {
 *   if (error instanceof InsecureMetadataError) console.error(error.message);
 * });
 * ```
 */
export class InsecureMetadataError extends UpstreamError {
  constructor(message: string) {
    super(message, undefined, undefined, true);
    this.name = 'InsecureMetadataError';
  }
}


/**
 * Checks a metadata document fetched from `url` for `issuerBaseURL` (RFC 8414 section 3.3: the
 * `issuer` must be the one asked for) and the endpoints express-m2m uses (absolute http(s); https
 * when the issuer is https). Throws {@link UpstreamError} / {@link InsecureMetadataError}.
 */
export function validateMetadata(issuerBaseURL: string, url: string, body: Record<string, unknown>): AuthorizationServerMetadata {
  const { issuer, jwks_uri: jwksUri, token_endpoint: tokenEndpoint, introspection_endpoint: introspectionEndpoint } = body;
  if (typeof issuer !== 'string' || issuer === '') {
    throw new UpstreamError(`${url} has no "issuer" in its metadata`);
  }
  if (!issuerBaseURL.includes('/.well-known/') && trimSlash(issuer) !== trimSlash(issuerBaseURL)) {
    throw new UpstreamError(`${url} names issuer ${JSON.stringify(issuer)}, not ${JSON.stringify(issuerBaseURL)}`, undefined, undefined, true);
  }
  const httpsIssuer = new URL(issuerBaseURL).protocol === 'https:';
  const aliases = body.mtls_endpoint_aliases;
  if (aliases !== undefined && (typeof aliases !== 'object' || aliases === null || Array.isArray(aliases))) {
    throw new UpstreamError(`${url} has an invalid "mtls_endpoint_aliases" in its metadata`);
  }
  const mtlsTokenEndpoint = (aliases as { token_endpoint?: unknown } | undefined)?.token_endpoint;
  for (const [name, value] of [
    ['jwks_uri', jwksUri], ['token_endpoint', tokenEndpoint], ['introspection_endpoint', introspectionEndpoint],
    ['mtls_endpoint_aliases.token_endpoint', mtlsTokenEndpoint],
  ] as const) {
    if (value === undefined) continue;
    if (typeof value !== 'string' || !URL.canParse(value)) {
      throw new UpstreamError(`${url} has an invalid "${name}" in its metadata`);
    }
    const shown = JSON.stringify(value.slice(0, 200));
    if (!isHttpUrl(value)) {
      throw new InsecureMetadataError(`${url} names ${name} ${shown}, which is not an absolute http(s) URL`);
    }
    if (httpsIssuer && new URL(value).protocol !== 'https:') {
      throw new InsecureMetadataError(
        `${url} names ${name} ${shown}: refused, an https issuer's endpoints must be https (keys and client credentials would travel in clear)`,
      );
    }
  }
  return body as AuthorizationServerMetadata;
}
