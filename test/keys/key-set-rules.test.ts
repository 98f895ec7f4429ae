/**
 * The key-selection rules, unit by unit (importJwk, KeySet): which JWKs are used and why the
 * others are left out, how a token's kid and alg pick a key, a lone static key, and a JWK's own
 * `issuer`. The JWKS end-to-end suites check the same through HTTP; these pin each rule where it
 * lives (and keep the mutation run, docs/mutation-testing.md, fast).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { importJwk, type KeyEntry } from '../../src/keys/import-jwk.js';
import { KeySet } from '../../src/keys/key-set.js';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
const ecJwk = ec.export({ format: 'jwk' }) as Record<string, unknown>;
const rsaJwk = rsa.export({ format: 'jwk' }) as Record<string, unknown>;

function reason(jwk: unknown): string | undefined {
  const imported = importJwk(jwk);
  return imported.ok ? undefined : imported.reason;
}

/** The lookup found `key` (KeyObjects compare with equals(), not deep equality). */
function expectFound(lookup: ReturnType<KeySet['lookup']>, key: KeyObject): void {
  expect(lookup.status).toBe('found');
  expect(lookup.status === 'found' && lookup.key.equals(key)).toBe(true);
}

function entry(jwk: Record<string, unknown>): KeyEntry {
  const imported = importJwk(jwk);
  if (!imported.ok) throw new Error(imported.reason);
  return imported.entry;
}

describe('importJwk: what a JWK says about itself decides whether it is used', () => {
  test.each([
    ['null', null, 'not a JSON object'],
    ['a string', 'a key', 'not a JSON object'],
    ['an array', [ecJwk], 'not a JSON object'],
    ['a numeric kid', { ...ecJwk, kid: 7 }, '"kid" is not a string'],
    ['no kty', { ...ecJwk, kty: undefined }, '"kty" is missing'],
    ['a symmetric key', { kty: 'oct', k: 'c2VjcmV0' }, 'a symmetric key (kty "oct") is never used from a public key set'],
    ['private material', { ...ecJwk, d: 'AAAA' }, 'it contains private key material'],
    ['use enc', { ...ecJwk, use: 'enc' }, '"use" is not "sig"'],
    ['key_ops not an array', { ...ecJwk, key_ops: 'verify' }, '"key_ops" is not an array'],
    ['key_ops without verify', { ...ecJwk, key_ops: ['sign'] }, '"key_ops" does not include "verify"'],
    ['a numeric alg', { ...ecJwk, alg: 256 }, '"alg" is not a string'],
    ['an unsupported alg', { ...ecJwk, alg: 'HS256' }, '"alg" "HS256" is not a signature algorithm express-m2m verifies'],
    ['a numeric issuer', { ...ecJwk, issuer: 1 }, '"issuer" is not a string'],
    ['an EC key with a broken point', { ...ecJwk, x: 'AAAA' }, 'it is not a valid EC public key'],
    ['an alg that does not fit', { ...ecJwk, alg: 'RS256' }, 'its "alg" RS256 does not fit the key: RS256 needs an RSA key, the key is EC P-256'],
  ])('%s: left out', (_name, jwk, why) => {
    expect(reason(jwk)).toBe(why);
  });

  test('the kid of a refused key is kept for the event (unless it is not a string)', () => {
    expect(importJwk({ ...ecJwk, kid: 'k1', use: 'enc' })).toEqual({ ok: false, kid: 'k1', reason: '"use" is not "sig"' });
    expect(importJwk({ ...ecJwk, kid: 7 })).toMatchObject({ kid: undefined });
  });

  test('a usable key: its algorithms from its type, or only its declared alg; use sig and key_ops verify are fine', () => {
    const plain = entry({ ...ecJwk, kid: 'a' });
    expect([...plain.algorithms]).toEqual(['ES256']);
    expect(plain).toMatchObject({ kid: 'a', declaredAlg: undefined, issuer: undefined });
    expect([...entry(rsaJwk).algorithms].sort()).toEqual(['PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512']);
    const declared = entry({ ...rsaJwk, alg: 'PS384', use: 'sig', key_ops: ['verify'], issuer: 'https://i.example/' });
    expect([...declared.algorithms]).toEqual(['PS384']);
    expect(declared).toMatchObject({ declaredAlg: 'PS384', issuer: 'https://i.example/' });
  });
});

describe('KeySet.lookup: the kid picks the key, the alg must fit it', () => {
  const a = entry({ ...ecJwk, kid: 'a' });
  const r = entry({ ...rsaJwk, kid: 'r', alg: 'RS256' });
  const set = new KeySet([a, r]);

  test('a known kid with a fitting alg: that key; an unknown kid: unknown', () => {
    expectFound(set.lookup('ES256', 'a'), ec);
    expectFound(set.lookup('RS256', 'r'), rsa);
    expect(set.lookup('ES256', 'zz')).toEqual({ status: 'unknown' });
    expect(set.algorithms).toEqual(['ES256', 'RS256']);
  });

  test('a known kid whose key cannot verify the alg: a mismatch that says why', () => {
    expect(set.lookup('RS256', 'a')).toEqual({ status: 'mismatch', reason: 'RS256 needs an RSA key, the key is EC P-256' });
    expect(set.lookup('PS256', 'r')).toEqual({ status: 'mismatch', reason: 'the key is declared for RS256' });
  });

  test('two keys under one kid: the one that fits the alg', () => {
    const twin = entry({ ...rsaJwk, kid: 'a' });
    expectFound(new KeySet([a, twin]).lookup('RS256', 'a'), rsa);
  });

  test('no kid: the one key that fits the alg, ambiguous with several, unknown with none', () => {
    expectFound(set.lookup('ES256', undefined), ec);
    const other = entry({ ...(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: 'b' });
    expect(new KeySet([a, other]).lookup('ES256', undefined)).toEqual({ status: 'ambiguous' });
    expect(set.lookup('ES384', undefined)).toEqual({ status: 'unknown' });
  });
});

describe('KeySet: a lone key without a kid answers every kid only when the source says so (a PEM has no kid)', () => {
  const lone = entry(ecJwk);

  test('with loneKeyMatchesAnyKid: any kid finds it, a wrong alg is a mismatch', () => {
    const set = new KeySet([lone], { loneKeyMatchesAnyKid: true });
    expectFound(set.lookup('ES256', 'whatever'), ec);
    expect(set.lookup('RS256', 'whatever')).toMatchObject({ status: 'mismatch' });
  });

  test('without it (a fetched JWKS), or with a kid on the key, or with two keys: the kid must match', () => {
    expect(new KeySet([lone]).lookup('ES256', 'whatever')).toEqual({ status: 'unknown' });
    expect(new KeySet([entry({ ...ecJwk, kid: 'own' })], { loneKeyMatchesAnyKid: true }).lookup('ES256', 'whatever')).toEqual({ status: 'unknown' });
    expect(new KeySet([lone, entry(rsaJwk)], { loneKeyMatchesAnyKid: true }).lookup('ES256', 'whatever')).toEqual({ status: 'unknown' });
  });
});

describe('KeySet: a JWK that names its issuer is used only for that issuer, when the caller asks', () => {
  const template = entry({ ...ecJwk, kid: 't', issuer: 'https://login.example/{tenantid}/v2.0' });
  const own = entry({ ...rsaJwk, kid: 'o', issuer: 'https://login.example/abc/v2.0' });
  const set = new KeySet([template, own]);

  test('the issuer fits (the same, or the template): found; another: other-issuer; not asked: found', () => {
    expectFound(set.lookup('RS256', 'o', 'https://login.example/abc/v2.0'), rsa);
    expect(set.lookup('RS256', 'o', 'https://login.example/xyz/v2.0')).toEqual({ status: 'other-issuer', keyIssuer: 'https://login.example/abc/v2.0' });
    expectFound(set.lookup('RS256', 'o'), rsa);
    expectFound(set.lookup('ES256', 't', 'https://login.example/xyz/v2.0'), ec);
    expect(set.lookup('ES256', undefined, 'https://evil.example/xyz/v2.0')).toEqual({ status: 'other-issuer', keyIssuer: 'https://login.example/{tenantid}/v2.0' });
  });

  test('a key without an issuer member fits every issuer', () => {
    expectFound(new KeySet([entry({ ...ecJwk, kid: 'n' })]).lookup('ES256', 'n', 'https://any.example/'), ec);
  });
});

describe('KeySet.sameKeysAs: a refetch with the same keys changes nothing', () => {
  test('the same keys are the same; another kid, alg, issuer, key or order is not', () => {
    const base = [entry({ ...ecJwk, kid: 'a' }), entry({ ...rsaJwk, kid: 'r' })];
    const set = new KeySet(base);
    expect(set.sameKeysAs(new KeySet([entry({ ...ecJwk, kid: 'a' }), entry({ ...rsaJwk, kid: 'r' })]))).toBe(true);
    for (const other of [
      [entry({ ...ecJwk, kid: 'b' }), base[1]!],
      [entry({ ...ecJwk, kid: 'a', alg: 'ES256' }), base[1]!],
      [entry({ ...ecJwk, kid: 'a', issuer: 'https://i.example/' }), base[1]!],
      [entry({ ...(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: 'a' }), base[1]!],
      [base[1]!, base[0]!],
      [base[0]!],
    ]) {
      expect(set.sameKeysAs(new KeySet(other))).toBe(false);
    }
  });
});

