/**
 * Internal: the signature check of a JWS through `node:crypto` (synchronous, no WebCrypto round
 * trip). It accepts exactly what jose's `compactVerify` accepts for the same key; the differential
 * test in `test/verification` holds it to that.
 */
import { createHmac, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { PSS_PADDING, type AlgorithmSpec } from './algorithms.js';

/**
 * True when `signature` is a valid signature of `signingInput` (the ASCII bytes of
 * `header.payload`) under `key` for `spec.alg`. The key must already fit the algorithm
 * (see `keyMismatch`). Never throws: anything OpenSSL refuses is an invalid signature.
 */
export function verifySignature(spec: AlgorithmSpec, signingInput: Buffer, signature: Buffer, key: KeyObject): boolean {
  const expectedLength = spec.signatureLength;
  if (expectedLength !== undefined && signature.length !== expectedLength) return false;
  try {
    switch (spec.family) {
      case 'HS': {
        const mac = createHmac(spec.digest as string, key).update(signingInput).digest();
        return timingSafeEqual(mac, signature);
      }
      case 'RS':
        return verify(spec.digest, signingInput, key, signature);
      case 'PS':
        return verify(spec.digest, signingInput, { key, ...PSS_PADDING }, signature);
      case 'ES':
        return verify(spec.digest, signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'EdDSA':
        return verify(null, signingInput, key, signature);
    }
  } catch {
    return false;
  }
}
