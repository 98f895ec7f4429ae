/**
 * The rejections of DPoP (RFC 9449): a proof that does not prove possession (401
 * `invalid_dpop_proof`), a proof without the current nonce (401 `use_dpop_nonce` with a
 * `DPoP-Nonce` header, section 9), and a replay store that cannot be asked (503: replay
 * protection is never skipped). Each is a `BearerError`, answered in a `DPoP` challenge.
 */
import type { ChallengeContext } from './challenge.js';
import { BearerError, TemporarilyUnavailableError, type BearerErrorOptions } from './bearer-errors.js';

/**
 * 401 `invalid_dpop_proof` (RFC 9449 section 7.1): the `DPoP` header is missing, repeated, too
 * large or malformed, or its proof is not valid for this request and token. `code` says which
 * rule failed (`ERR_DPOP_HTU`, `ERR_DPOP_REPLAYED`, ...: see {@link DpopErrorCode}).
 *
 * @example
 * ```ts
 * import { DpopProofError } from 'express-m2m';
 *
 * app.use((err, req, res, next) => {
 *   if (err instanceof DpopProofError) metrics.increment('dpop.refused', { code: err.code });
 *   next(err);
 * });
 * ```
 */
export class DpopProofError extends BearerError {
  constructor(description: string, code = 'ERR_DPOP_PROOF_INVALID', options: BearerErrorOptions = {}) {
    super(401, code, 'invalid_dpop_proof', description, options);
  }
}

/**
 * 401 `use_dpop_nonce` (RFC 9449 section 9): nonces are required and the proof carries none, or
 * one that is no longer current. The response carries the nonce to use in a `DPoP-Nonce` header;
 * the client retries with a new proof that has it.
 *
 * @example
 * ```ts
 * import { UseDpopNonceError } from 'express-m2m';
 *
 * const error = new UseDpopNonceError('eyJ7S_zG.eyJH0-Z.HX4w-7v');
 * // error.status === 401, error.headers['DPoP-Nonce'] === 'eyJ7S_zG.eyJH0-Z.HX4w-7v'
 * ```
 */
export class UseDpopNonceError extends BearerError {
  /** The nonce the client must put in its next proof (also the `DPoP-Nonce` header). */
  readonly nonce: string;

  constructor(nonce: string, description = 'the DPoP proof must carry the nonce of the DPoP-Nonce header', options: BearerErrorOptions = {}) {
    super(401, 'ERR_DPOP_NONCE', 'use_dpop_nonce', description, options);
    this.nonce = nonce;
  }

  protected override responseHeaders(context: ChallengeContext): Record<string, string> {
    return { ...super.responseHeaders(context), 'DPoP-Nonce': this.nonce };
  }
}

/**
 * 503 with `Retry-After`: the DPoP replay store (Redis) could not say whether the proof was seen
 * before, so the request is refused rather than accepted without replay protection. The client
 * did nothing wrong.
 *
 * @example
 * ```ts
 * import { DpopReplayStoreUnavailableError } from 'express-m2m';
 *
 * app.use((err, req, res, next) => {
 *   if (err instanceof DpopReplayStoreUnavailableError) logger.warn({ cause: err.cause }, 'DPoP replay store down');
 *   next(err);
 * });
 * ```
 */
export class DpopReplayStoreUnavailableError extends TemporarilyUnavailableError {
  constructor(description = 'the DPoP replay check is temporarily unavailable', retryAfter = 5, options: BearerErrorOptions = {}) {
    super('ERR_DPOP_REPLAY_STORE_UNAVAILABLE', description, retryAfter, options);
  }
}
