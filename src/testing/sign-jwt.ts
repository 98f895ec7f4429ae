/**
 * Internal: compact JWS signing with node's crypto, without any validation of the header, so the
 * local issuer can mint deliberately broken tokens (unknown `crit`, `alg: none`, HS256 signed with
 * a public key's PEM, lying `alg` headers...). jose's signers refuse most of these, rightly.
 */
import { KeyObject, constants, createHmac, createPrivateKey, sign as cryptoSign } from 'node:crypto';
import type { CryptoKey } from 'jose';

/** Anything `sign()` accepts as a key. */
export type AnySigningKey = KeyObject | CryptoKey | Uint8Array | string;

function base64url(input: string | Uint8Array): string {
  return Buffer.from(input).toString('base64url');
}

/** Realm-independent (Jest runs tests in another realm, where `instanceof Uint8Array` fails). */
function isBytes(key: unknown): key is Uint8Array {
  return ArrayBuffer.isView(key);
}

function toKeyObject(key: KeyObject | CryptoKey): KeyObject {
  // Anything that is not a KeyObject must be a (WebCrypto) CryptoKey; KeyObject.from checks it.
  return key instanceof KeyObject ? key : KeyObject.from(key as Parameters<typeof KeyObject.from>[0]);
}

function secretBytes(key: AnySigningKey): Uint8Array {
  if (typeof key === 'string') return Buffer.from(key, 'utf8');
  if (isBytes(key)) return key;
  const keyObject = toKeyObject(key);
  if (keyObject.type === 'secret') return keyObject.export();
  // A public or private key used as an HMAC secret (the HS/RS confusion): its PEM text.
  return Buffer.from(keyObject.export({ type: keyObject.type === 'public' ? 'spki' : 'pkcs8', format: 'pem' }) as string);
}

function asymmetricKey(key: AnySigningKey): KeyObject {
  if (typeof key === 'string') return createPrivateKey(key);
  if (isBytes(key)) throw new TypeError('sign: "key" must be a private key for an asymmetric algorithm, got bytes');
  const keyObject = toKeyObject(key);
  if (keyObject.type !== 'private') throw new TypeError('sign: "key" must be a private key for an asymmetric algorithm');
  return keyObject;
}

/** The algorithm a key naturally signs with: RSA -> RS256, EC by curve, Ed25519 -> EdDSA, bytes -> HS256. */
export function defaultAlgorithmForKey(key: AnySigningKey): string {
  if (typeof key === 'string') {
    if (!key.includes('-----BEGIN')) return 'HS256';
    return defaultAlgorithmForKey(createPrivateKey(key));
  }
  if (isBytes(key)) return 'HS256';
  const keyObject = toKeyObject(key);
  if (keyObject.type === 'secret') return 'HS256';
  switch (keyObject.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'rsa-pss':
      return 'PS256';
    case 'ed25519':
      return 'EdDSA';
    case 'ec': {
      const curve = keyObject.asymmetricKeyDetails?.namedCurve;
      if (curve === 'secp384r1') return 'ES384';
      if (curve === 'secp521r1') return 'ES512';
      return 'ES256';
    }
    default:
      throw new TypeError(`sign: no default algorithm for a ${String(keyObject.asymmetricKeyType)} key; pass "alg"`);
  }
}

function signature(alg: string, input: Buffer, key: AnySigningKey): Buffer {
  const match = /^(HS|RS|PS|ES)(256|384|512)$/.exec(alg);
  if (match) {
    const family = match[1];
    const bits = Number(match[2]);
    const hash = `sha${bits}`;
    if (family === 'HS') return createHmac(hash, secretBytes(key)).update(input).digest();
    const privateKey = asymmetricKey(key);
    if (family === 'RS') return cryptoSign(hash, input, privateKey);
    if (family === 'PS') {
      return cryptoSign(hash, input, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8 });
    }
    return cryptoSign(hash, input, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  }
  if (alg === 'EdDSA' || alg === 'Ed25519') return cryptoSign(null, input, asymmetricKey(key));
  throw new TypeError(`sign: unsupported "alg" ${JSON.stringify(alg)}`);
}

/**
 * Serializes and signs a compact JWS. `signingAlg` picks the signature; the header is written as
 * given (its `alg` may differ, on purpose). `signingAlg: 'none'` gives an empty signature. A string
 * header or payload is encoded as is, so it need not be JSON.
 */
export function signCompactJws(
  header: Record<string, unknown> | string,
  payload: Record<string, unknown> | string,
  signingAlg: string,
  key: AnySigningKey | undefined,
): string {
  // A string is used as the exact bytes of the segment (to sign malformed JSON on purpose).
  const encode = (part: Record<string, unknown> | string): string => base64url(typeof part === 'string' ? part : JSON.stringify(part));
  const input = `${encode(header)}.${encode(payload)}`;
  if (signingAlg === 'none') return `${input}.`;
  if (key === undefined) throw new TypeError(`sign: "key" is required for alg ${signingAlg}`);
  return `${input}.${base64url(signature(signingAlg, Buffer.from(input), key))}`;
}
