/** The contract of token providers and the events they report. */
import type { TokenSet } from '../caches/token-cache.js';
import type { DpopKeyInfo } from './dpop/dpop-key.js';
import type { TokenRequestError } from './token-request-error.js';

export type { TokenSet };

/**
 * Options of {@link TokenProvider.getToken}.
 *
 * @example
 * ```ts
 * import { clientCredentials, type GetTokenOptions } from 'express-m2m';
 *
 * const provider = clientCredentials({ tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'svc', clientSecret: 'placeholder' });
 * const options: GetTokenOptions = { forceRefresh: true }; // e.g. after a downstream refused the token
 * const token = await provider.getToken(options);
 * ```
 */
export interface GetTokenOptions {
  /** Ignore the token at hand and get a new one (joins a request already in flight). Default false. */
  forceRefresh?: boolean;
}

/**
 * Gives access tokens for one client, audience, scope and resource, cached and refreshed ahead of
 * expiry; `fetch` attaches them to requests. Made by `clientCredentials()`; any object with these
 * methods can be given to `outboundAuth` as a service's `provider`.
 *
 * @example
 * ```ts
 * import { clientCredentials, type TokenProvider } from 'express-m2m';
 *
 * const provider: TokenProvider = clientCredentials({
 *   tokenEndpoint: 'https://auth.example.com/oauth/token',
 *   clientId: 'orders-service',
 *   clientSecret: 'placeholder-secret',
 * });
 * const { accessToken, expiresAt } = await provider.getTokenSet();
 * ```
 */
export interface TokenProvider {
  /** A valid access token (never one within the expiry margin of its expiry). Rejects with `TokenRequestError`. */
  getToken(options?: GetTokenOptions): Promise<string>;
  /** Like {@link getToken}, with the expiry, type and granted scope. */
  getTokenSet(options?: GetTokenOptions): Promise<TokenSet>;
  /**
   * `fetch` (through the provider's transport) with `Authorization: Bearer <token>`, or with `dpop`,
   * `Authorization: DPoP <token>` and a new proof (redirects are then returned, not followed; a
   * `use_dpop_nonce` challenge is answered once with the nonce). When the answer is 401 with
   * `WWW-Authenticate: Bearer error="invalid_token"` (or `DPoP`), it gets a new token and retries once, if the
   * request body can be sent again (not a stream). When the token refused is itself such a
   * replacement, obtained less than `failureCooldownDuration` (5 s) ago, the 401 is returned as is
   * without a token request: a downstream that refuses every token costs one token request per
   * cooldown, not one per call.
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** With the `dpop` option: the DPoP key's algorithm, public JWK and thumbprint (never the private key). */
  readonly dpop?: DpopKeyInfo;
  /** Stops the provider: later calls reject with `ERR_TOKEN_PROVIDER_CLOSED`. Closes nothing it was given. */
  close(): Promise<void>;
}

/**
 * Fields every {@link OutboundEvent} carries: which token it is about (never the secret or the token).
 *
 * @example
 * ```ts
 * import type { OutboundEvent, OutboundEventSubject } from 'express-m2m';
 *
 * const label = ({ clientId, audience, endpoint }: OutboundEventSubject) => `${clientId} -> ${audience ?? '-'} @ ${endpoint}`;
 * const onEvent = (event: OutboundEvent) => console.log(event.type, label(event));
 * ```
 */
export interface OutboundEventSubject {
  clientId: string;
  audience: string | undefined;
  /** `tokenEndpoint`, or `issuerBaseURL` when discovered. */
  endpoint: string;
}

/**
 * What a token provider reports for logs and metrics through `onEvent`:
 * - `token.fetched`: a token was obtained from the endpoint while none was usable (callers waited);
 * - `token.refresh_started`: a background refresh ahead of expiry began (callers keep the current token);
 * - `token.refreshed`: a token was obtained to replace one still usable (background or forced);
 * - `token.cache_hit`: a token another provider or process stored in the shared cache was taken;
 * - `token.retry`: a transient failure, retried after `delay` ms;
 * - `token.failed`: getting a token failed for good; no new attempt for `cooldown` ms;
 * - `token.served_stale`: a refresh failed and callers keep getting the still-valid token;
 * - `token.rejected_downstream`: `fetch` got 401 `invalid_token` and (maybe) retried with a new token;
 * - `cache.fallback`: the shared cache failed; the provider works from its own memory for a while;
 * - `cache.entry_rejected`: an entry of the shared cache was not believed and was dropped: no valid
 *   MAC (written by someone without the client's credentials), a JWT past its `exp` or for another
 *   audience (`reason`); a failure marker without a valid MAC is ignored;
 * - `cache.recovered`: the shared cache works again.
 *
 * @example
 * ```ts
 * import { clientCredentials, type OutboundEvent } from 'express-m2m';
 *
 * const log = (event: OutboundEvent) => {
 *   if (event.type === 'token.failed') console.warn(event.clientId, event.error.code, event.cooldown);
 *   if (event.type === 'cache.fallback') console.warn('token cache down:', event.error.message);
 * };
 * clientCredentials({ tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'svc', clientSecret: 'placeholder', onEvent: log });
 * ```
 */
export type OutboundEvent = OutboundEventSubject & (
  | { type: 'token.fetched'; expiresAt: number; attempts: number }
  | { type: 'token.refresh_started'; expiresAt: number }
  | { type: 'token.refreshed'; expiresAt: number; attempts: number; background: boolean }
  | { type: 'token.cache_hit'; expiresAt: number }
  | { type: 'token.retry'; error: TokenRequestError; attempt: number; delay: number }
  | { type: 'token.failed'; error: TokenRequestError; background: boolean; cooldown: number }
  | { type: 'token.served_stale'; expiresAt: number; error: TokenRequestError }
  | { type: 'token.rejected_downstream'; url: string; retried: boolean }
  | { type: 'cache.fallback'; error: Error }
  | { type: 'cache.entry_rejected'; reason: 'integrity' | 'expired' | 'audience' | 'failure_marker' }
  | { type: 'cache.recovered' }
);

/** An {@link OutboundEvent} without the subject fields the provider adds (what the layers of the chain emit). */
export type OutboundEventBody = OutboundEvent extends infer E ? (E extends OutboundEvent ? Omit<E, keyof OutboundEventSubject> : never) : never;
