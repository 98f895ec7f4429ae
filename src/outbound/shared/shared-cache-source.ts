/**
 * The shared-cache layer of the outbound chain: a token another provider or process stored is
 * taken from the cache; otherwise the cache's cross-process lock makes one holder fetch while the
 * others wait for its token (or for the failure it shares); a failing cache is left alone for
 * `cacheRetryDuration` while this provider works from its own memory.
 */
import type { SharedTokenFailure, TokenCache, TokenSet } from '../../caches/token-cache.js';
import type { TokenRequestErrorCode } from '../../errors/error-codes.js';
import { effectiveMargin, isTokenSet, isUsable } from '../grant/token-lifetime.js';
import { failureBelieved, sealFailure, sealToken, tokenProblem, unsealed } from './entry-integrity.js';
import { TokenRequestError } from '../token-request-error.js';
import type { ObtainedToken, TokenRequestContext, TokenSource } from '../token-source.js';
import type { OutboundEventBody } from '../types.js';

/** Waiters poll the lock every 25 to 75 ms (a random point around this interval). */
const LOCK_POLL_INTERVAL = 50;

const KNOWN_CODES: ReadonlySet<string> = new Set<TokenRequestErrorCode>([
  'ERR_TOKEN_REJECTED', 'ERR_TOKEN_RATE_LIMITED', 'ERR_TOKEN_ENDPOINT_FAILED', 'ERR_TOKEN_TIMEOUT',
  'ERR_TOKEN_ENDPOINT_UNREACHABLE', 'ERR_TOKEN_RESPONSE_INVALID', 'ERR_TOKEN_DISCOVERY_FAILED', 'ERR_TOKEN_ENDPOINT_INSECURE',
  'ERR_TOKEN_NOT_BOUND',
]);

/** Raised inside this layer when the shared cache fails; never escapes. */
class CacheFailure extends Error {}

export interface SharedCacheSettings {
  cache: TokenCache;
  /** The cache key of the token (see `token-cache-key.ts`). */
  key: string;
  /** The MAC key of the entries (see `entry-integrity.ts`), derived from the client's credentials. */
  integrityKey: Buffer;
  /** The `audience` the provider asks for: a cached JWT for another audience is not handed out. */
  audience: string | undefined;
  /** The token endpoint (or issuer), for messages. */
  endpoint: string;
  lockDuration: number;
  cacheRetryDuration: number;
  expiryMargin: number;
  /** How long a failure holds new attempts off, after `count` consecutive failures. */
  cooldownFor: (error: TokenRequestError, count: number) => number;
  now: () => number;
  random: () => number;
  pause: (ms: number) => Promise<void>;
  assertOpen: () => void;
  emit: (event: OutboundEventBody) => void;
}

export class SharedCacheSource implements TokenSource {
  private cacheDownUntil: number | undefined;

  constructor(private readonly inner: TokenSource, private readonly settings: SharedCacheSettings) {}

  /** With a working shared cache: read it, else take its lock and fetch, else wait for the lock holder's token. */
  async obtain(context: TokenRequestContext): Promise<ObtainedToken> {
    if (!this.cacheAvailable()) return this.fetchAndStore(context, false);
    const { cache, key, lockDuration, now } = this.settings;
    try {
      const shared = await this.readShared(context);
      if (shared !== undefined) return shared;
      if (cache.lock === undefined) return await this.fetchAndStore(context, true);
      await this.throwSharedFailure();
      // The lock lives the holder's worst case, so waiters keep competing for it rather than fetch
      // without it. Only a lock that outlives twice that (not one of ours) is given up on; bounded
      // by a count of polls too (a frozen test clock must not wait forever).
      const giveUpAt = now() + 2 * lockDuration;
      const maxPolls = Math.ceil((2 * lockDuration) / (LOCK_POLL_INTERVAL / 2));
      for (let polls = 1; ; polls += 1) {
        const lock = await this.cacheCall(() => (cache.lock as NonNullable<TokenCache['lock']>).call(cache, key, lockDuration));
        if (lock !== undefined) {
          try {
            const again = await this.readShared(context);
            if (again !== undefined) return again;
            await this.throwSharedFailure();
            try {
              return await this.fetchAndStore(context, true);
            } catch (error) {
              await this.shareFailure(error, context); // before the lock is released, so the next holder sees it
              throw error;
            }
          } finally {
            await lock.release().catch((error: unknown) => this.cacheFailed(error));
          }
        }
        this.settings.assertOpen();
        await this.settings.pause(LOCK_POLL_INTERVAL / 2 + this.settings.random() * LOCK_POLL_INTERVAL);
        const waited = await this.readShared(context);
        if (waited !== undefined) return waited;
        await this.throwSharedFailure();
        if (now() >= giveUpAt || polls >= maxPolls) return await this.fetchAndStore(context, true);
      }
    } catch (error) {
      if (!(error instanceof CacheFailure)) throw error;
      this.cacheFailed(error);
      return this.fetchAndStore(context, false);
    }
  }

  /**
   * A usable token from the shared cache that this request may take. An entry that is not
   * believed (no valid MAC, or a JWT expired or for another audience) is dropped, with an event.
   */
  private async readShared(context: TokenRequestContext): Promise<ObtainedToken | undefined> {
    const { cache, key, integrityKey, now, audience } = this.settings;
    const entry = await this.cacheCall(() => cache.get(key));
    if (entry === undefined) return undefined;
    const problem = isTokenSet(entry) ? tokenProblem(integrityKey, key, entry, { now: now(), audience }) : 'integrity';
    if (problem !== undefined) {
      this.settings.emit({ type: 'cache.entry_rejected', reason: problem });
      await this.cacheCall(() => cache.delete(key));
      return undefined;
    }
    const token = unsealed(entry);
    if (!isUsable(token, now(), this.settings.expiryMargin)) return undefined;
    if (token.accessToken === context.avoid || token.accessToken === context.held) return undefined;
    return { token, attempts: 0 };
  }

  /** Fetches from the layer below and stores the token in the shared cache (unless it is down). */
  private async fetchAndStore(context: TokenRequestContext, useCache: boolean): Promise<ObtainedToken> {
    const obtained = await this.inner.obtain(context);
    if (useCache || this.cacheAvailable()) {
      const token: TokenSet = obtained.token;
      const ttl = token.expiresAt - effectiveMargin(token, this.settings.expiryMargin) - this.settings.now();
      if (ttl > 0) {
        try {
          const sealed = sealToken(this.settings.integrityKey, this.settings.key, token);
          await this.cacheCall(() => this.settings.cache.set(this.settings.key, sealed, Math.floor(ttl)));
        } catch (error) {
          this.cacheFailed(error);
        }
      }
    }
    return obtained;
  }

  /** Shares this process's failure with the others waiting on the lock (code, status, OAuth error; nothing secret). */
  private async shareFailure(caught: unknown, context: TokenRequestContext): Promise<void> {
    const { cache, key } = this.settings;
    if (!(caught instanceof TokenRequestError) || caught.code === 'ERR_TOKEN_PROVIDER_CLOSED' || cache.setFailure === undefined) return;
    const cooldown = this.settings.cooldownFor(caught, context.failures + 1);
    if (!(cooldown > 0)) return;
    const failure: SharedTokenFailure = { code: caught.code, until: this.settings.now() + cooldown };
    if (caught.status !== undefined) failure.status = caught.status;
    if (caught.error !== undefined) failure.error = caught.error;
    const sealed = sealFailure(this.settings.integrityKey, key, failure);
    try {
      await this.cacheCall(() => (cache.setFailure as NonNullable<TokenCache['setFailure']>).call(cache, key, sealed, cooldown));
    } catch (error) {
      this.cacheFailed(error);
    }
  }

  /** Throws the failure another process shared, while it lasts. */
  private async throwSharedFailure(): Promise<void> {
    const { cache, key, endpoint } = this.settings;
    if (cache.getFailure === undefined) return;
    const failure = await this.cacheCall(() => (cache.getFailure as NonNullable<TokenCache['getFailure']>).call(cache, key));
    if (failure === undefined) return;
    if (!failureBelieved(this.settings.integrityKey, key, failure)) {
      this.settings.emit({ type: 'cache.entry_rejected', reason: 'failure_marker' });
      return;
    }
    const remaining = failure.until - this.settings.now();
    if (!(remaining > 0)) return;
    const code = (KNOWN_CODES.has(failure.code) ? failure.code : 'ERR_TOKEN_ENDPOINT_FAILED') as TokenRequestErrorCode;
    const status = typeof failure.status === 'number' ? ` HTTP ${failure.status}` : '';
    const error = typeof failure.error === 'string' ? ` ${failure.error}` : '';
    throw new TokenRequestError(`token endpoint ${endpoint} failed for another process (${code}${status}${error}); not retried for ${Math.ceil(remaining)} ms`, {
      code,
      status: failure.status,
      error: failure.error,
      retryAfter: remaining,
      tokenEndpoint: endpoint,
    });
  }

  private cacheAvailable(): boolean {
    return this.cacheDownUntil === undefined || this.settings.now() >= this.cacheDownUntil;
  }

  private async cacheCall<T>(operation: () => Promise<T>): Promise<T> {
    try {
      const result = await operation();
      if (this.cacheDownUntil !== undefined) {
        this.cacheDownUntil = undefined;
        this.settings.emit({ type: 'cache.recovered' });
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
    this.cacheDownUntil = this.settings.now() + this.settings.cacheRetryDuration;
    if (!wasDown) this.settings.emit({ type: 'cache.fallback', error });
  }
}
