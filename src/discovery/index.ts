/**
 * Authorization server metadata discovery (OpenID Connect Discovery 1.0 and RFC 8414), shared by
 * the inbound side (`issuer`, `jwks_uri`) and the outbound side (`token_endpoint`).
 */
import { isHttpUrl } from '../lib/urls.js';
import { fetchJsonObject, UpstreamError } from '../lib/http.js';

/**
 * The metadata fields express-m2m reads; the rest of the document is kept as-is.
 *
 * @example
 * ```ts
 * import { MetadataDiscovery, type AuthorizationServerMetadata } from 'express-m2m';
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
  [field: string]: unknown;
}

/**
 * Options of {@link MetadataDiscovery}.
 *
 * @example
 * ```ts
 * import { MetadataDiscovery, type DiscoveryOptions } from 'express-m2m';
 *
 * const options: DiscoveryOptions = { timeoutDuration: 2000, cacheMaxAge: 10 * 60_000, maxStale: 60 * 60_000 };
 * const discovery = new MetadataDiscovery('https://issuer.example/', options);
 * ```
 */
export interface DiscoveryOptions {
  /** Timeout of one metadata request, in milliseconds. Default 5000. */
  timeoutDuration?: number;
  /** How long fetched metadata is used before it is fetched again, in milliseconds. Default 1 hour. */
  cacheMaxAge?: number;
  /**
   * How long past `cacheMaxAge` the last good metadata keeps being used while the endpoint
   * fails, in milliseconds. Default 24 hours.
   */
  maxStale?: number;
  /** After a failed fetch, callers get that failure without a new request for this long, in milliseconds. Default 5000. */
  failureCooldownDuration?: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

function trimSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/**
 * The metadata URLs to try for an issuer, in order: OIDC first, then RFC 8414.
 *
 * @example
 * ```ts
 * import { discoveryUrls } from 'express-m2m';
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
 * Checked here, once, for the inbound (`jwks_uri`) and outbound (`token_endpoint`) sides alike.
 *
 * @example
 * ```ts
 * import { InsecureMetadataError, MetadataDiscovery } from 'express-m2m';
 *
 * await new MetadataDiscovery('https://issuer.example.com/').get().catch((error) => {
 *   if (error instanceof InsecureMetadataError) console.error(error.message);
 * });
 * ```
 */
export class InsecureMetadataError extends UpstreamError {
  constructor(message: string) {
    super(message);
    this.name = 'InsecureMetadataError';
  }
}

/**
 * Fetches and caches an issuer's metadata: one request in flight at a time (concurrent callers
 * share it), the last good document served through outages for a bounded time, and a failure
 * remembered for a short cooldown so a burst of requests cannot become a burst of fetches.
 *
 * @example
 * ```ts
 * import { MetadataDiscovery } from 'express-m2m';
 *
 * const discovery = new MetadataDiscovery('https://issuer.example/');
 * const { issuer, jwks_uri, token_endpoint } = await discovery.get(); // fetched once, then cached
 * await discovery.get(); // no request: served from the cache for cacheMaxAge
 * ```
 */
export class MetadataDiscovery {
  readonly issuerBaseURL: string;
  private readonly timeoutDuration: number;
  private readonly cacheMaxAge: number;
  private readonly maxStale: number;
  /** After a failed fetch, how long callers get that failure without a new request, in milliseconds. */
  readonly failureCooldownDuration: number;
  private readonly now: () => number;
  private cached: { metadata: AuthorizationServerMetadata; fetchedAt: number } | undefined;
  private failure: { error: UpstreamError; at: number } | undefined;
  private inFlight: Promise<AuthorizationServerMetadata> | undefined;

  constructor(issuerBaseURL: string, options: DiscoveryOptions = {}) {
    if (!isHttpUrl(issuerBaseURL)) {
      throw new TypeError(`issuerBaseURL must be an absolute http(s) URL, got ${JSON.stringify(issuerBaseURL)}`);
    }
    this.issuerBaseURL = issuerBaseURL;
    this.timeoutDuration = options.timeoutDuration ?? 5000;
    this.cacheMaxAge = options.cacheMaxAge ?? 3_600_000;
    this.maxStale = options.maxStale ?? 86_400_000;
    this.failureCooldownDuration = options.failureCooldownDuration ?? 5000;
    this.now = options.now ?? Date.now;
  }

  /** The issuer's metadata, from the cache when it is fresh. Throws {@link UpstreamError}. */
  get(): Promise<AuthorizationServerMetadata> {
    const now = this.now();
    const cached = this.cached;
    if (cached && now - cached.fetchedAt < this.cacheMaxAge) return Promise.resolve(cached.metadata);
    if (this.failure && now - this.failure.at < this.failureCooldownDuration) {
      if (cached && now - cached.fetchedAt < this.cacheMaxAge + this.maxStale) return Promise.resolve(cached.metadata);
      return Promise.reject(this.failure.error);
    }
    this.inFlight ??= this.fetchMetadata().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchMetadata(): Promise<AuthorizationServerMetadata> {
    try {
      const metadata = await this.fetchFirstAvailable();
      this.cached = { metadata, fetchedAt: this.now() };
      this.failure = undefined;
      return metadata;
    } catch (error) {
      const upstream = error instanceof UpstreamError ? error : new UpstreamError(String(error));
      this.failure = { error: upstream, at: this.now() };
      const cached = this.cached;
      if (cached && this.now() - cached.fetchedAt < this.cacheMaxAge + this.maxStale) return cached.metadata;
      throw upstream;
    }
  }

  private async fetchFirstAvailable(): Promise<AuthorizationServerMetadata> {
    let lastError: unknown;
    for (const url of discoveryUrls(this.issuerBaseURL)) {
      try {
        const { body } = await fetchJsonObject(url, this.timeoutDuration);
        return this.validate(url, body);
      } catch (error) {
        lastError = error;
        // Only a 404 means "try the other well-known location"; anything else is an outage.
        if (!(error instanceof UpstreamError && error.status === 404)) break;
      }
    }
    throw lastError;
  }

  private validate(url: string, body: Record<string, unknown>): AuthorizationServerMetadata {
    const { issuer, jwks_uri: jwksUri, token_endpoint: tokenEndpoint } = body;
    if (typeof issuer !== 'string' || issuer === '') {
      throw new UpstreamError(`${url} has no "issuer" in its metadata`);
    }
    if (!this.issuerBaseURL.includes('/.well-known/') && trimSlash(issuer) !== trimSlash(this.issuerBaseURL)) {
      throw new UpstreamError(`${url} names issuer ${JSON.stringify(issuer)}, not ${JSON.stringify(this.issuerBaseURL)}`);
    }
    const httpsIssuer = new URL(this.issuerBaseURL).protocol === 'https:';
    for (const [name, value] of [['jwks_uri', jwksUri], ['token_endpoint', tokenEndpoint]] as const) {
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
}
