/**
 * Mutation tests of verify-signature.ts and algorithms.ts (issue 16): every algorithm of the table
 * verifies its own signature and refuses another input, another key, the signature of a sibling
 * algorithm (another digest, PKCS#1 v1.5 for PSS and back, DER for ES), a PSS salt that is not the
 * digest length, and signatures of the wrong length; and isSymmetric decides which algorithms
 * need a shared secret, through the verifier's options.
 */
import { constants, createSecretKey, randomBytes, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { createVerifier } from 'express-m2m';
import { ALGORITHMS, isSymmetric, PSS_PADDING } from '../../../src/inbound/verifiers/jwt/algorithms.js';
import { verifySignature } from '../../../src/inbound/verifiers/jwt/verify-signature.js';
import { ecPair, ed25519Pair, rawSign, rsaPair, type KeyPair } from './support.js';

const INPUT = Buffer.from('eyJhbGciOiJYIn0.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlLyJ9');
const OTHER_INPUT = Buffer.from('eyJhbGciOiJYIn0.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlLzIifQ');

let rsa: KeyPair;
let otherRsa: KeyPair;
let ec: Record<string, KeyPair>;
let ed: KeyPair;
let secret: KeyObject;
let otherSecret: KeyObject;

beforeAll(() => {
  rsa = rsaPair();
  otherRsa = rsaPair();
  ec = { ES256: ecPair('P-256'), ES384: ecPair('P-384'), ES512: ecPair('P-521') };
  ed = ed25519Pair();
  secret = createSecretKey(randomBytes(64));
  otherSecret = createSecretKey(randomBytes(64));
});

function keysFor(alg: string): { signing: KeyObject; verifying: KeyObject; otherSigning: KeyObject } {
  if (alg.startsWith('HS')) return { signing: secret, verifying: secret, otherSigning: otherSecret };
  if (alg.startsWith('ES')) {
    const pair = ec[alg] as KeyPair;
    return { signing: pair.privateKey, verifying: pair.publicKey, otherSigning: ecPair(alg === 'ES256' ? 'P-256' : alg === 'ES384' ? 'P-384' : 'P-521').privateKey };
  }
  if (alg === 'EdDSA') return { signing: ed.privateKey, verifying: ed.publicKey, otherSigning: ed25519Pair().privateKey };
  return { signing: rsa.privateKey, verifying: rsa.publicKey, otherSigning: otherRsa.privateKey };
}

const spec = (alg: string) => ALGORITHMS.get(alg)!;
const ALL = [...ALGORITHMS.keys()];

describe('verifySignature: each algorithm of the table', () => {
  test.each(ALL)('%s: its own signature verifies; another input or another key does not', (alg) => {
    const { signing, verifying, otherSigning } = keysFor(alg);
    const signature = rawSign(alg, INPUT, signing);
    expect(verifySignature(spec(alg), INPUT, signature, verifying)).toBe(true);
    expect(verifySignature(spec(alg), OTHER_INPUT, signature, verifying)).toBe(false);
    expect(verifySignature(spec(alg), INPUT, rawSign(alg, INPUT, otherSigning), verifying)).toBe(false);
    const flipped = Buffer.from(signature);
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 1) ^ 1, flipped.length - 1);
    expect(verifySignature(spec(alg), INPUT, flipped, verifying)).toBe(false);
  });

  test.each(ALL)('%s: a signature one byte too long or too short, or empty, is refused', (alg) => {
    const { signing, verifying } = keysFor(alg);
    const signature = rawSign(alg, INPUT, signing);
    expect(verifySignature(spec(alg), INPUT, Buffer.concat([signature, Buffer.from([0])]), verifying)).toBe(false);
    expect(verifySignature(spec(alg), INPUT, signature.subarray(0, -1), verifying)).toBe(false);
    expect(verifySignature(spec(alg), INPUT, Buffer.alloc(0), verifying)).toBe(false);
  });

  test.each([
    ['HS256', 'HS384'], ['HS384', 'HS512'], ['HS512', 'HS256'],
    ['RS256', 'RS384'], ['RS384', 'RS512'], ['RS512', 'RS256'],
    ['PS256', 'PS384'], ['PS384', 'PS512'], ['PS512', 'PS256'],
    ['RS256', 'PS256'], ['PS256', 'RS256'], ['RS512', 'PS512'], ['PS512', 'RS512'],
  ])('a %s signature is not a valid %s signature', (signedAs, checkedAs) => {
    const { signing, verifying } = keysFor(signedAs);
    expect(verifySignature(spec(checkedAs), INPUT, rawSign(signedAs, INPUT, signing), verifying)).toBe(false);
  });

  test('the HS signature lengths of the table are the digest lengths (a truncated MAC never verifies)', () => {
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      const mac = rawSign(alg, INPUT, secret);
      expect(spec(alg).signatureLength).toBe(mac.length);
      expect(verifySignature(spec(alg), INPUT, mac.subarray(0, 32), secret)).toBe(alg === 'HS256');
    }
  });

  test('PS*: the salt must be the digest length (RFC 7518 section 3.5), not the maximum or zero', () => {
    for (const alg of ['PS256', 'PS384', 'PS512']) {
      expect(verifySignature(spec(alg), INPUT, rawSign(alg, INPUT, rsa.privateKey), rsa.publicKey)).toBe(true);
      for (const saltLength of [0, constants.RSA_PSS_SALTLEN_MAX_SIGN]) {
        expect(verifySignature(spec(alg), INPUT, rawSign(alg, INPUT, rsa.privateKey, saltLength), rsa.publicKey)).toBe(false);
      }
    }
    expect(PSS_PADDING).toEqual({ padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
    expect(Object.isFrozen(PSS_PADDING)).toBe(true);
  });

  test('ES*: the JWS form (r || s, RFC 7518 section 3.4), never DER', () => {
    for (const alg of ['ES256', 'ES384', 'ES512']) {
      const { signing, verifying } = keysFor(alg);
      const der = cryptoSign(spec(alg).digest as string, INPUT, signing);
      expect(verifySignature(spec(alg), INPUT, der, verifying)).toBe(false);
      expect(verifySignature(spec(alg), INPUT, rawSign(alg, INPUT, signing), verifying)).toBe(true);
    }
  });

  test('a key OpenSSL refuses for the algorithm is an invalid signature, never a throw', () => {
    const signature = rawSign('RS256', INPUT, rsa.privateKey);
    expect(verifySignature(spec('HS256'), INPUT, Buffer.alloc(32), rsa.publicKey)).toBe(false);
    expect(verifySignature(spec('ES256'), INPUT, Buffer.alloc(64), rsa.publicKey)).toBe(false);
    expect(verifySignature(spec('EdDSA'), INPUT, Buffer.alloc(64), rsa.publicKey)).toBe(false);
    expect(verifySignature(spec('RS256'), INPUT, signature, secret)).toBe(false);
    expect(verifySignature(spec('PS256'), INPUT, signature, ed.publicKey)).toBe(false);
  });
});

describe('isSymmetric: only the HS algorithms need a shared secret', () => {
  test('the HS family and nothing else, and an unknown name is not symmetric', () => {
    expect(ALL.filter(isSymmetric)).toEqual(['HS256', 'HS384', 'HS512']);
    expect(isSymmetric('none')).toBe(false);
    expect(isSymmetric('HS1')).toBe(false);
  });

  test('through the verifier options: HS needs "secret", the others cannot use it', () => {
    const base = { issuer: 'https://issuer.example/', audience: 'https://api.example' };
    expect(() => createVerifier({ ...base, publicKey: rsa.publicKey, algorithms: ['HS256'] }))
      .toThrow(/contains HS256, which needs "secret": HS algorithms are never allowed with public keys/);
    expect(() => createVerifier({ ...base, secret: 'x'.repeat(64), algorithms: ['RS256'] }))
      .toThrow(/contains RS256, which cannot be verified with "secret"/);
    expect(createVerifier({ ...base, secret: 'x'.repeat(64), algorithms: ['HS512'] }).options.algorithms).toEqual(['HS512']);
    expect(createVerifier({ ...base, publicKey: rsa.publicKey, algorithms: ['PS256'] }).options.algorithms).toEqual(['PS256']);
  });
});
