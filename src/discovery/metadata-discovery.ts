/**
 * `MetadataDiscovery`: an issuer's metadata (OpenID Connect Discovery 1.0 and RFC 8414), fetched
 * once and cached, shared by the inbound side (`issuer`, `jwks_uri`) and the outbound side
 * (`token_endpoint`).
 */
import { isHttpUrl } from '../lib/urls.js';
import { doublingCooldown, Refreshable, type Loaded } from '../lib/refreshable.js';
import { OptionReader, type KnownOptions } from '../options/option-reader.js';
import { fetchJsonObject, UpstreamError } from '../transport/fetch-json.js';
import { platformFetch, type FetchLike } from '../transport/fetch-like.js';
import { discoveryUrls, validateMetadata, type AuthorizationServerMetadata } from './metadata.js';

/**
 * Options of {@link MetadataDiscovery}.
 *
 * @example
 * ```ts
 * import { MetadataDiscovery, type DiscoveryOptions } from 'express-m2m/extend';
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
  /**
   * After a failed fetch, callers get that failure without a new request for a while: 1 s after
   * the first failure, doubling per consecutive failure up to this, in milliseconds. Default 5000.
   */
  failureCooldownDuration?: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
  /** The transport of the metadata requests. Default: the global `fetch`. */
  fetch?: FetchLike;
}

/** Defaults of {@link DiscoveryOptions}, in milliseconds. */
export const DISCOVERY_DEFAULTS = Object.freeze({
  timeoutDuration: 5000,
  cacheMaxAge: 3_600_000,
  maxStale: 86_400_000,
  failureCooldownDuration: 5000,
});

const DISCOVERY_OPTION_NAMES: KnownOptions<DiscoveryOptions> = {
  timeoutDuration: true, cacheMaxAge: true, maxStale: true, failureCooldownDuration: true, now: true, fetch: true,
};

/**
 * Fetches and caches an issuer's metadata: one request in flight at a time (concurrent callers
 * share it), the last good document served stale through outages for a bounded time, and a
 * failure remembered for a short cooldown so a burst of requests cannot become a burst of fetches.
 *
 * @example
 * ```ts
 * import { MetadataDiscovery } from 'express-m2m/extend';
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
  private readonly now: () => number;
  private readonly transport: FetchLike;
  private readonly metadata: Refreshable<AuthorizationServerMetadata>;

  constructor(issuerBaseURL: string, options: DiscoveryOptions = {}) {
    if (!isHttpUrl(issuerBaseURL)) {
      throw new TypeError(`issuerBaseURL must be an absolute http(s) URL, got ${JSON.stringify(issuerBaseURL)}`);
    }
    const read = new OptionReader<DiscoveryOptions>(options, DISCOVERY_OPTION_NAMES, { caller: 'MetadataDiscovery' });
    this.issuerBaseURL = issuerBaseURL;
    this.timeoutDuration = read.duration('timeoutDuration', DISCOVERY_DEFAULTS.timeoutDuration);
    this.cacheMaxAge = read.duration('cacheMaxAge', DISCOVERY_DEFAULTS.cacheMaxAge);
    this.maxStale = read.duration('maxStale', DISCOVERY_DEFAULTS.maxStale, { zero: true });
    const failureCooldown = read.duration('failureCooldownDuration', DISCOVERY_DEFAULTS.failureCooldownDuration, { zero: true });
    this.now = read.func<() => number>('now', 'a function returning milliseconds') ?? Date.now;
    this.transport = read.func<FetchLike>('fetch', 'a fetch function') ?? platformFetch;
    this.metadata = new Refreshable({
      load: () => this.fetchMetadata(),
      now: this.now,
      cooldown: doublingCooldown(Math.min(1000, failureCooldown), failureCooldown),
    });
  }

  /** The issuer's metadata, from the cache when it is fresh (or stale during an outage). Throws {@link UpstreamError}. */
  async get(): Promise<AuthorizationServerMetadata> {
    return (await this.metadata.read(this.now(), undefined)).value;
  }

  /** Milliseconds until the next fetch may start, while a failed one holds fetches off; else `undefined`. */
  retryIn(): number | undefined {
    const now = this.now();
    const retryAt = this.metadata.coolingDownUntil(now);
    return retryAt === undefined ? undefined : retryAt - now;
  }

  private async fetchMetadata(): Promise<Loaded<AuthorizationServerMetadata>> {
    let metadata: AuthorizationServerMetadata;
    try {
      metadata = await this.fetchFirstAvailable();
    } catch (error) {
      throw error instanceof UpstreamError ? error : new UpstreamError(String(error));
    }
    const at = this.now();
    const expiresAt = at + this.cacheMaxAge;
    return { value: metadata, refreshAt: expiresAt, expiresAt, staleUntil: expiresAt + this.maxStale };
  }

  private async fetchFirstAvailable(): Promise<AuthorizationServerMetadata> {
    let lastError: unknown;
    for (const url of discoveryUrls(this.issuerBaseURL)) {
      try {
        const { body } = await fetchJsonObject(this.transport, url, this.timeoutDuration);
        return validateMetadata(this.issuerBaseURL, url, body);
      } catch (error) {
        lastError = error;
        // Only a 404 means "try the other well-known location"; anything else is an outage.
        if (!(error instanceof UpstreamError && error.status === 404)) break;
      }
    }
    throw lastError;
  }
}
