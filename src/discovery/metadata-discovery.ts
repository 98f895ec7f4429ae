/**
 * `MetadataDiscovery`: an issuer's metadata (OpenID Connect Discovery 1.0 and RFC 8414), fetched
 * once and cached, shared by the inbound side (`issuer`, `jwks_uri`) and the outbound side
 * (`token_endpoint`).
 */
import { isHttpUrl } from '../lib/urls.js';
import { doublingCooldown, Refreshable, type Loaded } from '../lib/refreshable.js';
import { OptionReader, type KnownOptions } from '../options/option-reader.js';
import { freshnessLifetime } from '../transport/cache-control.js';
import { fetchJsonObject, UpstreamError } from '../transport/fetch-json.js';
import { platformFetch, type FetchLike } from '../transport/fetch-like.js';
import { discoveryUrls, validateMetadata, type AuthorizationServerMetadata } from './metadata.js';

/**
 * How an issuer's metadata is cached and retried: the `discovery` option of `requireAuth`,
 * `createVerifier` and `clientCredentials`. Durations in milliseconds.
 *
 * @example
 * ```ts
 * import { requireAuth } from 'express-m2m';
 *
 * app.use(requireAuth({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example', discovery: { cacheMaxAge: 600_000 } }));
 * ```
 */
export interface DiscoveryTuning {
  /**
   * How long fetched metadata is fresh when the response has no `Cache-Control: max-age` (a
   * response's `max-age`, minus `Age`, is followed within `minCacheMaxAge` and `maxCacheMaxAge`).
   * Default `3600000` (1 h).
   */
  cacheMaxAge?: number;
  /** Lower bound of a response's `max-age` (also for `no-cache`/`no-store`). Default `60000` (1 min). */
  minCacheMaxAge?: number;
  /** Upper bound of a response's `max-age`. Default `86400000` (24 h). */
  maxCacheMaxAge?: number;
  /**
   * How long past its freshness the last good metadata keeps being used while the endpoint
   * fails. Default `86400000` (24 h).
   */
  maxStale?: number;
  /**
   * After a failed fetch, callers get that failure without a new request for a while: 1 s after
   * the first failure, doubling per consecutive failure up to this. Default `5000`.
   */
  failureCooldownDuration?: number;
}

/**
 * Options of {@link MetadataDiscovery}: the tuning, and the timeout, clock and transport.
 *
 * @example
 * ```ts
 * import { MetadataDiscovery, type DiscoveryOptions } from 'express-m2m/extend';
 *
 * const options: DiscoveryOptions = { timeoutDuration: 2000, cacheMaxAge: 10 * 60_000, maxStale: 60 * 60_000 };
 * const discovery = new MetadataDiscovery('https://issuer.example/', options);
 * ```
 */
export interface DiscoveryOptions extends DiscoveryTuning {
  /** Timeout of one metadata request, in milliseconds. Default 5000. */
  timeoutDuration?: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
  /** The transport of the metadata requests. Default: the global `fetch`. */
  fetch?: FetchLike;
}

/** Defaults of {@link DiscoveryOptions}, in milliseconds. */
export const DISCOVERY_DEFAULTS: Readonly<Required<Omit<DiscoveryOptions, 'now' | 'fetch'>>> = Object.freeze({
  timeoutDuration: 5000,
  cacheMaxAge: 3_600_000,
  minCacheMaxAge: 60_000,
  maxCacheMaxAge: 86_400_000,
  maxStale: 86_400_000,
  failureCooldownDuration: 5000,
});

/** Every name of {@link DiscoveryTuning} (the nested `discovery` option). */
export const DISCOVERY_TUNING_NAMES: KnownOptions<DiscoveryTuning> = {
  cacheMaxAge: true, minCacheMaxAge: true, maxCacheMaxAge: true, maxStale: true, failureCooldownDuration: true,
};

const DISCOVERY_OPTION_NAMES: KnownOptions<DiscoveryOptions> = { ...DISCOVERY_TUNING_NAMES, timeoutDuration: true, now: true, fetch: true };

/** The tuning with its defaults applied. */
export type ResolvedDiscoveryTuning = Required<DiscoveryTuning>;

/** Validates the tuning read by `read` and applies the defaults (the one place for them). */
export function resolveDiscoveryTuning(read: OptionReader<DiscoveryTuning>): ResolvedDiscoveryTuning {
  const d = DISCOVERY_DEFAULTS;
  const resolved: ResolvedDiscoveryTuning = {
    cacheMaxAge: read.duration('cacheMaxAge', d.cacheMaxAge),
    minCacheMaxAge: read.duration('minCacheMaxAge', d.minCacheMaxAge, { zero: true }),
    maxCacheMaxAge: read.duration('maxCacheMaxAge', d.maxCacheMaxAge),
    maxStale: read.duration('maxStale', d.maxStale, { zero: true }),
    failureCooldownDuration: read.duration('failureCooldownDuration', d.failureCooldownDuration, { zero: true }),
  };
  if (resolved.minCacheMaxAge > resolved.maxCacheMaxAge) read.fail('minCacheMaxAge', 'must not be larger than "maxCacheMaxAge"');
  return resolved;
}

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
  private readonly tuning: ResolvedDiscoveryTuning;
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
    const tuning = resolveDiscoveryTuning(read);
    this.tuning = tuning;
    this.now = read.func<() => number>('now', 'a function returning milliseconds') ?? Date.now;
    this.transport = read.func<FetchLike>('fetch', 'a fetch function') ?? platformFetch;
    this.metadata = new Refreshable({
      load: () => this.fetchMetadata(),
      now: this.now,
      cooldown: doublingCooldown(Math.min(1000, tuning.failureCooldownDuration), tuning.failureCooldownDuration),
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
    let fetched: { metadata: AuthorizationServerMetadata; headers: Headers };
    try {
      fetched = await this.fetchFirstAvailable();
    } catch (error) {
      throw error instanceof UpstreamError ? error : new UpstreamError(String(error));
    }
    const { metadata, headers } = fetched;
    const requested = freshnessLifetime(headers.get('cache-control'), headers.get('age'));
    const { cacheMaxAge, minCacheMaxAge, maxCacheMaxAge, maxStale } = this.tuning;
    const lifetime = requested === undefined ? cacheMaxAge : Math.min(maxCacheMaxAge, Math.max(minCacheMaxAge, requested));
    const at = this.now();
    const expiresAt = at + lifetime;
    return { value: metadata, refreshAt: expiresAt, expiresAt, staleUntil: expiresAt + maxStale };
  }

  private async fetchFirstAvailable(): Promise<{ metadata: AuthorizationServerMetadata; headers: Headers }> {
    let lastError: unknown;
    for (const url of discoveryUrls(this.issuerBaseURL)) {
      try {
        const { body, headers } = await fetchJsonObject(this.transport, url, this.timeoutDuration, 'discovery');
        return { metadata: validateMetadata(this.issuerBaseURL, url, body), headers };
      } catch (error) {
        lastError = error;
        // Only a 404 means "try the other well-known location"; anything else is an outage.
        if (!(error instanceof UpstreamError && error.status === 404)) break;
      }
    }
    throw lastError;
  }
}
