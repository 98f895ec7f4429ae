/**
 * The algorithm table and the key-fit rule (src/keys/algorithms.ts), pinned rule by rule for the
 * mutation run (docs/mutation-testing.md): each table row against what Node's crypto produces for
 * that algorithm (RFC 7518), every reason keyMismatch gives, the boundaries (2048-bit RSA, the
 * HMAC secret sizes), and which algorithm explains a key that fits none.
 */
import { createHmac, createSecretKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import {
  ALGORITHM_SPECS, ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, JWS_ALGORITHMS, MIN_HMAC_KEY_BYTES, MIN_RSA_MODULUS_BITS,
  algorithmsForKey, explanatoryAlgorithm, keyMismatch,
} from '../../src/keys/algorithms.js';

const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' });
const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa2047 = generateKeyPairSync('rsa', { modulusLength: 2047 });
const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
const ed25519 = generateKeyPairSync('ed25519');
const ed448 = generateKeyPairSync('ed448');
const x25519 = generateKeyPairSync('x25519');
const secret = (bytes: number): KeyObject => createSecretKey(Buffer.alloc(bytes, 7));

const CURVES: Record<string, { pair: typeof p256; name: string }> = {
  ES256: { pair: p256, name: 'prime256v1' },
  ES384: { pair: p384, name: 'secp384r1' },
  ES512: { pair: p521, name: 'secp521r1' },
};

describe('the table: each row as RFC 7518 defines the algorithm', () => {
  test('the list, and the split into HMAC and asymmetric algorithms in table order', () => {
    expect([...ALGORITHM_SPECS.keys()]).toEqual([...JWS_ALGORITHMS]);
    expect(HMAC_ALGORITHMS).toEqual(JWS_ALGORITHMS.filter((alg) => alg.startsWith('HS')));
    expect(ASYMMETRIC_ALGORITHMS).toEqual(JWS_ALGORITHMS.filter((alg) => !alg.startsWith('HS')));
    expect(JWS_ALGORITHMS).not.toContain('none');
    for (const alg of JWS_ALGORITHMS) expect(ALGORITHM_SPECS.get(alg)!.alg).toBe(alg);
  });

  test('family and digest follow the name (EdDSA has its digest built in)', () => {
    for (const alg of JWS_ALGORITHMS) {
      const spec = ALGORITHM_SPECS.get(alg)!;
      if (alg === 'EdDSA') {
        expect(spec.family).toBe('EdDSA');
        expect(spec.digest).toBeNull();
      } else {
        expect(spec.family).toBe(alg.slice(0, 2));
        expect(spec.digest).toBe(`sha${alg.slice(2)}`);
      }
      expect(Object.isFrozen(spec)).toBe(true);
    }
  });

  test('HS*: the signature is the HMAC output, and the smallest secret is as long', () => {
    for (const alg of HMAC_ALGORITHMS) {
      const spec = ALGORITHM_SPECS.get(alg)!;
      const mac = createHmac(spec.digest!, 'k').update('x').digest();
      expect(spec.signatureLength).toBe(mac.length);
      expect(spec.minSecretBytes).toBe(mac.length);
      expect(MIN_HMAC_KEY_BYTES[alg]).toBe(mac.length);
      expect(spec.namedCurve).toBeUndefined();
    }
    expect(Object.keys(MIN_HMAC_KEY_BYTES)).toEqual([...HMAC_ALGORITHMS]);
  });

  test('ES*: the curve, and the length of an IEEE P1363 signature on it', () => {
    for (const [alg, { pair, name }] of Object.entries(CURVES)) {
      const spec = ALGORITHM_SPECS.get(alg)!;
      expect(spec.namedCurve).toBe(name);
      expect(pair.publicKey.asymmetricKeyDetails!.namedCurve).toBe(name);
      const signature = sign(spec.digest, Buffer.from('x'), { key: pair.privateKey, dsaEncoding: 'ieee-p1363' });
      expect(spec.signatureLength).toBe(signature.length);
      expect(verify(spec.digest, Buffer.from('x'), { key: pair.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
      expect(spec.minSecretBytes).toBeUndefined();
    }
  });

  test('EdDSA: a 64-byte Ed25519 signature; RS*/PS*: no fixed length, no curve, no secret size', () => {
    expect(ALGORITHM_SPECS.get('EdDSA')!.signatureLength).toBe(sign(null, Buffer.from('x'), ed25519.privateKey).length);
    for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']) {
      expect(ALGORITHM_SPECS.get(alg)).toMatchObject({ signatureLength: undefined, namedCurve: undefined, minSecretBytes: undefined });
    }
    expect(MIN_RSA_MODULUS_BITS).toBe(2048);
  });
});

describe('keyMismatch: every reason, and the boundaries', () => {
  test('an algorithm not in the table', () => {
    expect(keyMismatch(p256.publicKey, 'none')).toBe('none is not an algorithm express-m2m verifies');
    expect(keyMismatch(secret(64), 'HS1')).toBe('HS1 is not an algorithm express-m2m verifies');
  });

  test('HS*: only a secret, of at least the hash size', () => {
    expect(keyMismatch(p256.publicKey, 'HS256')).toBe('HS256 needs a shared secret, the key is EC P-256');
    expect(keyMismatch(rsa.privateKey, 'HS384')).toBe('HS384 needs a shared secret, the key is RSA');
    for (const [alg, bytes] of [['HS256', 32], ['HS384', 48], ['HS512', 64]] as const) {
      expect(keyMismatch(secret(bytes), alg)).toBeUndefined();
      expect(keyMismatch(secret(bytes - 1), alg)).toBe(`${alg} needs a secret of at least ${bytes} bytes`);
    }
  });

  test('an asymmetric alg: a secret or a private key is not a public key', () => {
    expect(keyMismatch(secret(64), 'RS256')).toBe('not a public key');
    expect(keyMismatch(p256.privateKey, 'ES256')).toBe('not a public key');
    expect(keyMismatch(ed25519.privateKey, 'EdDSA')).toBe('not a public key');
  });

  test('RS*/PS*: a plain RSA key of 2048 bits or more', () => {
    for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']) {
      expect(keyMismatch(rsa.publicKey, alg)).toBeUndefined();
      expect(keyMismatch(rsa2047.publicKey, alg)).toBe('the RSA key has 2047 bits, fewer than 2048');
      expect(keyMismatch(pss.publicKey, alg)).toBe(`${alg} needs an RSA key, the key is RSA-PSS`);
      expect(keyMismatch(p384.publicKey, alg)).toBe(`${alg} needs an RSA key, the key is EC P-384`);
      expect(keyMismatch(ed25519.publicKey, alg)).toBe(`${alg} needs an RSA key, the key is Ed25519`);
    }
  });

  test('ES*: an EC key on the curve of the alg', () => {
    expect(keyMismatch(p256.publicKey, 'ES256')).toBeUndefined();
    expect(keyMismatch(p384.publicKey, 'ES384')).toBeUndefined();
    expect(keyMismatch(p521.publicKey, 'ES512')).toBeUndefined();
    expect(keyMismatch(p256.publicKey, 'ES384')).toBe('ES384 needs curve P-384, the key is on P-256');
    expect(keyMismatch(p384.publicKey, 'ES512')).toBe('ES512 needs curve P-521, the key is on P-384');
    expect(keyMismatch(p521.publicKey, 'ES256')).toBe('ES256 needs curve P-256, the key is on P-521');
    expect(keyMismatch(k1.publicKey, 'ES256')).toBe('ES256 needs curve P-256, the key is on secp256k1');
    expect(keyMismatch(rsa.publicKey, 'ES256')).toBe('ES256 needs an EC key, the key is RSA');
    expect(keyMismatch(x25519.publicKey, 'ES512')).toBe('ES512 needs an EC key, the key is x25519');
  });

  test('EdDSA: an Ed25519 key only', () => {
    expect(keyMismatch(ed25519.publicKey, 'EdDSA')).toBeUndefined();
    expect(keyMismatch(ed448.publicKey, 'EdDSA')).toBe('EdDSA needs an Ed25519 key, the key is ed448');
    expect(keyMismatch(p521.publicKey, 'EdDSA')).toBe('EdDSA needs an Ed25519 key, the key is EC P-521');
    expect(keyMismatch(pss.publicKey, 'EdDSA')).toBe('EdDSA needs an Ed25519 key, the key is RSA-PSS');
  });
});

describe('algorithmsForKey and explanatoryAlgorithm', () => {
  test('the algorithms a key fits, in table order', () => {
    expect(algorithmsForKey(rsa.publicKey)).toEqual(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']);
    expect(algorithmsForKey(p256.publicKey)).toEqual(['ES256']);
    expect(algorithmsForKey(p384.publicKey)).toEqual(['ES384']);
    expect(algorithmsForKey(p521.publicKey)).toEqual(['ES512']);
    expect(algorithmsForKey(ed25519.publicKey)).toEqual(['EdDSA']);
    expect(algorithmsForKey(secret(64))).toEqual([]);
    for (const key of [rsa2047.publicKey, pss.publicKey, k1.publicKey, ed448.publicKey, x25519.publicKey, rsa.privateKey]) {
      expect(algorithmsForKey(key)).toEqual([]);
    }
  });

  test('the algorithm that explains a key: by its type, an EC key by its curve', () => {
    expect(explanatoryAlgorithm(rsa2047.publicKey)).toBe('RS256');
    expect(explanatoryAlgorithm(pss.publicKey)).toBe('PS256');
    expect(explanatoryAlgorithm(p256.publicKey)).toBe('ES256');
    expect(explanatoryAlgorithm(p384.publicKey)).toBe('ES384');
    expect(explanatoryAlgorithm(p521.publicKey)).toBe('ES512');
    expect(explanatoryAlgorithm(k1.publicKey)).toBe('ES256');
    expect(explanatoryAlgorithm(ed448.publicKey)).toBe('EdDSA');
    expect(explanatoryAlgorithm(x25519.publicKey)).toBe('EdDSA');
  });
});
