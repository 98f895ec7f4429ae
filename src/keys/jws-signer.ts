/**
 * Internal: JWS signatures through `node:crypto` (RFC 7515 section 5.1, RFC 7518), synchronous,
 * for what the library signs itself: the client assertions of `private_key_jwt` and DPoP proofs.
 * The algorithm table is the verifier's (`algorithms.ts`), so signing and checking cannot drift.
 */
import { constants, sign, type KeyObject } from 'node:crypto';
import { ALGORITHM_SPECS } from './algorithms.js';

/** The base64url JWS signature of a signing input (`base64url(header).base64url(payload)`). */
export type JwsSigner = (signingInput: string) => string;

/** A signer for `alg` with `key` (an asymmetric private key that fits `alg`: checked by the caller's import). */
export function jwsSigner(key: KeyObject, alg: string): JwsSigner {
  const spec = ALGORITHM_SPECS.get(alg);
  if (spec === undefined || spec.family === 'HS') throw new TypeError(`no asymmetric JWS algorithm ${JSON.stringify(alg)}`);
  const options = spec.family === 'ES' ? { key, dsaEncoding: 'ieee-p1363' as const }
    // RFC 7518 section 3.5: the salt is as long as the digest.
    : spec.family === 'PS' ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
      : { key };
  const { digest } = spec;
  return (signingInput) => sign(digest, Buffer.from(signingInput, 'latin1'), options).toString('base64url');
}

/** A compact JWS of `header` and `payload` (JSON objects) signed by `signer`. */
export function signCompact(header: Record<string, unknown>, payload: Record<string, unknown>, signer: JwsSigner): string {
  const signingInput = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${signingInput}.${signer(signingInput)}`;
}
