/**
 * Internal: DPoP at the local issuer's token endpoint (RFC 9449 section 5): a token request with
 * a valid `DPoP` header gets a DPoP-bound token (`cnf.jkt`, `token_type: DPoP`). The proof is
 * checked by the same verifier as requireAuth's (`htm` POST, `htu` the token endpoint, no `ath`),
 * its `jti` recorded against replay; a client registered with `dpopBoundAccessTokens` must send
 * one; with `dpop.nonce` the proof must carry the issuer's nonce (400 `use_dpop_nonce` with a
 * `DPoP-Nonce` header otherwise, section 8). Counted in `issuer.dpopCounts`.
 */
import { DpopProofError } from '../errors/dpop-errors.js';
import { DPOP_DEFAULTS } from '../dpop/dpop-options.js';
import { createNonceSource, nonceSecret, type NonceSource } from '../dpop/nonces.js';
import { memoryReplayStore } from '../dpop/replay-store.js';
import { DpopProofVerifier } from '../dpop/verify-proof.js';
import type { OAuthErrorAnswer } from './client-authentication.js';
import type { RegisteredClient } from './client-registry.js';
import type { LocalDpopCounts } from './types.js';

/** The outcome of the DPoP step of a token request. */
export type DpopTokenRequestResult =
  | { ok: true; jkt: string | undefined; headers: Record<string, string> }
  | { ok: false; answer: OAuthErrorAnswer };

/** DPoP at the token endpoint. */
export interface LocalDpop {
  readonly algorithms: readonly string[];
  readonly counts: LocalDpopCounts;
  /** Checks the `DPoP` header lines of a token request of `client`. */
  /** Checks the proofs of a token request to `url` (the token endpoint, or its mTLS alias). */
  check(client: RegisteredClient, proofs: readonly string[], url: string): DpopTokenRequestResult;
  resetCounts(): void;
}

/** The local issuer's DPoP: proofs for the endpoint each request went to, nonces required when `requireNonce`. */
export function createLocalDpop(settings: { requireNonce: boolean; now: () => number }): LocalDpop {
  const algorithms = [...DPOP_DEFAULTS.algorithms];
  const proofs = new DpopProofVerifier({
    algorithms: new Set(algorithms), maxAge: DPOP_DEFAULTS.maxAge, clockTolerance: DPOP_DEFAULTS.clockTolerance,
    maxProofSize: DPOP_DEFAULTS.maxProofSize, now: settings.now,
  });
  const replay = memoryReplayStore({ maxEntries: 10_000 });
  const nonces: NonceSource | undefined = settings.requireNonce
    ? createNonceSource(nonceSecret(undefined), DPOP_DEFAULTS.nonceRotation * 1000, settings.now)
    : undefined;
  const counts = { accepted: 0, refused: 0, nonceChallenges: 0 };
  const nonceHeader = (): Record<string, string> => (nonces === undefined ? {} : { 'dpop-nonce': nonces.current() });
  const refuse = (description: string): DpopTokenRequestResult => {
    counts.refused += 1;
    return { ok: false, answer: { status: 400, error: 'invalid_dpop_proof', description, headers: nonceHeader() } };
  };

  return {
    algorithms,
    get counts() {
      return Object.freeze({ ...counts });
    },
    resetCounts() {
      counts.accepted = 0;
      counts.refused = 0;
      counts.nonceChallenges = 0;
    },
    check(client, lines, url) {
      if (lines.length === 0) {
        return client.dpopBoundAccessTokens
          ? refuse('this client must send a DPoP proof (dpop_bound_access_tokens, RFC 9449 section 5.2)')
          : { ok: true, jkt: undefined, headers: {} };
      }
      if (lines.length > 1) return refuse('the request has more than one DPoP header');
      let jkt: string;
      try {
        const proof = proofs.check((lines[0] as string).trim(), { method: 'POST', url });
        if (nonces !== undefined && (proof.nonce === undefined || nonces.check(proof.nonce) === 'invalid')) {
          counts.nonceChallenges += 1;
          return {
            ok: false,
            answer: { status: 400, error: 'use_dpop_nonce', description: 'the DPoP proof must carry the nonce of the DPoP-Nonce header', headers: nonceHeader() },
          };
        }
        const now = settings.now();
        if (!replay.remember(`${proof.jkt}\0${proof.jti}`, Math.max(proof.acceptedUntil, now + 1000), now)) {
          return refuse('the DPoP proof was used before');
        }
        jkt = proof.jkt;
      } catch (error) {
        return refuse(error instanceof DpopProofError ? error.message : 'the DPoP proof could not be checked');
      }
      counts.accepted += 1;
      return { ok: true, jkt, headers: nonceHeader() };
    },
  };
}
