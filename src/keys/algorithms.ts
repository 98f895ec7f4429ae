/**
 * Internal: the one table of JWS algorithms express-m2m verifies (family, digest, signature
 * length, curve, minimum secret size) and the one rule that decides whether a key fits an `alg`
 * (key type, curve, RSA size), so HS/RS confusion and curve mix-ups cannot happen. The verifier's
 * signature check and every key source derive from it.
 */
import type { KeyObject } from 'node:crypto';

/** Every JWS algorithm express-m2m verifies (RFC 7518 section 3, RFC 8037). `none` is deliberately absent. */
export const JWS_ALGORITHMS = [
  'HS256', 'HS384', 'HS512',
  'RS256', 'RS384', 'RS512',
  'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512',
  'EdDSA',
] as const;

/**
 * A JWS `alg` express-m2m verifies: HS256/384/512 (with a shared secret), RS256/384/512,
 * PS256/384/512, ES256/384/512 and EdDSA (Ed25519).
 *
 * @example
 * ```ts
 * import { createVerifier, type JwsAlgorithm } from 'express-m2m';
 *
 * const algorithms: JwsAlgorithm[] = ['RS256', 'ES256'];
 * createVerifier({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example', algorithms });
 * ```
 */
export type JwsAlgorithm = (typeof JWS_ALGORITHMS)[number];

/** How one algorithm is checked: everything the signature check and the key-fit rule need. */
export interface AlgorithmSpec {
  readonly alg: JwsAlgorithm;
  readonly family: 'HS' | 'RS' | 'PS' | 'ES' | 'EdDSA';
  /** Digest for `crypto.verify` / `createHmac`; `null` for EdDSA (the digest is part of the scheme). */
  readonly digest: 'sha256' | 'sha384' | 'sha512' | null;
  /** Exact signature length in bytes where the algorithm fixes it (ES*, EdDSA, HS*). */
  readonly signatureLength: number | undefined;
  /** For ES*: the OpenSSL curve name the key must be on. */
  readonly namedCurve: string | undefined;
  /** For HS*: the smallest secret, in bytes (the hash output size, RFC 7518 section 3.2). */
  readonly minSecretBytes: number | undefined;
}

function spec(
  alg: JwsAlgorithm,
  family: AlgorithmSpec['family'],
  digest: AlgorithmSpec['digest'],
  extra: { signatureLength?: number; namedCurve?: string; minSecretBytes?: number } = {},
): AlgorithmSpec {
  return Object.freeze({
    alg, family, digest, signatureLength: extra.signatureLength, namedCurve: extra.namedCurve, minSecretBytes: extra.minSecretBytes,
  });
}

/** The table, by `alg`. */
export const ALGORITHM_SPECS: ReadonlyMap<string, AlgorithmSpec> = new Map(([
  spec('HS256', 'HS', 'sha256', { signatureLength: 32, minSecretBytes: 32 }),
  spec('HS384', 'HS', 'sha384', { signatureLength: 48, minSecretBytes: 48 }),
  spec('HS512', 'HS', 'sha512', { signatureLength: 64, minSecretBytes: 64 }),
  spec('RS256', 'RS', 'sha256'),
  spec('RS384', 'RS', 'sha384'),
  spec('RS512', 'RS', 'sha512'),
  spec('PS256', 'PS', 'sha256'),
  spec('PS384', 'PS', 'sha384'),
  spec('PS512', 'PS', 'sha512'),
  spec('ES256', 'ES', 'sha256', { signatureLength: 64, namedCurve: 'prime256v1' }),
  spec('ES384', 'ES', 'sha384', { signatureLength: 96, namedCurve: 'secp384r1' }),
  spec('ES512', 'ES', 'sha512', { signatureLength: 132, namedCurve: 'secp521r1' }),
  spec('EdDSA', 'EdDSA', null, { signatureLength: 64 }),
] satisfies AlgorithmSpec[]).map((entry) => [entry.alg, entry]));

/** Asymmetric JWS algorithms express-m2m verifies, in table order. */
export const ASYMMETRIC_ALGORITHMS: readonly JwsAlgorithm[] = JWS_ALGORITHMS.filter((alg) => ALGORITHM_SPECS.get(alg)!.family !== 'HS');

/** HMAC JWS algorithms, only ever served by a `secret` source. */
export const HMAC_ALGORITHMS: readonly JwsAlgorithm[] = JWS_ALGORITHMS.filter((alg) => ALGORITHM_SPECS.get(alg)!.family === 'HS');

/** Smallest RSA modulus accepted, in bits (RFC 7518 section 3.3 and 3.5). */
export const MIN_RSA_MODULUS_BITS = 2048;

/** Smallest HMAC key per algorithm, in bytes: the hash output size (RFC 7518 section 3.2). */
export const MIN_HMAC_KEY_BYTES: Readonly<Record<string, number>> = Object.freeze(Object.fromEntries(
  HMAC_ALGORITHMS.map((alg) => [alg, ALGORITHM_SPECS.get(alg)!.minSecretBytes!]),
));

/**
 * Why `key` cannot verify `alg`, or `undefined` when it can. The reason is a short phrase for an
 * error description (no key material). The one place that decides key/algorithm fit: key sources
 * use it to pick keys, the verifier to check keys from custom sources.
 */
export function keyMismatch(key: KeyObject, alg: string): string | undefined {
  const spec = ALGORITHM_SPECS.get(alg);
  if (spec === undefined) return `${alg} is not an algorithm express-m2m verifies`;
  if (spec.family === 'HS') {
    const minSecret = spec.minSecretBytes!;
    if (key.type !== 'secret') return `${alg} needs a shared secret, the key is ${describeType(key)}`;
    const bytes = key.symmetricKeySize ?? 0;
    return bytes < minSecret ? `${alg} needs a secret of at least ${minSecret} bytes` : undefined;
  }
  if (key.type !== 'public') return 'not a public key';
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  switch (spec.family) {
    case 'RS':
    case 'PS': {
      // Plain RSA keys only: an RSA-PSS-restricted SPKI key has no JWK form, and jose (which the
      // verifier's differential test holds its signature check to) cannot use one on Node 20.
      if (type !== 'rsa') return `${alg} needs an RSA key, the key is ${describeType(key)}`;
      const bits = details.modulusLength ?? 0;
      if (bits < MIN_RSA_MODULUS_BITS) return `the RSA key has ${bits} bits, fewer than ${MIN_RSA_MODULUS_BITS}`;
      return undefined;
    }
    case 'ES': {
      if (type !== 'ec') return `${alg} needs an EC key, the key is ${describeType(key)}`;
      const wanted = spec.namedCurve;
      if (details.namedCurve !== wanted) return `${alg} needs curve ${curveName(wanted)}, the key is on ${curveName(details.namedCurve)}`;
      return undefined;
    }
    case 'EdDSA':
      return type === 'ed25519' ? undefined : `EdDSA needs an Ed25519 key, the key is ${describeType(key)}`;
  }
}

/**
 * The algorithm to explain why an asymmetric key fits none against: by key type (RSA -> RS256,
 * RSA-PSS -> PS256, EC -> the alg of its curve, else ES256; anything else -> EdDSA).
 */
export function explanatoryAlgorithm(key: KeyObject): JwsAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'rsa': return 'RS256';
    case 'rsa-pss': return 'PS256';
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      return ASYMMETRIC_ALGORITHMS.find((alg) => ALGORITHM_SPECS.get(alg)!.namedCurve === curve) ?? 'ES256';
    }
    default: return 'EdDSA';
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
