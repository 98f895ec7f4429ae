/**
 * One algorithm table (src/keys/algorithms.ts) for key sources and the verifier: every algorithm
 * the verifier allowlists is one a key can be matched to, so an allowlisted alg always can verify.
 */
import { createVerifier, type VerifierOptions } from 'express-m2m';
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, keyMismatch } from '../../../src/keys/algorithms.js';
import { ALGORITHMS } from '../../../src/inbound/verifiers/jwt/algorithms.js';
import { ed25519Pair, FixedKeySource } from './support.js';

describe('the verifier supports exactly the algorithms key sources can match (A6, C2)', () => {
  test('"Ed25519" (a curve, not a JWS alg the key rules know) cannot be allowlisted', () => {
    const keySource = new FixedKeySource(new Map([['*', ed25519Pair().publicKey]]), ['EdDSA', 'Ed25519']);
    const make = () => createVerifier({
      issuer: 'https://issuer.example/', audience: 'https://api.example', keySource, algorithms: ['Ed25519'],
    } as unknown as VerifierOptions);
    expect(make).toThrow(/"algorithms" contains unsupported algorithm "Ed25519"/);
  });

  test('the verifier table is the keys table: same names, and each fits a key of its kind', () => {
    expect([...ALGORITHMS.keys()].sort()).toEqual([...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS].sort());
    const ed = ed25519Pair().publicKey;
    expect(keyMismatch(ed, 'EdDSA')).toBeUndefined();
    for (const alg of ALGORITHMS.keys()) {
      // every alg is known to the fit rule (no "is not an algorithm express-m2m verifies")
      expect(keyMismatch(ed, alg) ?? '').not.toMatch(/is not an algorithm express-m2m verifies/);
    }
  });
});
