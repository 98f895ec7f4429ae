/**
 * `clientCredentials()`: a token provider for the OAuth 2.0 client credentials grant (RFC 6749
 * section 4.4) that caches per (endpoint, client, audience, scope, resource), refreshes ahead of
 * expiry in the background, makes one request for any number of concurrent callers (and, with a
 * shared cache that can lock, for any number of processes), retries transient failures with
 * bounded backoff, and latches failures so bad credentials never hammer the authorization server.
 */
import { isHttpUrl } from '../lib/urls.js';
import { unknownOptionMessage } from '../lib/unknown-options.js';
import { InsecureMetadataError, MetadataDiscovery } from '../discovery/index.js';
import { UpstreamError } from '../lib/http.js';
import { MemoryTokenCache } from '../caches/memory-token-cache.js';
import type { CachedToken, SharedTokenFailure, TokenCache } from '../caches/token-cache.js';
import { createAuthenticatedFetch } from './authenticated-fetch.js';
import {
  createClientAuthenticator,
  importClientPrivateKey,
  type ClientAuthenticator,
  type ClientAuthMethod,
  type ClientPrivateKey,
} from './client-authentication.js';
import { tokenCacheKey } from './token-cache-key.js';
import { requestToken } from './token-endpoint-request.js';
import { effectiveMargin, isCachedToken, isUsable, refreshPoint, tokenExpiry } from './token-lifetime.js';
import { TokenRequestError, type TokenRequestErrorCode } from './token-request-error.js';
import type { GetTokenOptions, OutboundEvent, OutboundEventSubject, TokenProvider, TokenSet } from './types.js';

/**
 * Options of {@link clientCredentials}. Durations are in milliseconds.
 *
 * @example
 * ```ts
 * import { clientCredentials, type ClientCredentialsOptions } from 'express-m2m';
 *
 * const options: ClientCredentialsOptions = {
 *   issuerBaseURL: 'https://auth.example.com/', // or tokenEndpoint
 *   clientId: 'orders-service',
 *   clientSecret: process.env.ORDERS_CLIENT_SECRET ?? 'placeholder',
 *   audience: 'https://billing.example.com',
 *   scope: ['invoices:read'],
 *   deadlineDuration: 5000, // a request handler waits at most 5 s for a token
 *   onEvent: (event) => console.log(event.type),
 * };
 * const billing = clientCredentials(options);
 * ```
 */
export interface ClientCredentialsOptions {
  /** Token endpoint URL. Give this or `issuerBaseURL`. */
  tokenEndpoint?: string;
  /** Issuer URL whose metadata (OIDC discovery, then RFC 8414) names the `token_endpoint`. Give this or `tokenEndpoint`. */
  issuerBaseURL?: string;
  /** The client's `client_id`. Required. */
  clientId: string;
  /** The client secret, for `client_secret_basic` and `client_secret_post`. */
  clientSecret?: string;
  /** Private key for `private_key_jwt`: PKCS#8 PEM, private JWK or `KeyObject`. */
  privateKey?: ClientPrivateKey;
  /** JWS algorithm of the client assertion. Default: the JWK's `alg`, else RS256 / ES256 / ES384 / ES512 / EdDSA by key type. */
  privateKeyAlg?: string;
  /** `kid` header of the client assertion. Default none. */
  privateKeyKid?: string;
  /**
   * Client authentication. Default `client_secret_basic` with a `clientSecret` (every server must
   * support it, RFC 6749 section 2.3.1) and `private_key_jwt` with a `privateKey`.
   */
  authMethod?: ClientAuthMethod;
  /** `audience` parameter (Auth0 and others). Default none. */
  audience?: string;
  /** Scopes to ask for (`scope`, space-separated on the wire). Default none. */
  scope?: string | string[];
  /** RFC 8707 `resource` indicator(s). Default none. */
  resource?: string | string[];
  /** More body parameters (e.g. `organization`). They are part of the cache key. Default none. */
  extraParams?: Record<string, string>;
  /** Body encoding: `form` (RFC 6749) or `json` (accepted by Auth0). Default `form`. */
  bodyFormat?: 'form' | 'json';
  /**
   * Where tokens are kept. Default: a private {@link MemoryTokenCache}. Pass one instance to several
   * providers to share tokens in a process, or `redisTokenCache()` from `express-m2m/redis` to share
   * them between processes.
   */
  cache?: TokenCache;
  /**
   * A token is never handed out when it expires within this margin (capped at a quarter of the
   * token's lifetime for short-lived tokens). Default 60000 (60 s).
   */
  expiryMargin?: number;
  /**
   * Where in a token's usable life (from issue to `expiry - margin`) the background refresh starts:
   * a random point between the two fractions. Default `[0.75, 0.9]`.
   */
  refreshWindow?: readonly [number, number];
  /** Lifetime assumed when the response has no `expires_in` and the token is not a JWT with `exp`. Default 300000 (5 min). */
  defaultLifetime?: number;
  /** Timeout of one token request (connect, answer and body). Default 10000. */
  timeoutDuration?: number;
  /** Retries after a transient failure (5xx, 429, timeout, network, garbage). Default 2. */
  maxRetries?: number;
  /** First retry delay; doubles on each retry, with jitter. Default 250. */
  retryBaseDelay?: number;
  /** Longest retry delay; a 429 whose `Retry-After` is longer fails at once (and is latched). Default 5000. */
  retryMaxDelay?: number;
  /**
   * After a failure, callers get that error without a new request for this long; it doubles with
   * each consecutive failure up to 5 minutes, and is never shorter than a `Retry-After`. Default 5000.
   */
  failureCooldownDuration?: number;
  /**
   * Shortest lifetime of the cross-process lock of a shared cache (Redis). The lock always lives at
   * least its holder's worst case, `timeoutDuration x (maxRetries + 1) + retryMaxDelay x maxRetries`
   * (+ `2 x timeoutDuration` for discovery with `issuerBaseURL`) + 1 s: 41 s with the defaults, so a
   * slow endpoint never makes the waiting processes fetch too. Waiting processes keep competing for
   * the lock; a lock that outlives twice its lifetime (not one of ours) is ignored. Default: that worst case.
   */
  lockDuration?: number;
  /**
   * Longest a caller of `getToken()`, `getTokenSet()` or `fetch` waits for a token. Past it the
   * caller gets `ERR_TOKEN_TIMEOUT`; the request in flight goes on and its token serves later callers.
   * Default: the worst case of one token request with its retries,
   * `timeoutDuration x (maxRetries + 1) + retryMaxDelay x maxRetries` (+ `2 x timeoutDuration` for
   * discovery) + 1 s: 41 s with the defaults. Lower it for request handlers (e.g. 5000).
   */
  deadlineDuration?: number;
  /** How long the shared cache is left alone after it failed (the provider uses its own memory meanwhile). Default 10000. */
  cacheRetryDuration?: number;
  /** Receives {@link OutboundEvent}s (never secrets or tokens). */
  onEvent?: (event: OutboundEvent) => void;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
  /** Waits between retries and lock polls, for tests. Default `setTimeout`. */
  sleep?: (ms: number) => Promise<void>;
  /** Random source in [0, 1) for jitter, for tests. Default `Math.random`. */
  random?: () => number;
}

const MAX_FAILURE_COOLDOWN = 300_000;
const LOCK_POLL_INTERVAL = 50;
/** Time a lock holder may need beyond its token requests (cache reads and writes). */
const LOCK_SLACK = 1000;
const KNOWN_CODES: ReadonlySet<string> = new Set<TokenRequestErrorCode>([
  'ERR_TOKEN_REJECTED', 'ERR_TOKEN_RATE_LIMITED', 'ERR_TOKEN_ENDPOINT_FAILED', 'ERR_TOKEN_TIMEOUT',
  'ERR_TOKEN_ENDPOINT_UNREACHABLE', 'ERR_TOKEN_RESPONSE_INVALID', 'ERR_TOKEN_DISCOVERY_FAILED', 'ERR_TOKEN_ENDPOINT_INSECURE',
]);
const ASSERTION_LIFETIME_SECONDS = 60;

type EventWithoutSubject = OutboundEvent extends infer E ? (E extends OutboundEvent ? Omit<E, keyof OutboundEventSubject> : never) : never;

/** Raised inside the provider when the shared cache fails; never escapes. */
class CacheFailure extends Error {}

interface Mode {
  /** A refresh ahead of expiry while the token at hand is still usable. */
  background: boolean;
  /** A token that must not be returned (it is being replaced, or the downstream refused it). */
  avoid: string | undefined;
  /** `avoid` was refused by a downstream or by `forceRefresh`: do not serve it stale either. */
  rejected: boolean;
}

/** Every option `clientCredentials` takes; the type keeps this list complete. */
const CLIENT_CREDENTIALS_OPTION_NAMES: Readonly<Record<keyof ClientCredentialsOptions, true>> = {
  tokenEndpoint: true, issuerBaseURL: true, clientId: true, clientSecret: true, privateKey: true,
  privateKeyAlg: true, privateKeyKid: true, authMethod: true, audience: true, scope: true, resource: true,
  extraParams: true, bodyFormat: true, cache: true, expiryMargin: true, refreshWindow: true,
  defaultLifetime: true, timeoutDuration: true, maxRetries: true, retryBaseDelay: true, retryMaxDelay: true,
  failureCooldownDuration: true, lockDuration: true, deadlineDuration: true, cacheRetryDuration: true,
  onEvent: true, now: true, sleep: true, random: true,
};

function fail(message: string): never {
  throw new TypeError(`clientCredentials: ${message}`);
}

function checkUrl(name: string, value: unknown): string {
  if (!isHttpUrl(value)) {
    fail(`"${name}" must be an absolute http(s) URL`);
  }
  return value;
}

function checkDuration(name: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    fail(`"${name}" must be a ${allowZero ? 'non-negative' : 'positive'} number of milliseconds`);
  }
  return value;
}

function stringList(name: string, value: unknown): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? value.split(' ').filter(Boolean) : value;
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string' && item !== '')) {
    fail(`"${name}" must be a string or an array of non-empty strings`);
  }
  return [...new Set(list as string[])];
}

/** A timer that does not keep the process alive (a provider's waits never should). */
function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function closedError(): TokenRequestError {
  return new TokenRequestError('the token provider is closed', { code: 'ERR_TOKEN_PROVIDER_CLOSED' });
}

/** The provider behind {@link clientCredentials}. */
class ClientCredentialsProvider implements TokenProvider {
  private readonly subject: OutboundEventSubject;
  private readonly key: string;
  private readonly params: Record<string, string | string[]>;
  private readonly authenticate: ClientAuthenticator;
  private readonly discovery: MetadataDiscovery | undefined;
  private readonly tokenEndpoint: string | undefined;
  private readonly bodyFormat: 'form' | 'json';
  private readonly cache: TokenCache;
  private readonly expiryMargin: number;
  private readonly refreshWindow: readonly [number, number];
  private readonly defaultLifetime: number;
  private readonly timeoutDuration: number;
  private readonly maxRetries: number;
  private readonly retryBaseDelay: number;
  private readonly retryMaxDelay: number;
  private readonly failureCooldownDuration: number;
  private readonly lockDuration: number;
  private readonly deadlineDuration: number;
  private readonly cacheRetryDuration: number;
  private readonly onEvent: ((event: OutboundEvent) => void) | undefined;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  private current: { token: CachedToken; refreshAt: number } | undefined;
  private inFlight: Promise<CachedToken> | undefined;
  private latch: { error: TokenRequestError; until: number } | undefined;
  private consecutiveFailures = 0;
  private cacheDownUntil: number | undefined;
  private closed = false;
  /** Aborted by close(): ends retry delays, lock polls and token requests at once. */
  private readonly closing = new AbortController();
  /** The last token obtained to replace one a downstream refused, and when (see {@link replaceRefused}). */
  private lastReplacement: { accessToken: string; at: number } | undefined;

  readonly fetch: TokenProvider['fetch'];

  constructor(options: ClientCredentialsOptions) {
    if (typeof options !== 'object' || options === null) fail('options must be an object');
    const unknown = unknownOptionMessage(options, CLIENT_CREDENTIALS_OPTION_NAMES);
    if (unknown !== undefined) fail(unknown);
    const { clientId, clientSecret, privateKey } = options;
    if (typeof clientId !== 'string' || clientId === '') fail('"clientId" must be a non-empty string');
    if ((options.tokenEndpoint === undefined) === (options.issuerBaseURL === undefined)) {
      fail('give exactly one of "tokenEndpoint" and "issuerBaseURL"');
    }
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.timeoutDuration = checkDuration('timeoutDuration', options.timeoutDuration, 10_000);
    if (options.tokenEndpoint !== undefined) {
      this.tokenEndpoint = checkUrl('tokenEndpoint', options.tokenEndpoint);
    } else {
      checkUrl('issuerBaseURL', options.issuerBaseURL);
      this.discovery = new MetadataDiscovery(options.issuerBaseURL as string, { timeoutDuration: this.timeoutDuration, now: this.now });
    }
    const endpoint = (options.tokenEndpoint ?? options.issuerBaseURL) as string;

    if (clientSecret !== undefined && (typeof clientSecret !== 'string' || clientSecret === '')) {
      fail('"clientSecret" must be a non-empty string');
    }
    if (clientSecret !== undefined && privateKey !== undefined) fail('give "clientSecret" or "privateKey", not both');
    const authMethod = options.authMethod ?? (privateKey !== undefined ? 'private_key_jwt' : 'client_secret_basic');
    if (!['client_secret_basic', 'client_secret_post', 'private_key_jwt'].includes(authMethod)) {
      fail('"authMethod" must be "client_secret_basic", "client_secret_post" or "private_key_jwt"');
    }
    if (authMethod === 'private_key_jwt' && privateKey === undefined) fail('"privateKey" is required for private_key_jwt');
    if (authMethod !== 'private_key_jwt' && clientSecret === undefined) fail(`"clientSecret" is required for ${authMethod}`);
    if (options.privateKeyKid !== undefined && typeof options.privateKeyKid !== 'string') fail('"privateKeyKid" must be a string');
    this.authenticate = createClientAuthenticator({
      method: authMethod,
      clientId,
      clientSecret,
      privateKey: privateKey === undefined ? undefined : importClientPrivateKey(privateKey, options.privateKeyAlg),
      privateKeyKid: options.privateKeyKid,
      assertionLifetime: ASSERTION_LIFETIME_SECONDS,
      now: this.now,
    });

    const { audience } = options;
    if (audience !== undefined && (typeof audience !== 'string' || audience === '')) fail('"audience" must be a non-empty string');
    const scopes = stringList('scope', options.scope);
    const resources = stringList('resource', options.resource);
    for (const resource of resources) {
      if (!URL.canParse(resource)) fail('"resource" must be absolute URIs (RFC 8707)');
    }
    const extraParams = options.extraParams ?? {};
    if (typeof extraParams !== 'object' || extraParams === null
      || !Object.values(extraParams).every((value) => typeof value === 'string')) {
      fail('"extraParams" must be an object of string values');
    }
    const reserved = ['grant_type', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type', 'audience', 'scope', 'resource'];
    for (const name of Object.keys(extraParams)) {
      if (reserved.includes(name)) fail(`"extraParams" must not set "${name}" (use its own option)`);
    }
    this.bodyFormat = options.bodyFormat ?? 'form';
    if (this.bodyFormat !== 'form' && this.bodyFormat !== 'json') fail('"bodyFormat" must be "form" or "json"');

    this.params = { grant_type: 'client_credentials', ...extraParams };
    if (audience !== undefined) this.params.audience = audience;
    if (scopes.length > 0) this.params.scope = scopes.join(' ');
    if (resources.length > 0) this.params.resource = resources;

    this.subject = { clientId, audience, endpoint };
    this.key = tokenCacheKey({ endpoint, clientId, audience, scopes, resources, extraParams });

    if (options.cache !== undefined && (typeof options.cache !== 'object' || typeof options.cache.get !== 'function'
      || typeof options.cache.set !== 'function' || typeof options.cache.delete !== 'function')) {
      fail('"cache" must be a TokenCache (get, set, delete)');
    }
    this.cache = options.cache ?? new MemoryTokenCache({ maxEntries: 16, now: this.now });
    this.expiryMargin = checkDuration('expiryMargin', options.expiryMargin, 60_000, true);
    const window = options.refreshWindow ?? [0.75, 0.9];
    if (!Array.isArray(window) || window.length !== 2 || !(window[0] >= 0 && window[0] <= window[1] && window[1] <= 1)) {
      fail('"refreshWindow" must be [from, to] with 0 <= from <= to <= 1');
    }
    this.refreshWindow = [window[0], window[1]];
    this.defaultLifetime = checkDuration('defaultLifetime', options.defaultLifetime, 300_000);
    const maxRetries = options.maxRetries ?? 2;
    if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 10) fail('"maxRetries" must be an integer from 0 to 10');
    this.maxRetries = maxRetries;
    this.retryBaseDelay = checkDuration('retryBaseDelay', options.retryBaseDelay, 250, true);
    this.retryMaxDelay = checkDuration('retryMaxDelay', options.retryMaxDelay, 5000, true);
    this.failureCooldownDuration = checkDuration('failureCooldownDuration', options.failureCooldownDuration, 5000, true);
    const holderWorstCase = this.timeoutDuration * (this.maxRetries + 1) + this.retryMaxDelay * this.maxRetries
      + (this.discovery === undefined ? 0 : 2 * this.timeoutDuration) + LOCK_SLACK;
    this.lockDuration = Math.max(checkDuration('lockDuration', options.lockDuration, holderWorstCase), holderWorstCase);
    this.deadlineDuration = checkDuration('deadlineDuration', options.deadlineDuration, holderWorstCase);
    this.cacheRetryDuration = checkDuration('cacheRetryDuration', options.cacheRetryDuration, 10_000, true);
    if (options.onEvent !== undefined && typeof options.onEvent !== 'function') fail('"onEvent" must be a function');
    this.onEvent = options.onEvent;

    this.fetch = createAuthenticatedFetch(
      () => this.resolve(false, undefined).then((token) => token.accessToken),
      (rejected) => this.replaceRefused(rejected),
      (url, retried) => this.emit({ type: 'token.rejected_downstream', url, retried }),
    );
  }

  async getToken(options: GetTokenOptions = {}): Promise<string> {
    return (await this.getTokenSet(options)).accessToken;
  }

  async getTokenSet(options: GetTokenOptions = {}): Promise<TokenSet> {
    const token = await this.resolve(options.forceRefresh === true, undefined);
    return { ...token };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.current = undefined;
    this.closing.abort();
  }

  /** Waits `ms` (through the `sleep` seam), or rejects with ERR_TOKEN_PROVIDER_CLOSED as soon as the provider closes. */
  private pause(ms: number): Promise<void> {
    const signal = this.closing.signal;
    if (signal.aborted) return Promise.reject(closedError());
    return new Promise<void>((resolve, reject) => {
      const onClose = () => reject(closedError());
      signal.addEventListener('abort', onClose, { once: true });
      this.sleep(ms).then(
        () => {
          signal.removeEventListener('abort', onClose);
          resolve();
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onClose);
          reject(error);
        },
      );
    });
  }

  /**
   * A new token for one a downstream refused (`fetch` on 401 invalid_token), or undefined when the
   * refused token is itself a replacement obtained this way less than `failureCooldownDuration`
   * ago: a downstream that refuses every token then costs one token request per cooldown, not one
   * per call, and `fetch` returns its 401 as is.
   */
  private async replaceRefused(rejected: string): Promise<string | undefined> {
    const last = this.lastReplacement;
    if (last !== undefined && last.accessToken === rejected && this.now() < last.at + this.failureCooldownDuration) {
      return undefined;
    }
    const token = await this.resolve(true, rejected);
    if (token.accessToken === rejected) return undefined;
    if (this.lastReplacement === undefined || this.lastReplacement.accessToken !== token.accessToken) {
      this.lastReplacement = { accessToken: token.accessToken, at: this.now() };
    }
    return token.accessToken;
  }

  /** The hot path: the token at hand when usable (starting a background refresh when due), else one obtained now. */
  private resolve(force: boolean, rejected: string | undefined): Promise<CachedToken> {
    if (this.closed) {
      return Promise.reject(closedError());
    }
    const now = this.now();
    const current = this.current;
    if (current !== undefined && isUsable(current.token, now, this.expiryMargin)) {
      const refused = force && (rejected === undefined || rejected === current.token.accessToken);
      if (!refused) {
        if (now >= current.refreshAt) this.refreshInBackground();
        return Promise.resolve(current.token);
      }
      return this.withDeadline(this.singleFlight({ background: false, avoid: current.token.accessToken, rejected: true }));
    }
    return this.withDeadline(this.singleFlight({ background: false, avoid: force ? rejected : undefined, rejected: force }));
  }

  /** The caller's view of a flight: it waits at most `deadlineDuration` (the flight itself goes on). */
  private withDeadline(flight: Promise<CachedToken>): Promise<CachedToken> {
    return new Promise<CachedToken>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TokenRequestError(
        `no token from ${this.subject.endpoint} within deadlineDuration ${this.deadlineDuration} ms (the request goes on; later callers get its token)`,
        { code: 'ERR_TOKEN_TIMEOUT', tokenEndpoint: this.subject.endpoint },
      )), this.deadlineDuration);
      timer.unref();
      flight.then(
        (token) => {
          clearTimeout(timer);
          resolve(token);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  private singleFlight(mode: Mode): Promise<CachedToken> {
    if (this.inFlight === undefined) {
      const flight = this.obtain(mode).finally(() => {
        if (this.inFlight === flight) this.inFlight = undefined;
      });
      flight.catch(() => undefined); // a background refresh may have no one waiting on it
      this.inFlight = flight;
      return flight;
    }
    if (!mode.rejected || mode.avoid === undefined) return this.inFlight;
    // Joining a flight started for another reason (e.g. a background refresh that serves the
    // current token stale when it fails): never hand back the token this caller refused.
    const refused = mode.avoid;
    return this.inFlight.then((token) => {
      if (token.accessToken !== refused) return token;
      throw this.latch?.error ?? new TokenRequestError('no replacement for the refused token could be obtained', {
        code: 'ERR_TOKEN_RESPONSE_INVALID',
        tokenEndpoint: this.subject.endpoint,
      });
    });
  }

  private refreshInBackground(): void {
    if (this.inFlight !== undefined) return;
    if (this.latch !== undefined && this.now() < this.latch.until) return;
    const current = this.current?.token;
    if (current !== undefined) this.emit({ type: 'token.refresh_started', expiresAt: current.expiresAt });
    this.singleFlight({ background: true, avoid: current?.accessToken, rejected: false });
  }

  /** Obtains a token (shared cache, then endpoint) with the failure latch and stale serving around it. */
  private async obtain(mode: Mode): Promise<CachedToken> {
    const latch = this.latch;
    if (latch !== undefined && this.now() < latch.until) {
      const stale = this.servable(mode);
      if (stale !== undefined) return stale;
      throw latch.error;
    }
    try {
      const token = await this.obtainShared(mode);
      this.consecutiveFailures = 0;
      this.latch = undefined;
      return token;
    } catch (caught) {
      const error = caught instanceof TokenRequestError ? caught
        : new TokenRequestError('getting a token failed', { code: 'ERR_TOKEN_RESPONSE_INVALID', tokenEndpoint: this.subject.endpoint, cause: caught });
      if (error.code === 'ERR_TOKEN_PROVIDER_CLOSED') throw error;
      this.consecutiveFailures += 1;
      const cooldown = this.cooldownFor(error, this.consecutiveFailures);
      this.latch = { error, until: this.now() + cooldown };
      this.emit({ type: 'token.failed', error, background: mode.background, cooldown });
      const stale = this.servable(mode);
      if (stale !== undefined) {
        this.emit({ type: 'token.served_stale', expiresAt: stale.expiresAt, error });
        return stale;
      }
      throw error;
    }
  }

  /** How long a failure is latched: the failure cooldown doubled per consecutive failure (5 min at most), never less than `Retry-After`. */
  private cooldownFor(error: TokenRequestError, consecutiveFailures: number): number {
    const backoff = Math.min(this.failureCooldownDuration * 2 ** (consecutiveFailures - 1), MAX_FAILURE_COOLDOWN);
    return Math.max(error.retryAfter ?? 0, backoff);
  }

  /** Shares this process's failure with the others waiting on the lock (code, status, OAuth error; nothing secret). */
  private async shareFailure(caught: unknown): Promise<void> {
    const cache = this.cache;
    if (!(caught instanceof TokenRequestError) || caught.code === 'ERR_TOKEN_PROVIDER_CLOSED' || cache.setFailure === undefined) return;
    const cooldown = this.cooldownFor(caught, this.consecutiveFailures + 1);
    if (!(cooldown > 0)) return;
    const failure: SharedTokenFailure = { code: caught.code, until: this.now() + cooldown };
    if (caught.status !== undefined) failure.status = caught.status;
    if (caught.error !== undefined) failure.error = caught.error;
    try {
      await this.cacheCall(() => (cache.setFailure as NonNullable<TokenCache['setFailure']>).call(cache, this.key, failure, cooldown));
    } catch (error) {
      this.cacheFailed(error);
    }
  }

  /** Throws the failure another process shared, while it lasts. */
  private async throwSharedFailure(): Promise<void> {
    const cache = this.cache;
    if (cache.getFailure === undefined) return;
    const failure = await this.cacheCall(() => (cache.getFailure as NonNullable<TokenCache['getFailure']>).call(cache, this.key));
    if (failure === undefined) return;
    const remaining = failure.until - this.now();
    if (!(remaining > 0)) return;
    const code = (KNOWN_CODES.has(failure.code) ? failure.code : 'ERR_TOKEN_ENDPOINT_FAILED') as TokenRequestErrorCode;
    const status = typeof failure.status === 'number' ? ` HTTP ${failure.status}` : '';
    const error = typeof failure.error === 'string' ? ` ${failure.error}` : '';
    throw new TokenRequestError(`token endpoint ${this.subject.endpoint} failed for another process (${code}${status}${error}); not retried for ${Math.ceil(remaining)} ms`, {
      code,
      status: failure.status,
      error: failure.error,
      retryAfter: remaining,
      tokenEndpoint: this.subject.endpoint,
    });
  }

  /** The token at hand if it may still be given to callers in this mode. */
  private servable(mode: Mode): CachedToken | undefined {
    const token = this.current?.token;
    if (token === undefined || !isUsable(token, this.now(), this.expiryMargin)) return undefined;
    if (mode.rejected && token.accessToken === mode.avoid) return undefined;
    return token;
  }

  private cacheAvailable(): boolean {
    return this.cacheDownUntil === undefined || this.now() >= this.cacheDownUntil;
  }

  private async cacheCall<T>(operation: () => Promise<T>): Promise<T> {
    try {
      const result = await operation();
      if (this.cacheDownUntil !== undefined) {
        this.cacheDownUntil = undefined;
        this.emit({ type: 'cache.recovered' });
      }
      return result;
    } catch (error) {
      throw new CacheFailure('token cache failed', { cause: error });
    }
  }

  private cacheFailed(failure: unknown): void {
    const error = failure instanceof CacheFailure && failure.cause instanceof Error ? failure.cause
      : failure instanceof Error ? failure : new Error(String(failure));
    const wasDown = this.cacheDownUntil !== undefined;
    this.cacheDownUntil = this.now() + this.cacheRetryDuration;
    if (!wasDown) this.emit({ type: 'cache.fallback', error });
  }

  /** With a working shared cache: read it, else take its lock and fetch, else wait for the lock holder's token. */
  private async obtainShared(mode: Mode): Promise<CachedToken> {
    if (!this.cacheAvailable()) return this.fetchAndStore(mode, false);
    const cache = this.cache;
    try {
      const shared = await this.readShared(mode);
      if (shared !== undefined) return shared;
      if (cache.lock === undefined) return await this.fetchAndStore(mode, true);
      await this.throwSharedFailure();
      // The lock lives the holder's worst case, so waiters keep competing for it rather than fetch
      // without it. Only a lock that outlives twice that (not one of ours) is given up on; bounded
      // by a count of polls too (a frozen test clock must not wait forever).
      const giveUpAt = this.now() + 2 * this.lockDuration;
      const maxPolls = Math.ceil((2 * this.lockDuration) / (LOCK_POLL_INTERVAL / 2));
      for (let polls = 1; ; polls += 1) {
        const lock = await this.cacheCall(() => (cache.lock as NonNullable<TokenCache['lock']>).call(cache, this.key, this.lockDuration));
        if (lock !== undefined) {
          try {
            const again = await this.readShared(mode);
            if (again !== undefined) return again;
            await this.throwSharedFailure();
            try {
              return await this.fetchAndStore(mode, true);
            } catch (error) {
              await this.shareFailure(error); // before the lock is released, so the next holder sees it
              throw error;
            }
          } finally {
            await lock.release().catch((error: unknown) => this.cacheFailed(error));
          }
        }
        if (this.closed) throw closedError();
        await this.pause(LOCK_POLL_INTERVAL / 2 + this.random() * LOCK_POLL_INTERVAL);
        const waited = await this.readShared(mode);
        if (waited !== undefined) return waited;
        await this.throwSharedFailure();
        if (this.now() >= giveUpAt || polls >= maxPolls) return await this.fetchAndStore(mode, true);
      }
    } catch (error) {
      if (!(error instanceof CacheFailure)) throw error;
      this.cacheFailed(error);
      return this.fetchAndStore(mode, false);
    }
  }

  /** A usable token from the shared cache that this mode may take, adopted as the current one. */
  private async readShared(mode: Mode): Promise<CachedToken | undefined> {
    const cache = this.cache;
    const entry = await this.cacheCall(() => cache.get(this.key));
    if (!isCachedToken(entry) || !isUsable(entry, this.now(), this.expiryMargin)) return undefined;
    if (entry.accessToken === mode.avoid) return undefined;
    if (this.current !== undefined && entry.accessToken === this.current.token.accessToken) return undefined;
    this.adopt(entry);
    this.emit({ type: 'token.cache_hit', expiresAt: entry.expiresAt });
    return entry;
  }

  private adopt(token: CachedToken): void {
    this.current = { token, refreshAt: refreshPoint(token, this.expiryMargin, this.refreshWindow, this.random) };
  }

  /** Fetches from the endpoint, makes it the current token and stores it in the cache. */
  private async fetchAndStore(mode: Mode, useCache: boolean): Promise<CachedToken> {
    const { token, attempts } = await this.fetchWithRetry();
    const replaced = this.current !== undefined && isUsable(this.current.token, this.now(), this.expiryMargin);
    this.adopt(token);
    this.emit(replaced || mode.background
      ? { type: 'token.refreshed', expiresAt: token.expiresAt, attempts, background: mode.background }
      : { type: 'token.fetched', expiresAt: token.expiresAt, attempts });
    if (useCache || this.cacheAvailable()) {
      const ttl = token.expiresAt - effectiveMargin(token, this.expiryMargin) - this.now();
      if (ttl > 0) {
        try {
          await this.cacheCall(() => this.cache.set(this.key, token, Math.floor(ttl)));
        } catch (error) {
          this.cacheFailed(error);
        }
      }
    }
    return token;
  }

  private async fetchWithRetry(): Promise<{ token: CachedToken; attempts: number }> {
    for (let attempt = 1; ; attempt += 1) {
      if (this.closed) throw closedError();
      try {
        return { token: await this.fetchOnce(), attempts: attempt };
      } catch (caught) {
        if (!(caught instanceof TokenRequestError) || !caught.retryable || attempt > this.maxRetries) throw caught;
        const exponential = Math.min(this.retryMaxDelay, this.retryBaseDelay * 2 ** (attempt - 1));
        let delay = exponential / 2 + this.random() * (exponential / 2);
        if (caught.retryAfter !== undefined) {
          if (caught.retryAfter > this.retryMaxDelay) throw caught;
          delay = caught.retryAfter;
        }
        this.emit({ type: 'token.retry', error: caught, attempt, delay });
        await this.pause(delay);
      }
    }
  }

  private async fetchOnce(): Promise<CachedToken> {
    const tokenEndpoint = await this.resolveTokenEndpoint();
    const authentication = await this.authenticate(tokenEndpoint);
    const response = await requestToken({
      tokenEndpoint,
      params: { ...this.params, ...authentication.params },
      headers: authentication.headers,
      bodyFormat: this.bodyFormat,
      timeoutDuration: this.timeoutDuration,
      now: this.now,
      closeSignal: this.closing.signal,
    });
    const obtainedAt = this.now();
    const expiresAt = tokenExpiry(response, obtainedAt, this.defaultLifetime);
    const token: CachedToken = { accessToken: response.accessToken, tokenType: response.tokenType, expiresAt, obtainedAt };
    if (response.scope !== undefined) token.scope = response.scope;
    if (!isUsable(token, obtainedAt, this.expiryMargin)) {
      throw new TokenRequestError(`token endpoint ${tokenEndpoint} issued a token that is already expired (check the clocks)`, {
        code: 'ERR_TOKEN_RESPONSE_INVALID',
        tokenEndpoint,
      });
    }
    return token;
  }

  private async resolveTokenEndpoint(): Promise<string> {
    if (this.tokenEndpoint !== undefined) return this.tokenEndpoint;
    const discovery = this.discovery as MetadataDiscovery;
    try {
      const metadata = await discovery.get();
      if (typeof metadata.token_endpoint !== 'string') {
        throw new TokenRequestError(`issuer ${discovery.issuerBaseURL} names no "token_endpoint" in its metadata`, {
          code: 'ERR_TOKEN_DISCOVERY_FAILED',
          tokenEndpoint: discovery.issuerBaseURL,
        });
      }
      return metadata.token_endpoint;
    } catch (error) {
      if (error instanceof TokenRequestError) throw error;
      // Discovery refuses endpoints that are not http(s) or downgrade an https issuer to http.
      if (error instanceof InsecureMetadataError) {
        throw new TokenRequestError(`issuer ${discovery.issuerBaseURL}: ${error.message}`, {
          code: 'ERR_TOKEN_ENDPOINT_INSECURE',
          tokenEndpoint: discovery.issuerBaseURL,
          cause: error,
        });
      }
      throw new TokenRequestError(`discovery of ${discovery.issuerBaseURL} failed: ${error instanceof Error ? error.message : String(error)}`, {
        code: 'ERR_TOKEN_DISCOVERY_FAILED',
        status: error instanceof UpstreamError ? error.status : undefined,
        tokenEndpoint: discovery.issuerBaseURL,
        cause: error,
      });
    }
  }

  private emit(event: EventWithoutSubject): void {
    if (this.onEvent === undefined) return;
    try {
      this.onEvent({ ...this.subject, ...event } as OutboundEvent);
    } catch {
      // a failing listener must not break token handling
    }
  }
}

/**
 * Creates a client-credentials token provider (RFC 6749 section 4.4).
 *
 * - Tokens are cached per (endpoint, client, audience, scope, resource) until the sooner of
 *   `expires_in` and the JWT's `exp` (5 minutes when neither is known), never handed out within
 *   `expiryMargin` (60 s) of expiry, and refreshed in the background at a random point between 75 %
 *   and 90 % of their usable life, so callers do not wait.
 * - Any number of concurrent callers cause one request; with a shared cache that locks (Redis),
 *   any number of processes do.
 * - Transient failures are retried (2 retries, backoff from 250 ms to 5 s with jitter, `Retry-After`
 *   honoured); every failure is latched for a cooldown (5 s, doubling); while the cached token is
 *   valid callers keep getting it.
 *
 * @example
 * ```ts
 * import { clientCredentials } from 'express-m2m';
 *
 * const billing = clientCredentials({
 *   tokenEndpoint: 'https://auth.example.com/oauth/token',
 *   clientId: 'orders-service',
 *   clientSecret: process.env.ORDERS_CLIENT_SECRET ?? 'placeholder',
 *   audience: 'https://billing.example.com',
 *   scope: ['invoices:read'],
 * });
 * const response = await billing.fetch('https://billing.example.com/invoices');
 * ```
 */
export function clientCredentials(options: ClientCredentialsOptions): TokenProvider {
  return new ClientCredentialsProvider(options);
}
