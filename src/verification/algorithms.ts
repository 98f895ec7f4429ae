/**
 * Internal: the JWS algorithms the verifier supports, with everything the signature check needs
 * resolved once (digest, padding, signature length, the key type that fits), so no per-request
 * work is spent on looking them up.
 */
import { constants } from 'node:crypto';

/** How one algorithm is checked with `node:crypto`. */
export interface AlgorithmSpec {
  readonly alg: string;
  readonly family: 'HS' | 'RS' | 'PS' | 'ES' | 'EdDSA';
  /** Digest for `crypto.verify` / `createHmac`; `null` for EdDSA (the digest is part of the scheme). */
  readonly digest: 'sha256' | 'sha384' | 'sha512' | null;
  /** Exact signature length in bytes where the algorithm fixes it (ES*, EdDSA, HS*). */
  readonly signatureLength: number | undefined;
  /** For ES*: the OpenSSL curve name the key must be on. */
  readonly namedCurve: string | undefined;
}

function spec(
  alg: string,
  family: AlgorithmSpec['family'],
  digest: AlgorithmSpec['digest'],
  signatureLength?: number,
  namedCurve?: string,
): AlgorithmSpec {
  return Object.freeze({ alg, family, digest, signatureLength, namedCurve });
}

/** Every algorithm the verifier can check, by `alg` name. `none` is deliberately absent. */
export const ALGORITHMS: ReadonlyMap<string, AlgorithmSpec> = new Map([
  ['HS256', spec('HS256', 'HS', 'sha256', 32)],
  ['HS384', spec('HS384', 'HS', 'sha384', 48)],
  ['HS512', spec('HS512', 'HS', 'sha512', 64)],
  ['RS256', spec('RS256', 'RS', 'sha256')],
  ['RS384', spec('RS384', 'RS', 'sha384')],
  ['RS512', spec('RS512', 'RS', 'sha512')],
  ['PS256', spec('PS256', 'PS', 'sha256')],
  ['PS384', spec('PS384', 'PS', 'sha384')],
  ['PS512', spec('PS512', 'PS', 'sha512')],
  ['ES256', spec('ES256', 'ES', 'sha256', 64, 'prime256v1')],
  ['ES384', spec('ES384', 'ES', 'sha384', 96, 'secp384r1')],
  ['ES512', spec('ES512', 'ES', 'sha512', 132, 'secp521r1')],
  ['EdDSA', spec('EdDSA', 'EdDSA', null, 64)],
  ['Ed25519', spec('Ed25519', 'EdDSA', null, 64)],
]);

/** Names of the symmetric (shared-secret) algorithms. */
export function isSymmetric(alg: string): boolean {
  return ALGORITHMS.get(alg)?.family === 'HS';
}

/** RSA-PSS options for `crypto.verify`: salt length equal to the digest length (RFC 7518 section 3.5). */
export const PSS_PADDING = Object.freeze({
  padding: constants.RSA_PKCS1_PSS_PADDING,
  saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
});
