/**
 * The top of the outbound chain, in memory: the token at hand is reused while it is usable
 * (never within the expiry margin of its expiry) and refreshed in the background from a random
 * point of its usable life; one request is in flight for any number of callers; a failure cools
 * down (doubling per consecutive failure, never shorter than a `Retry-After`) while callers keep
 * the still-usable token; each caller waits at most `deadlineDuration`. Built on the shared
 * single-flight / cooldown / serve-stale mechanism (`lib/refreshable.ts`).
 */
import type { TokenSet } from '../../caches/token-cache.js';
import { Refreshable, type Loaded } from '../../lib/refreshable.js';
import { effectiveMargin, refreshPoint } from '../grant/token-lifetime.js';
import type { ProviderLifecycle } from '../provider-lifecycle.js';
import { closedError } from '../provider-lifecycle.js';
import { TokenRequestError } from '../token-request-error.js';
import type { TokenRequestContext, TokenSource } from '../token-source.js';
import type { OutboundEventBody } from '../types.js';

/** The longest a failure is latched, however many came in a row. */
const MAX_FAILURE_COOLDOWN = 300_000;

/** What a flight is for (the part of the context the caller decides). */
type Mode = Pick<TokenRequestContext, 'avoid' | 'rejected' | 'background'>;

/** The token at hand, and how it was had (for the event reported once it is at hand). */
interface HeldToken {
  readonly token: TokenSet;
  /** Token endpoint requests it took; 0 when it came from the shared cache. */
  readonly attempts: number;
  /** It replaced a token that was still usable. */
  readonly replaced: boolean;
}

export interface ReuseSettings {
  expiryMargin: number;
  refreshWindow: readonly [number, number];
  failureCooldownDuration: number;
  deadlineDuration: number;
  /** The token endpoint (or issuer), for messages. */
  endpoint: string;
  now: () => number;
  random: () => number;
  lifecycle: ProviderLifecycle;
  emit: (event: OutboundEventBody) => void;
}

/**
 * How long a failure is latched: `failureCooldownDuration` doubled per consecutive failure
 * (5 min at most), never less than the failure's `Retry-After`.
 */
export function failureCooldown(base: number, error: TokenRequestError, count: number): number {
  const backoff = Math.min(base * 2 ** (count - 1), MAX_FAILURE_COOLDOWN);
  return Math.max(error.retryAfter ?? 0, backoff);
}

export class ReusingTokenSource {
  private readonly tokens: Refreshable<HeldToken, Mode>;
  /** The last token obtained to replace one a downstream refused, and when (see {@link replace}). */
  private lastReplacement: { accessToken: string; at: number } | undefined;

  constructor(private readonly inner: TokenSource, private readonly settings: ReuseSettings) {
    this.tokens = new Refreshable<HeldToken, Mode>({
      load: (mode) => this.load(mode),
      now: settings.now,
      onLoaded: ({ value: { token, attempts, replaced } }, mode) => {
        if (attempts === 0) settings.emit({ type: 'token.cache_hit', expiresAt: token.expiresAt });
        else if (replaced || mode.background) settings.emit({ type: 'token.refreshed', expiresAt: token.expiresAt, attempts, background: mode.background });
        else settings.emit({ type: 'token.fetched', expiresAt: token.expiresAt, attempts });
      },
      cooldown: (count, error) => failureCooldown(settings.failureCooldownDuration, error as TokenRequestError, count),
      onFailure: (failure, mode) => {
        const error = failure.error as TokenRequestError;
        if (error.code === 'ERR_TOKEN_PROVIDER_CLOSED') return;
        settings.emit({ type: 'token.failed', error, background: mode.background, cooldown: failure.retryAt - failure.at });
        // A refresh ahead of expiry failed: callers keep the token at hand while it is usable. (Any
        // other flight was for a token refused or no longer usable: nothing is served stale.)
        if (mode.background && this.tokens.phase(settings.now()) === 'due') {
          settings.emit({ type: 'token.served_stale', expiresAt: this.atHand().value.token.expiresAt, error });
        }
      },
    });
  }

  /**
   * The hot path: the token at hand when usable (starting a background refresh when due), else
   * one obtained now. `force`: not the token at hand (or not `rejected`, when given).
   */
  get(force: boolean, rejected: string | undefined): Promise<TokenSet> {
    if (this.settings.lifecycle.closed) return Promise.reject(closedError());
    const now = this.settings.now();
    const phase = this.tokens.phase(now);
    if (phase === 'fresh' || phase === 'due') {
      const { token } = this.atHand().value;
      const refused = force && (rejected === undefined || rejected === token.accessToken);
      if (!refused) {
        if (phase === 'due') this.refreshInBackground(now, token);
        return Promise.resolve(token);
      }
      return this.withDeadline(this.flight({ background: false, avoid: token.accessToken, rejected: true }));
    }
    return this.withDeadline(this.flight({ background: false, avoid: force ? rejected : undefined, rejected: force }));
  }

  /**
   * A new token for one a downstream refused, or undefined when the refused token is itself a
   * replacement obtained this way less than `failureCooldownDuration` ago: a downstream that
   * refuses every token then costs one token request per cooldown, not one per call.
   */
  async replace(rejected: string): Promise<TokenSet | undefined> {
    const last = this.lastReplacement;
    const { now, failureCooldownDuration } = this.settings;
    if (last !== undefined && last.accessToken === rejected && now() < last.at + failureCooldownDuration) return undefined;
    const token = await this.get(true, rejected);
    if (token.accessToken === rejected) return undefined;
    if (this.lastReplacement === undefined || this.lastReplacement.accessToken !== token.accessToken) {
      this.lastReplacement = { accessToken: token.accessToken, at: now() };
    }
    return token;
  }

  /** What the provider's health view says of the token at hand and the last failure, derived from the refreshable's state. */
  health(now: number): { tokenPresent: boolean; usableUntil?: number; refreshing: boolean; failure?: { error: unknown; at: number }; latchedUntil?: number } {
    const phase = this.tokens.phase(now);
    const present = phase === 'fresh' || phase === 'due';
    const failure = this.tokens.failure;
    const latchedUntil = this.tokens.coolingDownUntil(now);
    return {
      tokenPresent: present,
      ...(present ? { usableUntil: this.atHand().expiresAt } : {}),
      refreshing: this.tokens.inFlight !== undefined,
      ...(failure === undefined ? {} : { failure: { error: failure.error, at: failure.at } }),
      ...(latchedUntil === undefined ? {} : { latchedUntil }),
    };
  }

  /** The token at hand, where the phase is `fresh` or `due` (then something is loaded). */
  private atHand(): Loaded<HeldToken> {
    return this.tokens.loaded as Loaded<HeldToken>;
  }

  /** Forgets the token at hand (the provider closes). */
  drop(): void {
    this.tokens.drop();
  }

  private refreshInBackground(now: number, current: TokenSet): void {
    if (this.tokens.inFlight !== undefined || this.tokens.coolingDownUntil(now) !== undefined) return;
    this.settings.emit({ type: 'token.refresh_started', expiresAt: current.expiresAt });
    this.flight({ background: true, avoid: current.accessToken, rejected: false }).catch(() => undefined);
  }

  /**
   * Joins the request in flight or starts one (while a failure cools down: no request). A caller
   * that refused a token never gets it back from a flight started for another reason (e.g. a
   * background refresh). A caller is here only when the token at hand is refused or no longer
   * usable, so a failed flight has nothing to serve it stale.
   */
  private flight(mode: Mode): Promise<TokenSet> {
    const joined = this.tokens.inFlight !== undefined;
    const latchedUntil = joined ? undefined : this.tokens.coolingDownUntil(this.settings.now());
    return this.tokens.refresh(mode).then(
      ({ value: { token } }) => {
        if (joined && mode.rejected && token.accessToken === mode.avoid) {
          throw this.tokens.failure?.error ?? new TokenRequestError('no replacement for the refused token could be obtained', {
            code: 'ERR_TOKEN_RESPONSE_INVALID',
            tokenEndpoint: this.settings.endpoint,
          });
        }
        return token;
      },
      (error: unknown) => {
        // The failure latched earlier, given again without a request.
        if (latchedUntil !== undefined && error instanceof TokenRequestError) this.settings.emit({ type: 'token.latched', error, retryAt: latchedUntil });
        throw error;
      },
    );
  }

  /** One load: the chain below, with the token's times for reuse and refresh. */
  private async load(mode: Mode): Promise<Loaded<HeldToken>> {
    const { settings } = this;
    let obtained;
    try {
      obtained = await this.inner.obtain({
        ...mode,
        held: this.tokens.loaded?.value.token.accessToken,
        failures: this.tokens.failure?.count ?? 0,
      });
    } catch (caught) {
      if (caught instanceof TokenRequestError) throw caught;
      throw new TokenRequestError('getting a token failed', { code: 'ERR_TOKEN_RESPONSE_INVALID', tokenEndpoint: settings.endpoint, cause: caught });
    }
    const { token, attempts } = obtained;
    const phase = this.tokens.phase(settings.now());
    const usableUntil = token.expiresAt - effectiveMargin(token, settings.expiryMargin);
    return {
      value: { token, attempts, replaced: phase === 'fresh' || phase === 'due' },
      refreshAt: refreshPoint(token, settings.expiryMargin, settings.refreshWindow, settings.random),
      expiresAt: usableUntil,
      staleUntil: usableUntil,
    };
  }

  /**
   * The caller's view of a flight: it waits at most `deadlineDuration` (the flight itself goes on).
   * The deadline's timer keeps the process alive while the caller waits: the flight's own waits
   * (retry backoff, lock polls) do not, so a background refresh nobody awaits never holds a
   * process open, while a one-shot job that awaits a token gets its answer (or its error).
   */
  private withDeadline(flight: Promise<TokenSet>): Promise<TokenSet> {
    const { deadlineDuration, endpoint } = this.settings;
    return new Promise<TokenSet>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TokenRequestError(
        `no token from ${endpoint} within deadlineDuration ${deadlineDuration} ms (the request goes on; later callers get its token)`,
        { code: 'ERR_TOKEN_TIMEOUT', tokenEndpoint: endpoint },
      )), deadlineDuration);
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
}
