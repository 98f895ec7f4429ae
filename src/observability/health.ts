/**
 * The health views: `auth.health()` (requireAuth) and `provider.health()` (clientCredentials),
 * plain objects derived on each call from the state the components keep anyway (the phases of
 * `lib/refreshable.ts`, the failure cooldowns, the shared cache's fallback), never stored apart.
 * Nothing in them is a secret: URLs the operator configured (or discovered), client ids,
 * audiences, ages, and errors as name, code, status and message.
 */

/**
 * A failure, as a health view shows it: the error's name, stable code, HTTP status and message
 * (library-made, secret-free), and how long ago it happened.
 *
 * @example
 * ```ts
 * import type { HealthError } from 'express-m2m';
 *
 * const line = (error: HealthError) => `${error.code ?? error.name}: ${error.message} (${error.ageSeconds} s ago)`;
 * ```
 */
export interface HealthError {
  /** The error's class name, e.g. `UpstreamError`, `TokenRequestError`. */
  readonly name: string;
  /** Its stable code, when it has one (`ERR_UPSTREAM`, `ERR_TOKEN_REJECTED`...). */
  readonly code?: string;
  /** The HTTP status the endpoint answered, when it answered. */
  readonly status?: number;
  /** What went wrong (names the URL and the cause; never a body, a token or a secret). */
  readonly message: string;
  /** Seconds since it happened. */
  readonly ageSeconds: number;
}

/**
 * The keys of one issuer: `fresh` (within their max age), `stale` (past it: served only during
 * an outage, up to `jwks.maxStale`), `missing` (none yet, or past every window); static keys and
 * secrets are always `fresh`, a custom key source is `unknown`.
 *
 * @example
 * ```ts
 * import type { KeysHealth } from 'express-m2m';
 *
 * const alert = (keys: KeysHealth) => keys.state === 'stale' || (keys.state === 'missing' && keys.lastError !== undefined);
 * ```
 */
export interface KeysHealth {
  /** Where the keys come from. */
  readonly source: 'jwks' | 'static' | 'custom';
  /** The JWKS URI (configured or discovered; `(jwks_uri from discovery)` before discovery). */
  readonly uri?: string;
  /** The state of the key set in use. */
  readonly state: 'fresh' | 'stale' | 'missing' | 'unknown';
  /** Seconds since the key set in use was fetched. */
  readonly ageSeconds?: number;
  /** The last fetch failed: with what (cleared by the next success). */
  readonly lastError?: HealthError;
  /** Seconds until a fetch is tried again, while a failure cools down. */
  readonly retryInSeconds?: number;
}

/**
 * The introspection endpoint of an issuer: consecutive failed calls and the cooldown.
 *
 * @example
 * ```ts
 * import type { IntrospectionHealth } from 'express-m2m';
 *
 * const failing = (health: IntrospectionHealth) => health.consecutiveFailures > 0;
 * ```
 */
export interface IntrospectionHealth {
  /** Failed calls in a row (0: the last call worked, or none was made). */
  readonly consecutiveFailures: number;
  /** Seconds until a call is made again, while a failure cools down. */
  readonly retryInSeconds?: number;
}

/**
 * One trusted issuer.
 *
 * @example
 * ```ts
 * import type { IssuerHealth } from 'express-m2m';
 *
 * const summary = (issuer: IssuerHealth) => `${issuer.issuer}: keys ${issuer.keys?.state ?? 'n/a'}`;
 * ```
 */
export interface IssuerHealth {
  /** The issuer (`issuer`, else `issuerBaseURL`; an `issuers` function's issuers as resolved). */
  readonly issuer: string;
  /** Its keys (absent for an issuer whose tokens are all introspected without signed answers). */
  readonly keys?: KeysHealth;
  /** Its introspection endpoint, when tokens are introspected. */
  readonly introspection?: IntrospectionHealth;
}

/**
 * `auth.health()`: `ok`, `degraded` (an issuer's keys are stale or their last fetch failed, or
 * introspection fails, while requests are still answered) or `down` (an issuer has no keys and
 * the last fetch failed: its tokens are refused with 503), and each issuer.
 *
 * @example
 * ```ts
 * import type { AuthHealth } from 'express-m2m';
 *
 * app.get('/health/auth', (_req, res) => {
 *   const health: AuthHealth = auth.health();
 *   res.status(health.status === 'down' ? 503 : 200).json(health);
 * });
 * ```
 */
export interface AuthHealth {
  /** The worst of the issuers' states. */
  readonly status: HealthStatus;
  /** Every issuer known now (an `issuers` function's: those resolved and kept). */
  readonly issuers: readonly IssuerHealth[];
}

/**
 * `ok`, `degraded` (working, with a failure to look at) or `down` (failing requests).
 *
 * @example
 * ```ts
 * import type { HealthStatus } from 'express-m2m';
 *
 * const httpStatus = (status: HealthStatus) => (status === 'down' ? 503 : 200);
 * ```
 */
export type HealthStatus = 'ok' | 'degraded' | 'down';

/**
 * `provider.health()` of a clientCredentials provider: the token at hand, the last failure and
 * its latch, the shared cache.
 *
 * @example
 * ```ts
 * import { clientCredentials, type TokenProviderHealth } from 'express-m2m';
 *
 * const billing = clientCredentials({ tokenEndpoint: 'https://issuer.example/oauth/token', clientId: 'orders', clientSecret: 'placeholder' });
 * const health: TokenProviderHealth = billing.health();
 * if (health.latched) console.warn(`token requests held off for ${health.retryInSeconds} s: ${health.lastError?.message}`);
 * ```
 */
export interface TokenProviderHealth {
  /** `ok`; `degraded` (the last request failed, a usable token is still served, or the shared cache is down); `down` (no usable token and the failure is latched). */
  readonly status: HealthStatus;
  /** The client. */
  readonly clientId: string;
  /** The audience asked for, if any. */
  readonly audience: string | undefined;
  /** The token endpoint (or the issuer, when discovered). */
  readonly endpoint: string;
  /** A usable token is at hand (callers get it without a request). */
  readonly tokenPresent: boolean;
  /** Seconds until the token at hand is no longer handed out (its expiry less the margin). */
  readonly expiresInSeconds?: number;
  /** A request for a token is in flight (a refresh ahead of expiry, or callers waiting). */
  readonly refreshing: boolean;
  /** The last request failed: with what (cleared by the next success). */
  readonly lastError?: HealthError;
  /** The failure is latched: callers without a usable token get it at once, without a request. */
  readonly latched: boolean;
  /** Seconds until a request is made again, while latched. */
  readonly retryInSeconds?: number;
  /** The shared cache: `memory` (the provider's own), `ok`, or `fallback` (it failed; the provider works from memory). */
  readonly sharedCache: 'memory' | 'ok' | 'fallback';
}

/** Internal: a failure as a health view shows it. */
export function healthError(error: unknown, at: number, now: number): HealthError {
  const ageSeconds = Math.max(0, Math.round((now - at) / 1000));
  if (!(error instanceof Error)) return { name: 'Error', message: String(error).replace(/[^\x20-\x7e]/g, '?').slice(0, 200), ageSeconds };
  const { code, status } = error as { code?: unknown; status?: unknown };
  return {
    name: error.name,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof status === 'number' ? { status } : {}),
    message: error.message.replace(/[^\x20-\x7e]/g, '?').slice(0, 300),
    ageSeconds,
  };
}

/** Internal: seconds from `now` to `at`, rounded up, when `at` is later. */
export function secondsUntil(at: number | undefined, now: number): number | undefined {
  return at === undefined || at <= now ? undefined : Math.ceil((at - now) / 1000);
}
