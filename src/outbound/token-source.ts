/**
 * The outbound chain, in the spirit of golang/oauth2's `TokenSource`: each layer obtains a token
 * by asking the one below it, and adds one concern.
 *
 *   reuse (in memory: reuse, refresh ahead, single flight, failure latch, stale tokens, deadline)
 *     -> shared cache (read, cross-process lock, wait for the holder, failure markers, fallback)
 *       -> retry (backoff with jitter, Retry-After)
 *         -> grant (one token request: endpoint, client authentication, response)
 *
 * `clientCredentials()` composes them; each is a folder of `src/outbound/`.
 */
import type { TokenSet } from '../caches/token-cache.js';

/** What a caller asks of the chain. */
export interface TokenRequestContext {
  /** A token the caller refused (a downstream 401, or `forceRefresh`): never hand it back. */
  readonly avoid: string | undefined;
  /** `avoid` must not be served stale either. */
  readonly rejected: boolean;
  /** A refresh ahead of expiry while the token at hand is still usable (nobody waits for it). */
  readonly background: boolean;
  /** The access token the provider holds now, if any: a shared entry with it is nothing new. */
  readonly held: string | undefined;
  /** Consecutive failures before this request (for the cooldown another process is told about). */
  readonly failures: number;
}

/** A token and how it was had. */
export interface ObtainedToken {
  readonly token: TokenSet;
  /** Token endpoint requests it took; 0 when it came from a cache. */
  readonly attempts: number;
}

/** One layer of the chain. Rejects with a `TokenRequestError`. */
export interface TokenSource {
  obtain(context: TokenRequestContext): Promise<ObtainedToken>;
}
