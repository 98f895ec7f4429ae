/**
 * Internal: the JWS algorithms the verifier supports, derived from the one table in
 * `src/keys/algorithms.ts` (digest, padding, signature length, curve), so nothing is defined twice
 * and no per-request work is spent on looking them up.
 */
import { constants } from 'node:crypto';
import { ALGORITHM_SPECS, type AlgorithmSpec } from '../../../keys/algorithms.js';

export type { AlgorithmSpec };

/** Every algorithm the verifier can check, by `alg` name. `none` is deliberately absent. */
export const ALGORITHMS: ReadonlyMap<string, AlgorithmSpec> = ALGORITHM_SPECS;

/** Names of the symmetric (shared-secret) algorithms. */
export function isSymmetric(alg: string): boolean {
  return ALGORITHMS.get(alg)?.family === 'HS';
}

/** RSA-PSS options for `crypto.verify`: salt length equal to the digest length (RFC 7518 section 3.5). */
export const PSS_PADDING = Object.freeze({
  padding: constants.RSA_PKCS1_PSS_PADDING,
  saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
});
