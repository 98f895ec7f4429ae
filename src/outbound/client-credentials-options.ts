/**
 * Internal: the one place where `clientCredentials`'s options are described, validated and
 * defaulted (also for the providers `outboundAuth` builds, whose messages name the service).
 */
import type { TokenCache } from '../caches/token-cache.js';
import {
  DISCOVERY_TUNING_NAMES, MetadataDiscovery, resolveDiscoveryTuning, type DiscoveryTuning,
} from '../discovery/metadata-discovery.js';
import { OptionReader, type KnownOptions, type OptionReaderContext } from '../options/option-reader.js';
import { readClientTls, type ClientCertificateTransport, type ClientTlsOptions } from '../transport/client-certificate-transport.js';
import { platformFetch, type FetchLike } from '../transport/fetch-like.js';
import type { ClientAuthenticator, ClientAuthMethod } from './client-auth/client-authenticator.js';
import type { ClientPrivateKey } from './client-auth/private-key-jwt.js';
import { readClientAuthentication } from './client-auth/read-client-authentication.js';
import { readDpop, type DpopOptions, type ResolvedDpop } from './dpop/dpop-options.js';
import type { TokenEndpointLocation } from './grant/client-credentials-grant.js';
import { defaultSleep } from './provider-lifecycle.js';
import { integrityKey } from './shared/entry-integrity.js';
import { tokenCacheKey, type TokenIdentity } from './shared/token-cache-key.js';
import type { OutboundEvent, OutboundEventSubject } from './types.js';

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
  /** How the metadata found from `issuerBaseURL` is cached and retried (its requests take `timeoutDuration`). */
  discovery?: DiscoveryTuning;
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
   * The X.509 certificate of `privateKey` (PEM): its SHA-256 and SHA-1 thumbprints go into the
   * client assertion's `x5t#S256` and `x5t` headers (RFC 7515), which Microsoft Entra ID uses to
   * find a certificate credential. Default none.
   */
  privateKeyCertificate?: string;
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
  /**
   * The transport of discovery, token requests and `provider.fetch()` (a proxy, a pinned CA, a
   * client certificate): any function with the signature of `fetch`. Default: the global `fetch`.
   */
  fetch?: FetchLike;
  /**
   * Mutual TLS (RFC 8705): the client certificate every request of this provider presents
   * (discovery, token requests, `provider.fetch()`), from PEM text or files (reloaded when they
   * change). With `authMethod: 'tls_client_auth'` or `'self_signed_tls_client_auth'` (the default
   * when neither `clientSecret` nor `privateKey` is given) it authenticates the client; whatever the
   * method, the tokens the server binds to it (`cnf["x5t#S256"]`) are cached per certificate, and
   * with `issuerBaseURL` the metadata's `mtls_endpoint_aliases.token_endpoint` is used when present.
   * Replaces `fetch` (give one or the other). Needs the package `undici`. Default none.
   */
  tls?: ClientTlsOptions;
  /**
   * Allow a plain-http `tokenEndpoint` or `issuerBaseURL` (and, with `outboundAuth`, `baseUrl`) that
   * is not a loopback address: the client secret and the tokens would cross the network in clear.
   * For test networks only. Default `false`; loopback http is always allowed.
   */
  allowInsecureHttp?: boolean;
  /**
   * DPoP (RFC 9449): tokens bound to a key, with a new proof on every token request and every
   * `provider.fetch()` (`Authorization: DPoP`). `true` generates an ES256 key at start-up; see
   * {@link DpopOptions} for a given key, another algorithm and the Bearer downgrade. The key's
   * thumbprint is part of the cache key: providers with different keys never share a token.
   * Default: off (Bearer).
   */
  dpop?: boolean | DpopOptions;
}

/**
 * Defaults of {@link ClientCredentialsOptions} (milliseconds; `lockDuration` and
 * `deadlineDuration` default to the holder's worst case, see there).
 */
export const CLIENT_CREDENTIALS_DEFAULTS: Readonly<Required<Pick<ClientCredentialsOptions,
  'expiryMargin' | 'refreshWindow' | 'defaultLifetime' | 'timeoutDuration' | 'maxRetries' | 'retryBaseDelay'
  | 'retryMaxDelay' | 'failureCooldownDuration' | 'cacheRetryDuration'>>> = Object.freeze({
  expiryMargin: 60_000,
  refreshWindow: Object.freeze([0.75, 0.9] as const),
  defaultLifetime: 300_000,
  timeoutDuration: 10_000,
  maxRetries: 2,
  retryBaseDelay: 250,
  retryMaxDelay: 5000,
  failureCooldownDuration: 5000,
  cacheRetryDuration: 10_000,
});

/** Every option `clientCredentials` takes; the type keeps this list complete. */
export const CLIENT_CREDENTIALS_OPTION_NAMES: KnownOptions<ClientCredentialsOptions> = {
  tokenEndpoint: true, issuerBaseURL: true, clientId: true, clientSecret: true, privateKey: true,
  privateKeyAlg: true, privateKeyKid: true, privateKeyCertificate: true, authMethod: true, audience: true, scope: true, resource: true,
  extraParams: true, bodyFormat: true, cache: true, expiryMargin: true, refreshWindow: true,
  defaultLifetime: true, timeoutDuration: true, maxRetries: true, retryBaseDelay: true, retryMaxDelay: true,
  failureCooldownDuration: true, lockDuration: true, deadlineDuration: true, cacheRetryDuration: true,
  onEvent: true, now: true, sleep: true, random: true, fetch: true, allowInsecureHttp: true, discovery: true,
  tls: true,
  dpop: true,
};

/** Parameters the grant sets itself: `extraParams` must not override them. */
const RESERVED_PARAMS = ['grant_type', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type', 'audience', 'scope', 'resource'];
/** Time a lock holder may need beyond its token requests (cache reads and writes). */
const LOCK_SLACK = 1000;

/** Everything a provider is built from. */
export interface ResolvedClientCredentials {
  subject: OutboundEventSubject;
  location: TokenEndpointLocation;
  authenticate: ClientAuthenticator;
  params: Readonly<Record<string, string | string[]>>;
  bodyFormat: 'form' | 'json';
  /** The given cache, or `undefined` for a private memory cache. */
  cache: TokenCache | undefined;
  /** The cache key of this provider's tokens. */
  key: string;
  /** What the key is made from (a certificate-bound provider adds the certificate's thumbprint per certificate). */
  identity: TokenIdentity;
  /** The client certificate of mutual TLS (the `tls` option), if any. */
  tls: ClientCertificateTransport | undefined;
  /** The client authenticates with that certificate (its key is then the shared cache's integrity key). */
  certificateAuthentication: boolean;
  /** The MAC key of the shared cache entries, derived from the client's credentials. */
  integrityKey: Buffer;
  expiryMargin: number;
  refreshWindow: readonly [number, number];
  defaultLifetime: number;
  timeoutDuration: number;
  maxRetries: number;
  retryBaseDelay: number;
  retryMaxDelay: number;
  failureCooldownDuration: number;
  lockDuration: number;
  deadlineDuration: number;
  cacheRetryDuration: number;
  onEvent: ((event: OutboundEvent) => void) | undefined;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  fetch: FetchLike;
  /** DPoP's key and rules, when `dpop` is on. */
  dpop: ResolvedDpop | undefined;
}

function isTokenCache(value: unknown): value is TokenCache {
  const cache = value as TokenCache | null;
  return typeof cache === 'object' && cache !== null && typeof cache.get === 'function'
    && typeof cache.set === 'function' && typeof cache.delete === 'function';
}

/** Reads and validates `options`. Throws a `TypeError` naming the option (and `context.caller`). */
export function resolveClientCredentials(
  options: ClientCredentialsOptions,
  context: OptionReaderContext = { caller: 'clientCredentials' },
): ResolvedClientCredentials {
  const read: OptionReader<ClientCredentialsOptions> = new OptionReader(options, CLIENT_CREDENTIALS_OPTION_NAMES, context);
  const d = CLIENT_CREDENTIALS_DEFAULTS;
  if (options === undefined) read.failWith('the options must be an object');
  const clientId = read.string('clientId');
  if (clientId === undefined) read.fail('clientId', 'must be a non-empty string');
  if (read.has('tokenEndpoint') === read.has('issuerBaseURL')) read.failWith('give exactly one of "tokenEndpoint" and "issuerBaseURL"');
  const now = read.func<() => number>('now', 'a function returning milliseconds') ?? Date.now;
  const tls = readClientTls(read, now);
  if (tls !== undefined && read.has('fetch')) read.fail('fetch', 'cannot be given with "tls" (the client certificate makes the transport)');
  const fetch = tls?.fetch ?? read.func<FetchLike>('fetch', 'a function with the signature of fetch') ?? platformFetch;
  const timeoutDuration = read.duration('timeoutDuration', d.timeoutDuration);
  const allowInsecure = read.boolean('allowInsecureHttp', false);
  const tokenEndpoint = read.httpUrl('tokenEndpoint', allowInsecure);
  const issuerBaseURL = read.httpUrl('issuerBaseURL', allowInsecure);
  if (read.has('discovery') && issuerBaseURL === undefined) read.fail('discovery', 'options apply only with "issuerBaseURL"');
  const discovery = resolveDiscoveryTuning(read.nested('discovery', DISCOVERY_TUNING_NAMES));
  const location: TokenEndpointLocation = tokenEndpoint !== undefined
    ? { tokenEndpoint }
    : { discovery: new MetadataDiscovery(issuerBaseURL as string, { ...discovery, timeoutDuration, now, fetch }) };

  const { authenticate, credential } = readClientAuthentication(read, clientId, now, tls?.current.privateKey);
  const audience = read.string('audience');
  const scopes = read.stringList('scope', { string: 'split' }) ?? [];
  const resources = read.stringList('resource', { string: 'split' }) ?? [];
  if (!resources.every((resource) => URL.canParse(resource))) read.fail('resource', 'must be absolute URIs (RFC 8707)');
  const extraParams = read.raw('extraParams') ?? {};
  if (typeof extraParams !== 'object' || extraParams === null || Array.isArray(extraParams)
    || !Object.values(extraParams).every((value) => typeof value === 'string')) {
    read.fail('extraParams', 'must be an object of string values');
  }
  for (const name of Object.keys(extraParams)) {
    if (RESERVED_PARAMS.includes(name)) read.fail('extraParams', `must not set "${name}" (use its own option)`);
  }
  const params: Record<string, string | string[]> = { grant_type: 'client_credentials', ...(extraParams as Record<string, string>) };
  if (audience !== undefined) params.audience = audience;
  if (scopes.length > 0) params.scope = scopes.join(' ');
  if (resources.length > 0) params.resource = resources;
  const endpoint = (tokenEndpoint ?? issuerBaseURL) as string;
  const dpop = readDpop(read);
  const identity: TokenIdentity = {
    endpoint, clientId, audience, scopes, resources, extraParams: extraParams as Record<string, string>,
    // A provider that takes Bearer tokens in place of DPoP ones must not hand them to one that does not.
    confirmation: dpop === undefined ? undefined : { jkt: dpop.key.jkt, ...(dpop.allowBearerDowngrade ? { bearer: 'allowed' } : {}) },
  };

  const cache = read.raw('cache');
  if (cache !== undefined && !isTokenCache(cache)) read.fail('cache', 'must be a TokenCache (get, set, delete)');
  const window = read.raw('refreshWindow') ?? d.refreshWindow;
  if (!Array.isArray(window) || window.length !== 2 || !(window[0] >= 0 && window[0] <= window[1] && window[1] <= 1)) {
    read.fail('refreshWindow', 'must be [from, to] with 0 <= from <= to <= 1');
  }
  const maxRetries = read.integer('maxRetries', d.maxRetries, { min: 0, max: 10 });
  const retryMaxDelay = read.duration('retryMaxDelay', d.retryMaxDelay, { zero: true });
  // The worst case of one token request with its retries (and discovery): what the lock and a caller's wait default to.
  const holderWorstCase = timeoutDuration * (maxRetries + 1) + retryMaxDelay * maxRetries
    + (tokenEndpoint === undefined ? 2 * timeoutDuration : 0) + LOCK_SLACK;
  return {
    subject: { clientId, audience, endpoint },
    location,
    authenticate,
    params,
    bodyFormat: read.oneOf('bodyFormat', ['form', 'json'], 'form'),
    cache,
    key: tokenCacheKey(identity),
    identity,
    tls,
    certificateAuthentication: tls !== undefined && credential === tls.current.privateKey,
    integrityKey: integrityKey(credential),
    expiryMargin: read.duration('expiryMargin', d.expiryMargin, { zero: true }),
    refreshWindow: [window[0] as number, window[1] as number],
    defaultLifetime: read.duration('defaultLifetime', d.defaultLifetime),
    timeoutDuration,
    maxRetries,
    retryBaseDelay: read.duration('retryBaseDelay', d.retryBaseDelay, { zero: true }),
    retryMaxDelay,
    failureCooldownDuration: read.duration('failureCooldownDuration', d.failureCooldownDuration, { zero: true }),
    lockDuration: Math.max(read.duration('lockDuration', holderWorstCase), holderWorstCase),
    deadlineDuration: read.duration('deadlineDuration', holderWorstCase),
    cacheRetryDuration: read.duration('cacheRetryDuration', d.cacheRetryDuration, { zero: true }),
    onEvent: read.func<(event: OutboundEvent) => void>('onEvent'),
    now,
    sleep: read.func<(ms: number) => Promise<void>>('sleep') ?? defaultSleep,
    random: read.func<() => number>('random') ?? Math.random,
    fetch,
    dpop,
  };
}
