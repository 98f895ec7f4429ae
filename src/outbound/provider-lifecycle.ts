/**
 * Internal: a token provider's open/closed state, shared by the layers of its chain: `close()`
 * ends retry delays, lock polls and token requests at once, and later calls fail with
 * `ERR_TOKEN_PROVIDER_CLOSED`.
 */
import { TokenRequestError } from './token-request-error.js';

export function closedError(): TokenRequestError {
  return new TokenRequestError('the token provider is closed', { code: 'ERR_TOKEN_PROVIDER_CLOSED' });
}

/** A timer that does not keep the process alive (a provider's own waits never should). */
export function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export class ProviderLifecycle {
  private readonly closing = new AbortController();

  constructor(private readonly sleep: (ms: number) => Promise<void>) {}

  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  /** Aborted by {@link close}. */
  get signal(): AbortSignal {
    return this.closing.signal;
  }

  close(): void {
    this.closing.abort();
  }

  /** Throws `ERR_TOKEN_PROVIDER_CLOSED` once closed. */
  readonly assertOpen = (): void => {
    if (this.closed) throw closedError();
  };

  /** Waits `ms` (through the `sleep` seam), or rejects with ERR_TOKEN_PROVIDER_CLOSED as soon as the provider closes. */
  readonly pause = (ms: number): Promise<void> => {
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
  };
}
