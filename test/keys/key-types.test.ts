/**
 * Key sources load every supported key type, serve it only for the algorithms it fits, and keep
 * symmetric and asymmetric algorithms apart (no HS/RS confusion).
 */
import { createPublicKey, createSecretKey, generateKeyPairSync, KeyObject, X509Certificate } from 'node:crypto';
import { compactVerify } from 'jose';
import { InvalidTokenError, KEY_ERROR_CODES } from 'express-m2m';
import { createKeySource } from 'express-m2m/extend';
import { createLocalIssuer, type LocalIssuer, type LocalIssuerAlgorithm } from 'express-m2m/testing';
import { selectorOf, settle } from './support.js';

const ALL: LocalIssuerAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

let issuer: LocalIssuer;
const kids = new Map<LocalIssuerAlgorithm, string>();

beforeAll(async () => {
  issuer = await createLocalIssuer({ alg: 'RS256' });
  for (const alg of ALL) kids.set(alg, issuer.currentKid(alg) ?? issuer.addKey(alg));
});
afterAll(async () => {
  await issuer.close();
});

describe('a remote JWKS serves every asymmetric algorithm (RS, PS, ES, EdDSA)', () => {
  test.each(ALL)('%s: the key from the JWKS verifies a token the issuer signed', async (alg) => {
    const source = createKeySource({ jwksUri: issuer.jwksUri });
    const token = await issuer.sign({ sub: 'client@clients' }, { alg, kid: kids.get(alg) });
    expect(selectorOf(token)).toEqual({ alg, kid: kids.get(alg) });
    const key = await source.getKey(selectorOf(token));
    expect(key).toBeInstanceOf(KeyObject);
    await expect(compactVerify(token, key)).resolves.toBeDefined();
  });

  test('algorithms are all the asymmetric ones, never HS or none', () => {
    const source = createKeySource({ jwksUri: issuer.jwksUri });
    expect([...source.algorithms].sort()).toEqual([...ALL].sort());
  });

  test('keys without "alg" in the JWK are served by what their type fits', async () => {
    const jwks = issuer.publicJwks();
    const stripped = { keys: jwks.keys.map(({ alg: _alg, use: _use, ...rest }) => rest) };
    const local = await createLocalIssuer();
    try {
      local.setFault('jwks', { body: JSON.stringify(stripped) });
      const source = createKeySource({ jwksUri: local.jwksUri });
      const rsaKid = kids.get('RS256')!;
      for (const alg of ['RS256', 'RS512', 'PS384'] as const) {
        expect((await settle(source, { alg, kid: rsaKid })).key?.asymmetricKeyType).toBe('rsa');
      }
      expect((await settle(source, { alg: 'ES384', kid: kids.get('ES384') })).key?.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
      const wrongCurve = await settle(source, { alg: 'ES256', kid: kids.get('ES384') });
      expect(wrongCurve.error?.message).toBe(`the key with kid '${kids.get('ES384')}' cannot verify alg ES256: ES256 needs curve P-256, the key is on P-384`);
    } finally {
      await local.close();
    }
  });
});

describe('a key is served only for the algorithms it fits (alg/key mismatch rejected)', () => {
  const cases: [string, LocalIssuerAlgorithm, string][] = [
    ['RSA key for ES256', 'RS256', 'ES256'],
    ['EC P-256 key for ES384', 'ES256', 'ES384'],
    ['EC P-521 key for ES256', 'ES512', 'ES256'],
    ['Ed25519 key for ES256', 'EdDSA', 'ES256'],
    ['EC key for RS256', 'ES256', 'RS256'],
    ['RS256-declared key for PS256', 'RS256', 'PS256'],
    ['RS256-declared key for RS512', 'RS256', 'RS512'],
  ];
  test.each(cases)('%s is rejected', async (_name, keyAlg, tokenAlg) => {
    const source = createKeySource({ jwksUri: issuer.jwksUri });
    const { error } = await settle(source, { alg: tokenAlg, kid: kids.get(keyAlg) });
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error?.code).toBe(KEY_ERROR_CODES.keyAlgMismatch);
    expect(error?.status).toBe(401);
  });

  test('HS256 is never served by a JWKS, whatever the kid (HS/RS confusion)', async () => {
    const source = createKeySource({ jwksUri: issuer.jwksUri });
    issuer.resetCounts();
    expect(() => source.getKey({ alg: 'HS256', kid: kids.get('RS256') })).toThrow(InvalidTokenError);
    expect(() => source.getKey({ alg: 'none' })).toThrow(expect.objectContaining({ code: KEY_ERROR_CODES.algNotSupported }));
    expect(issuer.counts.jwks).toBe(0);
  });

  test('HS256 is never served by a static RSA public key', () => {
    const source = createKeySource({ publicKey: issuer.publicKeyPem(kids.get('RS256')) });
    expect(() => source.getKey({ alg: 'HS256' })).toThrow(expect.objectContaining({ code: KEY_ERROR_CODES.algNotSupported }));
  });

  test('a secret never serves an asymmetric algorithm', () => {
    const source = createKeySource({ secret: 'x'.repeat(64) });
    expect(() => source.getKey({ alg: 'RS256' })).toThrow(expect.objectContaining({ code: KEY_ERROR_CODES.algNotSupported }));
    expect(() => source.getKey({ alg: 'EdDSA' })).toThrow(InvalidTokenError);
  });

  test('RSA keys under 2048 bits are not used', async () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    expect(() => createKeySource({ publicKey: small.publicKey })).toThrow('"publicKey" cannot be used to verify tokens: the RSA key has 1024 bits, fewer than 2048');
  });

  test('a JWK whose "use" is "enc" or whose key_ops lack "verify" is not used', () => {
    const jwk = issuer.publicJwks().keys.find((key) => key.kid === kids.get('ES256'))!;
    expect(() => createKeySource({ publicKey: { ...jwk, use: 'enc' } })).toThrow('"publicKey" cannot be used to verify tokens: "use" is not "sig"');
    expect(() => createKeySource({ publicKey: { ...jwk, key_ops: ['encrypt'] } })).toThrow('"key_ops" does not include "verify"');
    expect(createKeySource({ publicKey: { ...jwk, key_ops: ['verify'] } }).algorithms).toEqual(['ES256']);
  });

  test('a JWK whose "issuer" member (Entra ID names each key\'s issuer) is not a string is not used', () => {
    const jwk = issuer.publicJwks().keys.find((key) => key.kid === kids.get('ES256'))!;
    expect(() => createKeySource({ publicKey: { ...jwk, issuer: 42 } as never })).toThrow('"publicKey" cannot be used to verify tokens: "issuer" is not a string');
    expect(createKeySource({ publicKey: { ...jwk, issuer: 'https://login.example/{tenantid}/v2.0' } as never }).algorithms).toEqual(['ES256']);
  });
});

describe('a static public key: PEM (SPKI, PKCS#1, certificate), JWK, JWK Set or KeyObject', () => {
  test.each(ALL)('%s from an SPKI PEM verifies and serves exactly what the key type fits', async (alg) => {
    const source = createKeySource({ publicKey: issuer.publicKeyPem(kids.get(alg)) });
    const expected = alg.startsWith('RS') || alg.startsWith('PS')
      ? ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
      : [alg];
    expect(source.algorithms).toEqual(expected);
    const token = await issuer.sign({ sub: 's' }, { alg, kid: kids.get(alg) });
    // A PEM has no kid: any kid in the token is accepted.
    await expect(compactVerify(token, source.getKey(selectorOf(token)) as KeyObject)).resolves.toBeDefined();
  });

  test('PKCS#1 "RSA PUBLIC KEY" PEM', () => {
    const pkcs1 = createPublicKey(issuer.publicKeyPem(kids.get('RS256'))).export({ type: 'pkcs1', format: 'pem' }) as string;
    expect(pkcs1).toContain('BEGIN RSA PUBLIC KEY');
    expect(createKeySource({ publicKey: pkcs1 }).algorithms).toContain('RS256');
  });

  test('an X.509 certificate PEM (its public key is used)', () => {
    // A self-signed P-384 certificate made with openssl for this test (no private key kept anywhere).
    const certificate = [
      '-----BEGIN CERTIFICATE-----',
      'MIIByjCCAVCgAwIBAgIUDTTvKF2appvgCeYB61VtJmrOp78wCgYIKoZIzj0EAwIw',
      'GzEZMBcGA1UEAwwQZXhwcmVzcy1tMm0gdGVzdDAgFw0yNjExMjIxMDM2NDZaGA8y',
      'MTI2MTAyOTEwMzY0NlowGzEZMBcGA1UEAwwQZXhwcmVzcy1tMm0gdGVzdDB2MBAG',
      'ByqGSM49AgEGBSuBBAAiA2IABA0mzridHuwwr39h0zAsMkB0zh/EZ+aj78fjGip4',
      'XgaeukvyW+eOE04O7poao0KWm04Jvc/TkKYgGU/yvcrP7C6RNr4k9HjBp5Pj41NP',
      'uWFFO8ufPS75mSEyF7ZeZe5G3aNTMFEwHQYDVR0OBBYEFOqNmKqSDaTK3HuOChta',
      'ViNgrhrUMB8GA1UdIwQYMBaAFOqNmKqSDaTK3HuOChtaViNgrhrUMA8GA1UdEwEB',
      '/wQFMAMBAf8wCgYIKoZIzj0EAwIDaAAwZQIxAPlT//Mx/F+yekwNgt8FTglPBDTg',
      'tD/SXtDm/eG3rJTctJoZTZ8ne8JqlQiRimNUdwIwFTJy7MzYJtKL4h55VDC+HY0B',
      'qF14w6ewwEv6ca3t5pEWTFFhJ4vAWk0k4WNu/kQa',
      '-----END CERTIFICATE-----',
    ].join('\n');
    const source = createKeySource({ publicKey: certificate });
    expect(source.algorithms).toEqual(['ES384']);
    expect((source.getKey({ alg: 'ES384', kid: 'any' }) as KeyObject).equals(new X509Certificate(certificate).publicKey)).toBe(true);
  });

  test('a JWK with a kid matches only that kid; without a kid in the token it is used', async () => {
    const jwk = issuer.publicJwks().keys.find((key) => key.kid === kids.get('ES256'))!;
    const source = createKeySource({ publicKey: jwk });
    expect(source.getKey({ alg: 'ES256', kid: kids.get('ES256') })).toBeInstanceOf(KeyObject);
    expect(source.getKey({ alg: 'ES256' })).toBeInstanceOf(KeyObject);
    expect(() => source.getKey({ alg: 'ES256', kid: 'other' })).toThrow(expect.objectContaining({ code: KEY_ERROR_CODES.noMatchingKey }));
  });

  test('a JWK Set selects by kid, also given as a JSON string', async () => {
    for (const publicKey of [issuer.publicJwks(), JSON.stringify(issuer.publicJwks())]) {
      const source = createKeySource({ publicKey });
      expect([...source.algorithms].sort()).toEqual([...ALL].sort());
      for (const alg of ['PS512', 'ES512', 'EdDSA'] as const) {
        const token = await issuer.sign({ sub: 's' }, { alg, kid: kids.get(alg) });
        await expect(compactVerify(token, source.getKey(selectorOf(token)) as KeyObject)).resolves.toBeDefined();
      }
      expect(() => source.getKey({ alg: 'RS256', kid: 'nope' })).toThrow("no key in the configured public key(s) matches kid 'nope'");
    }
  });

  test('a public KeyObject; an RSA-PSS-restricted key is refused at construction (the verifier could not use it)', () => {
    expect(createKeySource({ publicKey: createPublicKey(issuer.publicKeyPem(kids.get('EdDSA'))) }).algorithms).toEqual(['EdDSA']);
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048, hashAlgorithm: 'sha384', mgf1HashAlgorithm: 'sha384' });
    expect(() => createKeySource({ publicKey: pss.publicKey })).toThrow(/"publicKey"/);
  });

  test('private keys and secret keys are refused at construction', () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    expect(() => createKeySource({ publicKey: pair.privateKey })).toThrow('"publicKey" is a private key');
    expect(() => createKeySource({ publicKey: issuer.privateKey(kids.get('ES256')) })).toThrow('"publicKey" is a private key');
    expect(() => createKeySource({ publicKey: createSecretKey(Buffer.alloc(32)) })).toThrow('"publicKey" is a secret key: use the "secret" option');
    const privateJwk = issuer.privateKey(kids.get('ES256')).export({ format: 'jwk' });
    expect(() => createKeySource({ publicKey: privateJwk })).toThrow('it contains private key material');
    let thrown: unknown;
    try {
      createKeySource({ publicKey: pair.privateKey });
    } catch (error) {
      thrown = error;
    }
    expect(String(thrown)).not.toContain('MII');
  });
});

describe('a shared secret serves HS256/384/512 as long as it is long enough (RFC 7518 section 3.2)', () => {
  test('32 bytes: HS256 only; 48: also HS384; 64: all three', () => {
    expect(createKeySource({ secret: 'a'.repeat(32) }).algorithms).toEqual(['HS256']);
    expect(createKeySource({ secret: new Uint8Array(48) }).algorithms).toEqual(['HS256', 'HS384']);
    expect(createKeySource({ secret: 'b'.repeat(64) }).algorithms).toEqual(['HS256', 'HS384', 'HS512']);
  });

  test('the key is a secret KeyObject of the given bytes, the same object on every call', () => {
    const source = createKeySource({ secret: 'c'.repeat(40) });
    const key = source.getKey({ alg: 'HS256' }) as KeyObject;
    expect(key.type).toBe('secret');
    expect(key.export().toString()).toBe('c'.repeat(40));
    expect(source.getKey({ alg: 'HS256', kid: 'whatever' })).toBe(key);
  });

  test('HS512 with a 32-byte secret is a key/alg mismatch without revealing the secret', () => {
    const source = createKeySource({ secret: 'd'.repeat(32) });
    expect(() => source.getKey({ alg: 'HS512' })).toThrow(expect.objectContaining({ code: KEY_ERROR_CODES.keyAlgMismatch }));
    try {
      source.getKey({ alg: 'HS512' });
    } catch (error) {
      expect((error as Error).message).not.toContain('ddd');
    }
  });

  test('a secret shorter than 32 bytes is refused at construction', () => {
    expect(() => createKeySource({ secret: 'too-short' })).toThrow('"secret" must be at least 32 bytes (256 bits) for HS256 (RFC 7518 section 3.2), got 9');
  });
});
