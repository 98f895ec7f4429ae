/**
 * Test support for the verification tests: keys made once per file (PEM, then imported: see
 * TOOLCHAIN.md about JWK export of fresh keys), a key source over fixed keys that implements the
 * KeySource contract honestly (tests of the real JWKS source use the local issuer), and a signer
 * that builds compact JWS from raw header and payload bytes with node:crypto, so tokens jose's
 * signers refuse to make (BOM, invalid UTF-8, wrong salt length, lying alg) can be made.
 */
import {
  constants,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  randomBytes,
  sign as cryptoSign,
  type KeyObject,
} from 'node:crypto';
import type { KeySource, KeySelector } from '../../../src/keys/types.js';
import type { JwsAlgorithm } from '../../../src/keys/algorithms.js';
import { InvalidTokenError } from '../../../src/errors/bearer-errors.js';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}


function pair(generated: { publicKey: string; privateKey: string }): KeyPair {
  return { privateKey: createPrivateKey(generated.privateKey), publicKey: createPublicKey(generated.publicKey) };
}

export function rsaPair(bits = 2048): KeyPair {
  return pair(generateKeyPairSync('rsa', { modulusLength: bits, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }));
}
export function ecPair(namedCurve: 'P-256' | 'P-384' | 'P-521'): KeyPair {
  return pair(generateKeyPairSync('ec', { namedCurve, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }));
}
export function ed25519Pair(): KeyPair {
  return pair(generateKeyPairSync('ed25519', { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }));
}
export function secretKey(bytes: number): KeyObject {
  return createSecretKey(randomBytes(bytes));
}

export const ALL_ALGORITHMS: JwsAlgorithm[] = [
  'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA',
];

/** A KeySource over fixed keys: by kid when given, else by alg; unknown -> InvalidTokenError. */
export class FixedKeySource implements KeySource {
  generation = 1;
  calls: KeySelector[] = [];
  asyncKeys = false;
  constructor(
    public keys: Map<string, KeyObject>,
    readonly algorithms: readonly string[] = ALL_ALGORITHMS,
  ) {}
  getKey(selector: KeySelector): KeyObject | Promise<KeyObject> {
    this.calls.push(selector);
    const key = this.keys.get(selector.kid ?? selector.alg) ?? this.keys.get('*');
    if (key === undefined) throw new InvalidTokenError('no key for this token', 'ERR_JWKS_NO_MATCHING_KEY');
    return this.asyncKeys ? Promise.resolve(key) : key;
  }
  async warmUp(): Promise<void> {}
  close(): void {}
}

export function b64u(input: string | Uint8Array): string {
  return Buffer.from(input).toString('base64url');
}

const DIGEST: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/** The raw signature of `input` for `alg` with node:crypto (the signing side only). */
export function rawSign(alg: string, input: Uint8Array, key: KeyObject, pssSaltLength?: number): Buffer {
  const digest = DIGEST[alg.slice(-3)];
  switch (alg.slice(0, 2)) {
    case 'HS': return createHmac(digest as string, key).update(input).digest();
    case 'RS': return cryptoSign(digest as string, input, key);
    case 'PS': return cryptoSign(digest as string, input, {
      key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pssSaltLength ?? constants.RSA_PSS_SALTLEN_DIGEST,
    });
    case 'ES': return cryptoSign(digest as string, input, { key, dsaEncoding: 'ieee-p1363' });
    default: return cryptoSign(null, input, key);
  }
}

/** A compact JWS over raw header and payload bytes (or objects, JSON-encoded). */
export function signRaw(
  alg: string,
  key: KeyObject,
  header: object | Uint8Array,
  payload: object | Uint8Array,
  pssSaltLength?: number,
): string {
  const h = b64u(header instanceof Uint8Array || Buffer.isBuffer(header) ? header : JSON.stringify(header));
  const p = b64u(payload instanceof Uint8Array || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload));
  return `${h}.${p}.${b64u(rawSign(alg, Buffer.from(`${h}.${p}`), key, pssSaltLength))}`;
}

/** Calls `fn` and returns its result or the error it threw or rejected with. */
export async function settle<T>(fn: () => T | Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}
