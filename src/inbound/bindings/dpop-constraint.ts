/**
 * The DPoP sender constraint (RFC 9449 section 7.1): a token bound with `cnf.jkt` is accepted
 * only with the `DPoP` scheme and a proof, made for this request and this token, by the key the
 * token is bound to; the proof's `jti` is recorded so the proof is accepted once, and with nonces
 * on the proof must carry a current one (section 9). A token presented with the DPoP scheme must
 * be bound. A bound token presented as Bearer is refused.
 */
import { createHash } from 'node:crypto';
import { InvalidTokenError } from '../../errors/bearer-errors.js';
import { DpopProofError, DpopReplayStoreUnavailableError, UseDpopNonceError } from '../../errors/dpop-errors.js';
import { withoutStack } from '../../errors/without-stack.js';
import type { ResolvedDpop } from '../../dpop/dpop-options.js';
import { isPromiseLike } from '../../lib/is-promise-like.js';
import type { Credentials } from '../credentials/extract-credentials.js';
import { clientOf, mismatch } from '../rejection-detail.js';
import type { VerifiedToken } from '../verified-token.js';
import type { VerifierEvent } from '../verifiers/jwt/types.js';
import type { SenderConstraint } from './sender-constraint.js';

/** The `jkt` a token is bound to: its `cnf.jkt` when that is a string; `null` when `cnf` has a `jkt` that is not one; `undefined` when none. */
function boundKey(token: VerifiedToken): string | null | undefined {
  const cnf = token.payload.cnf as unknown;
  if (typeof cnf !== 'object' || cnf === null || !Object.hasOwn(cnf, 'jkt')) return undefined;
  const jkt = (cnf as { jkt?: unknown }).jkt;
  return typeof jkt === 'string' && jkt !== '' ? jkt : null;
}

/** The replay record's key of a proof: its key's thumbprint and its `jti`, hashed to a fixed size. */
function replayKey(jkt: string, jti: string): string {
  return createHash('sha256').update(jkt).update('\0').update(jti).digest('base64url');
}

/** The sanitised error of a failed store: its name and message, bounded (nothing else of it). */
function storeError(error: unknown): Error {
  const text = error instanceof Error ? (error.name === 'Error' ? error.message : `${error.name}: ${error.message}`) : String(error);
  return new Error(text.replace(/[^\x20-\x7e]/g, '?').slice(0, 300));
}

/** The DPoP binding check of `dpop`; `onEvent` hears of replay store failures. */
export function dpopConstraint(dpop: ResolvedDpop, onEvent: ((event: VerifierEvent) => void) | undefined): SenderConstraint {
  const { proofs, replayStore, nonces, now } = dpop;

  const unavailable = (error: unknown): never => {
    const cause = storeError(error);
    try {
      onEvent?.({ type: 'dpop.replay_store_failed', error: cause });
    } catch {
      // An observer's failure must not change how a request is answered.
    }
    throw new DpopReplayStoreUnavailableError(undefined, undefined, { cause });
  };
  const replayed = (token: VerifiedToken): never => {
    const client = clientOf(token.payload as Record<string, unknown>);
    throw withoutStack(() => new DpopProofError('the DPoP proof was used before (RFC 9449 section 11.1)', 'ERR_DPOP_REPLAYED', {
      detail: { ...(client === undefined ? {} : { client }), claim: 'jti' },
    }));
  };

  return {
    confirmationMethod: 'jkt',
    check(token: VerifiedToken, credentials: Credentials, request) {
      const jkt = boundKey(token);
      if (credentials.scheme !== 'DPoP' || credentials.proof === undefined) {
        if (jkt === undefined) return undefined;
        throw withoutStack(() => new InvalidTokenError(
          'the token is DPoP-bound (cnf.jkt): present it with the DPoP scheme and a DPoP proof, not as a Bearer token',
          'ERR_TOKEN_SENDER_CONSTRAINED',
          { detail: mismatch(token.payload as Record<string, unknown>, 'cnf', 'DPoP scheme', 'Bearer scheme') },
        ));
      }
      if (typeof jkt !== 'string') {
        throw withoutStack(() => new InvalidTokenError(
          "the token is not DPoP-bound (it has no 'cnf.jkt' claim), so it cannot be used with the DPoP scheme",
          'ERR_DPOP_TOKEN_NOT_BOUND',
          { detail: mismatch(token.payload as Record<string, unknown>, 'cnf', 'jkt', token.payload.cnf === undefined ? 'none' : JSON.stringify(token.payload.cnf)) },
        ));
      }
      const url = request.url;
      if (url === undefined) throw new Error('the DPoP check needs the request URL: the InboundRequest has no "url"');
      const proof = proofs.check(credentials.proof, { method: request.method, url, accessToken: credentials.token, jkt });
      if (proof.jkt !== jkt) {
        throw withoutStack(() => new DpopProofError('the DPoP proof is signed by another key than the one the token is bound to (cnf.jkt)', 'ERR_DPOP_KEY_MISMATCH', {
          detail: mismatch(token.payload as Record<string, unknown>, 'cnf.jkt', jkt, proof.jkt),
        }));
      }
      if (nonces !== undefined && (proof.nonce === undefined || nonces.check(proof.nonce) === 'invalid')) {
        throw withoutStack(() => new UseDpopNonceError(nonces.current(), proof.nonce === undefined
          ? 'this API requires a DPoP nonce: make a new proof with the nonce of the DPoP-Nonce header'
          : 'the nonce of the DPoP proof is not current: make a new proof with the nonce of the DPoP-Nonce header'));
      }
      const admitted: VerifiedToken = Object.freeze({ ...token, scheme: 'DPoP' as const, jkt });
      const at = now();
      let fresh: boolean | PromiseLike<boolean>;
      try {
        // Kept for the clock tolerance beyond the proof's window: a replica whose clock runs behind
        // by up to that much still judges the proof fresh, and must still find it recorded.
        fresh = replayStore.remember(replayKey(jkt, proof.jti), Math.max(proof.acceptedUntil + dpop.clockTolerance * 1000, at + 1000), at);
      } catch (error) {
        return unavailable(error);
      }
      if (isPromiseLike(fresh)) {
        return Promise.resolve(fresh).then((isNew) => (isNew === true ? admitted : replayed(token)), unavailable);
      }
      return fresh === true ? admitted : replayed(token);
    },
  };
}
