/**
 * `clientCredentials()`: a token provider for the OAuth 2.0 client credentials grant (RFC 6749
 * section 4.4), composed from the layers of the outbound chain (see `token-source.ts`): the grant,
 * retries, the shared cache with its lock, and reuse in memory; tokens are presented on
 * downstream requests by the Bearer presenter, or the DPoP presenter (with `dpop`, whose proofs
 * also go on token requests), through one transport.
 */
import { MemoryTokenCache } from '../caches/memory-token-cache.js';
import type { OptionReaderContext } from '../options/option-reader.js';
import { resolveClientCredentials, type ClientCredentialsOptions, type ResolvedClientCredentials } from './client-credentials-options.js';
import { DpopNonces } from './dpop/dpop-nonces.js';
import { DpopProofSigner } from './dpop/dpop-proof.js';
import { dpopTokenRequest } from './dpop/dpop-token-request.js';
import { createAuthenticatedFetch } from './fetch/authenticated-fetch.js';
import { ClientCredentialsGrant } from './grant/client-credentials-grant.js';
import { certificateBoundProvider, withCertificate } from './mtls/certificate-bound-provider.js';
import { bearerPresenter } from './presenters/bearer-presenter.js';
import { dpopPresenter } from './presenters/dpop-presenter.js';
import { ProviderLifecycle } from './provider-lifecycle.js';
import { RetryingSource } from './retry/retrying-source.js';
import { failureCooldown, ReusingTokenSource } from './reuse/reusing-source.js';
import { SharedCacheSource } from './shared/shared-cache-source.js';
import { healthError, secondsUntil, type TokenProviderHealth } from '../observability/health.js';
import type { ClientCredentialsProvider, GetTokenOptions, OutboundEvent, OutboundEventBody, TokenSet } from './types.js';

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
export function clientCredentials(options: ClientCredentialsOptions): ClientCredentialsProvider {
  return buildTokenProvider(options);
}

/** Internal: the provider, with option errors named as `context` says (outboundAuth names the service). */
export function buildTokenProvider(options: ClientCredentialsOptions, context?: OptionReaderContext): ClientCredentialsProvider {
  const resolved = resolveClientCredentials(options, context);
  const { tls } = resolved;
  if (tls === undefined) return composeProvider(resolved);
  return certificateBoundProvider(tls, (generation) => composeProvider(withCertificate(resolved, generation)));
}

/** The layers of the outbound chain, from resolved options. */
function composeProvider(resolved: ResolvedClientCredentials): ClientCredentialsProvider {
  const { subject, now, random, onEvent } = resolved;
  const emit = (event: OutboundEventBody): void => {
    if (onEvent === undefined) return;
    try {
      onEvent({ ...subject, ...event } as OutboundEvent);
    } catch {
      // a failing listener must not break token handling
    }
  };
  const lifecycle = new ProviderLifecycle(resolved.sleep);
  const { assertOpen, pause } = lifecycle;
  const { dpop } = resolved;
  // DPoP: one signer per key; the nonces of the authorization server and of resource servers apart.
  const signer = dpop === undefined ? undefined : new DpopProofSigner(dpop.key, now);
  const presenter = signer === undefined ? bearerPresenter : dpopPresenter(signer, new DpopNonces());

  const grant = new ClientCredentialsGrant({
    location: resolved.location,
    authenticate: resolved.authenticate,
    params: resolved.params,
    bodyFormat: resolved.bodyFormat,
    timeoutDuration: resolved.timeoutDuration,
    defaultLifetime: resolved.defaultLifetime,
    expiryMargin: resolved.expiryMargin,
    tokenTypes: presenter.tokenTypes,
    fetch: resolved.fetch,
    now,
    closeSignal: lifecycle.signal,
    mtlsEndpointAliases: resolved.tls !== undefined,
    binding: signer === undefined ? undefined : dpopTokenRequest(signer, new DpopNonces(), dpop!.allowBearerDowngrade),
  });
  const retrying = new RetryingSource(grant, {
    maxRetries: resolved.maxRetries,
    retryBaseDelay: resolved.retryBaseDelay,
    retryMaxDelay: resolved.retryMaxDelay,
    random,
    pause,
    assertOpen,
    emit,
  });
  const shared = new SharedCacheSource(retrying, {
    cache: resolved.cache ?? new MemoryTokenCache({ maxEntries: 16, now }),
    key: resolved.key,
    integrityKey: resolved.integrityKey,
    audience: subject.audience,
    endpoint: subject.endpoint,
    lockDuration: resolved.lockDuration,
    cacheRetryDuration: resolved.cacheRetryDuration,
    expiryMargin: resolved.expiryMargin,
    cooldownFor: (error, count) => failureCooldown(resolved.failureCooldownDuration, error, count),
    now,
    random,
    pause,
    assertOpen,
    emit,
  });
  const tokens = new ReusingTokenSource(shared, {
    expiryMargin: resolved.expiryMargin,
    refreshWindow: resolved.refreshWindow,
    failureCooldownDuration: resolved.failureCooldownDuration,
    deadlineDuration: resolved.deadlineDuration,
    endpoint: subject.endpoint,
    now,
    random,
    lifecycle,
    emit,
  });

  return {
    ...(dpop === undefined ? {} : { dpop: Object.freeze({ alg: dpop.key.alg, jkt: dpop.key.jkt, publicJwk: dpop.key.publicJwk }) }),
    async getToken(getOptions: GetTokenOptions = {}): Promise<string> {
      return (await tokens.get(getOptions.forceRefresh === true, undefined)).accessToken;
    },
    async getTokenSet(getOptions: GetTokenOptions = {}): Promise<TokenSet> {
      return { ...(await tokens.get(getOptions.forceRefresh === true, undefined)) };
    },
    fetch: createAuthenticatedFetch({
      token: () => tokens.get(false, undefined),
      replace: (refused) => tokens.replace(refused),
      presenter,
      fetch: resolved.fetch,
      onRefused: (url, retried) => emit({ type: 'token.rejected_downstream', url, retried }),
    }),
    async close(): Promise<void> {
      lifecycle.close();
      tokens.drop();
    },
    health(): TokenProviderHealth {
      const at = now();
      const held = tokens.health(at);
      const fallback = shared.fallbackUntil(at);
      const latched = held.latchedUntil !== undefined;
      const expiresInSeconds = held.usableUntil === undefined ? undefined : Math.max(0, Math.floor((held.usableUntil - at) / 1000));
      const retryInSeconds = secondsUntil(held.latchedUntil, at);
      const status = !held.tokenPresent && latched ? 'down' : held.failure !== undefined || fallback !== undefined ? 'degraded' : 'ok';
      return {
        status,
        clientId: subject.clientId,
        audience: subject.audience,
        endpoint: subject.endpoint,
        tokenPresent: held.tokenPresent,
        ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
        refreshing: held.refreshing,
        ...(held.failure === undefined ? {} : { lastError: healthError(held.failure.error, held.failure.at, at) }),
        latched,
        ...(retryInSeconds === undefined ? {} : { retryInSeconds }),
        sharedCache: resolved.cache === undefined ? 'memory' : fallback === undefined ? 'ok' : 'fallback',
      };
    },
  };
}
