/**
 * The retry layer of the outbound chain: a transient failure (5xx, 429, timeout, network,
 * garbage) is tried again after a backoff that doubles from `retryBaseDelay` up to
 * `retryMaxDelay`, with jitter between half and all of the step; a `Retry-After` is honoured when
 * it is no longer than `retryMaxDelay` (a longer one fails at once). Rejections are not retried.
 */
import type { OutboundEventBody } from '../types.js';
import { TokenRequestError } from '../token-request-error.js';
import type { ObtainedToken, TokenRequestContext, TokenSource } from '../token-source.js';

export interface RetrySettings {
  maxRetries: number;
  retryBaseDelay: number;
  retryMaxDelay: number;
  random: () => number;
  /** Waits `ms`; rejects when the provider closes. */
  pause: (ms: number) => Promise<void>;
  /** Throws when the provider is closed. */
  assertOpen: () => void;
  emit: (event: OutboundEventBody) => void;
}

export class RetryingSource implements TokenSource {
  constructor(private readonly inner: TokenSource, private readonly settings: RetrySettings) {}

  async obtain(context: TokenRequestContext): Promise<ObtainedToken> {
    const { maxRetries, retryBaseDelay, retryMaxDelay, random } = this.settings;
    for (let attempt = 1; ; attempt += 1) {
      this.settings.assertOpen();
      try {
        const { token } = await this.inner.obtain(context);
        return { token, attempts: attempt };
      } catch (caught) {
        if (!(caught instanceof TokenRequestError) || !caught.retryable || attempt > maxRetries) throw caught;
        const exponential = Math.min(retryMaxDelay, retryBaseDelay * 2 ** (attempt - 1));
        let delay = exponential / 2 + random() * (exponential / 2);
        if (caught.retryAfter !== undefined) {
          if (caught.retryAfter > retryMaxDelay) throw caught;
          delay = caught.retryAfter;
        }
        this.settings.emit({ type: 'token.retry', error: caught, attempt, delay });
        await this.settings.pause(delay);
      }
    }
  }
}
