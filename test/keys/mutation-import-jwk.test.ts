/**
 * importJwk, the rules the mutation run (docs/mutation-testing.md) found unpinned: every private
 * member on its own, the truncation of a hostile `alg` / `kty` in the reason, and the keys that
 * fit no supported algorithm (too small, another curve, another OKP type).
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { importJwk, type KeyEntry } from '../../src/keys/import-jwk.js';

const ecJwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
const rsaJwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
const smallRsaJwk = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
const k1Jwk = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
const ed25519Jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
const ed448Jwk = generateKeyPairSync('ed448').publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
const x25519Jwk = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }) as Record<string, unknown>;

function reason(jwk: unknown): string | undefined {
  const imported = importJwk(jwk);
  return imported.ok ? undefined : imported.reason;
}

function entry(jwk: Record<string, unknown>): KeyEntry {
  const imported = importJwk(jwk);
  if (!imported.ok) throw new Error(imported.reason);
  return imported.entry;
}

describe('importJwk: each private member on its own refuses the key', () => {
  test.each(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'])('an RSA public key with "%s"', (member) => {
    expect(importJwk({ ...rsaJwk, kid: 'r', [member]: 'AAAA' })).toEqual({ ok: false, kid: 'r', reason: 'it contains private key material' });
  });

  test.each(['d', 'k'])('an EC public key with "%s"', (member) => {
    expect(reason({ ...ecJwk, [member]: 'AAAA' })).toBe('it contains private key material');
  });

  test('a member set to null counts as present; the same key without them is used', () => {
    expect(reason({ ...rsaJwk, qi: null })).toBe('it contains private key material');
    expect(reason(rsaJwk)).toBeUndefined();
  });
});

describe('importJwk: a hostile alg or kty is cut short in the reason', () => {
  test('an unsupported alg: its first 20 characters, JSON-quoted', () => {
    expect(reason({ ...ecJwk, alg: 'X'.repeat(25) })).toBe(`"alg" "${'X'.repeat(20)}" is not a signature algorithm express-m2m verifies`);
    expect(reason({ ...ecJwk, alg: 'none' })).toBe('"alg" "none" is not a signature algorithm express-m2m verifies');
    expect(reason({ ...ecJwk, alg: 'a"b' })).toBe('"alg" "a\\"b" is not a signature algorithm express-m2m verifies');
  });

  test('a kty the runtime cannot import: its first 10 characters', () => {
    expect(reason({ ...ecJwk, kty: 'EC-with-a-long-name' })).toBe('it is not a valid EC-with-a- public key');
    expect(reason({ ...rsaJwk, n: 'AA' , e: undefined })).toBe('it is not a valid RSA public key');
  });
});

describe('importJwk: a key that fits no supported algorithm says why, with the alg of its type', () => {
  test.each([
    ['a 1024-bit RSA key', smallRsaJwk, 'it fits no supported algorithm: the RSA key has 1024 bits, fewer than 2048'],
    ['an EC key on secp256k1', k1Jwk, 'it fits no supported algorithm: ES256 needs curve P-256, the key is on secp256k1'],
    ['an Ed448 key', ed448Jwk, 'it fits no supported algorithm: EdDSA needs an Ed25519 key, the key is ed448'],
    ['an X25519 key', x25519Jwk, 'it fits no supported algorithm: EdDSA needs an Ed25519 key, the key is x25519'],
  ])('%s', (_name, jwk, why) => {
    expect(importJwk({ ...jwk, kid: 'n' })).toEqual({ ok: false, kid: 'n', reason: why });
  });

  test('a declared alg the key is too small for: the mismatch, not the "fits no algorithm" reason', () => {
    expect(reason({ ...smallRsaJwk, alg: 'RS256' })).toBe('its "alg" RS256 does not fit the key: the RSA key has 1024 bits, fewer than 2048');
    expect(reason({ ...k1Jwk, alg: 'ES256' })).toBe('its "alg" ES256 does not fit the key: ES256 needs curve P-256, the key is on secp256k1');
  });
});

describe('importJwk: what a usable entry holds', () => {
  test('the imported key itself, its algorithms and its issuer', () => {
    const ed = entry({ ...ed25519Jwk, kid: 'e', issuer: 'https://i.example/' });
    expect(ed.key.equals(createPublicKey({ key: ed25519Jwk as never, format: 'jwk' }))).toBe(true);
    expect(ed.key.type).toBe('public');
    expect([...ed.algorithms]).toEqual(['EdDSA']);
    expect(ed).toMatchObject({ kid: 'e', declaredAlg: undefined, issuer: 'https://i.example/' });
  });

  test('key_ops may list other operations next to verify; use sig is fine', () => {
    expect(reason({ ...ecJwk, key_ops: ['sign', 'verify'], use: 'sig' })).toBeUndefined();
    expect(reason({ ...ecJwk, key_ops: [] })).toBe('"key_ops" does not include "verify"');
  });

  test('a declared alg narrows the entry to it, and the imported key still verifies', () => {
    const declared = entry({ ...rsaJwk, alg: 'RS512' });
    expect([...declared.algorithms]).toEqual(['RS512']);
    expect(declared.declaredAlg).toBe('RS512');
    expect(declared.key.asymmetricKeyType).toBe('rsa');
  });

  test('a kid that is null is not a string; a string kid of a usable key is kept', () => {
    expect(importJwk({ ...ecJwk, kid: null })).toEqual({ ok: false, kid: undefined, reason: '"kid" is not a string' });
    expect(entry({ ...ecJwk, kid: '' }).kid).toBe('');
  });
});
