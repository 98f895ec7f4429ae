/**
 * Internal: which JWS algorithms a key can verify. The one place that decides whether a key fits
 * an `alg` (key type, curve, RSA size), so HS/RS confusion and curve mix-ups cannot happen.
 */
import type { KeyObject } from 'node:crypto';

/** Asymmetric JWS algorithms express-m2m verifies (RFC 7518 section 3, RFC 8037). */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256', 'RS384', 'RS512',
  'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512',
  'EdDSA',
] as const;

/** HMAC JWS algorithms, only ever served by a `secret` source. */
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;

/** Smallest RSA modulus accepted, in bits (RFC 7518 section 3.3 and 3.5). */
export const MIN_RSA_MODULUS_BITS = 2048;

/** Smallest HMAC key per algorithm, in bytes: the hash output size (RFC 7518 section 3.2). */
export const MIN_HMAC_KEY_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };

const EC_CURVE_BY_ALG: Readonly<Record<string, string>> = {
  ES256: 'prime256v1',
  ES384: 'secp384r1',
  ES512: 'secp521r1',
};

/**
 * Why `key` cannot verify `alg`, or `undefined` when it can. The reason is a short phrase for an
 * error description (no key material). The one place that decides key/algorithm fit: key sources
 * use it to pick keys, the verifier to check keys from custom sources.
 */
export function keyMismatch(key: KeyObject, alg: string): string | undefined {
  const minSecret = MIN_HMAC_KEY_BYTES[alg];
  if (minSecret !== undefined) {
    if (key.type !== 'secret') return `${alg} needs a shared secret, the key is ${describeType(key)}`;
    const bytes = key.symmetricKeySize ?? 0;
    return bytes < minSecret ? `${alg} needs a secret of at least ${minSecret} bytes` : undefined;
  }
  if (key.type !== 'public') return 'not a public key';
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  switch (alg) {
    case 'RS256':
    case 'RS384':
    case 'RS512':
    case 'PS256':
    case 'PS384':
    case 'PS512': {
      // Plain RSA keys only: an RSA-PSS-restricted SPKI key has no JWK form, and jose (which the
      // verifier's differential test holds its signature check to) cannot use one on Node 20.
      if (type !== 'rsa') return `${alg} needs an RSA key, the key is ${describeType(key)}`;
      const bits = details.modulusLength ?? 0;
      if (bits < MIN_RSA_MODULUS_BITS) return `the RSA key has ${bits} bits, fewer than ${MIN_RSA_MODULUS_BITS}`;
      return undefined;
    }
    case 'ES256':
    case 'ES384':
    case 'ES512': {
      if (type !== 'ec') return `${alg} needs an EC key, the key is ${describeType(key)}`;
      const wanted = EC_CURVE_BY_ALG[alg];
      if (details.namedCurve !== wanted) return `${alg} needs curve ${curveName(wanted)}, the key is on ${curveName(details.namedCurve)}`;
      return undefined;
    }
    case 'EdDSA':
      return type === 'ed25519' ? undefined : `EdDSA needs an Ed25519 key, the key is ${describeType(key)}`;
    default:
      return `${alg} is not an algorithm express-m2m verifies`;
  }
}

/** The asymmetric algorithms `key` can verify, in {@link ASYMMETRIC_ALGORITHMS} order. */
export function algorithmsForKey(key: KeyObject): string[] {
  return ASYMMETRIC_ALGORITHMS.filter((alg) => keyMismatch(key, alg) === undefined);
}

function curveName(curve: string | undefined): string {
  switch (curve) {
    case 'prime256v1': return 'P-256';
    case 'secp384r1': return 'P-384';
    case 'secp521r1': return 'P-521';
    default: return curve ?? 'an unknown curve';
  }
}

function describeType(key: KeyObject): string {
  const type = key.asymmetricKeyType;
  switch (type) {
    case 'rsa': return 'RSA';
    case 'rsa-pss': return 'RSA-PSS';
    case 'ec': return `EC ${curveName(key.asymmetricKeyDetails?.namedCurve)}`;
    case 'ed25519': return 'Ed25519';
    case undefined: return 'a secret';
    default: return type;
  }
}
