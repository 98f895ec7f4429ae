/**
 * KeySet and issuerFits, the rules the mutation run (docs/mutation-testing.md) found unpinned:
 * the edges of the `{tenantid}` template (an empty tenant, a tenant of two segments, a wrong
 * suffix or prefix), the reason of a mismatch under a kid held by several keys or by the lone
 * static key, and which key a lookup returns.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { importJwk, type KeyEntry } from '../../src/keys/import-jwk.js';
import { issuerFits, KeySet } from '../../src/keys/key-set.js';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
const ecJwk = ec.export({ format: 'jwk' }) as Record<string, unknown>;
const ec384Jwk = ec384.export({ format: 'jwk' }) as Record<string, unknown>;
const rsaJwk = rsa.export({ format: 'jwk' }) as Record<string, unknown>;

function entry(jwk: Record<string, unknown>): KeyEntry {
  const imported = importJwk(jwk);
  if (!imported.ok) throw new Error(imported.reason);
  return imported.entry;
}

function foundKey(lookup: ReturnType<KeySet['lookup']>): KeyObject | undefined {
  return lookup.status === 'found' ? lookup.key : undefined;
}

describe('issuerFits: the same string, or the {tenantid} template with one non-empty segment', () => {
  const template = 'https://login.example/{tenantid}/v2.0';

  test('the same string fits; another string without a placeholder does not', () => {
    expect(issuerFits('https://login.example/abc/v2.0', 'https://login.example/abc/v2.0')).toBe(true);
    expect(issuerFits('https://login.example/abc/v2.0', 'https://login.example/abd/v2.0')).toBe(false);
    // a short issuer without a placeholder that another longer one starts and ends like
    expect(issuerFits('https://a/', 'https://ab/')).toBe(false);
    expect(issuerFits('https://a/', 'https://a-long-tenant/')).toBe(false);
  });

  test('the template: one segment fits, whatever its value', () => {
    expect(issuerFits(template, 'https://login.example/abc/v2.0')).toBe(true);
    expect(issuerFits(template, 'https://login.example/x/v2.0')).toBe(true);
    expect(issuerFits(template, 'https://login.example/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0')).toBe(true);
  });

  test('the template: an empty tenant, two segments, another suffix or prefix do not fit', () => {
    expect(issuerFits(template, 'https://login.example//v2.0')).toBe(false);
    expect(issuerFits(template, 'https://login.example/v2.0')).toBe(false);
    expect(issuerFits(template, 'https://login.example/a/b/v2.0')).toBe(false);
    expect(issuerFits(template, 'https://login.example/abc/v1.0')).toBe(false);
    expect(issuerFits(template, 'https://login.examplf/abc/v2.0')).toBe(false);
    expect(issuerFits('https://x/{tenantid}/', 'https://x/')).toBe(false);
  });

  test('a template at the start or end of the string', () => {
    expect(issuerFits('{tenantid}/v2.0', 'abc/v2.0')).toBe(true);
    expect(issuerFits('https://login.example/{tenantid}', 'https://login.example/abc')).toBe(true);
    expect(issuerFits('https://login.example/{tenantid}', 'https://login.example/abc/')).toBe(false);
  });

  test('through lookup: a template key serves one tenant, not a two-segment or empty one', () => {
    const set = new KeySet([entry({ ...ecJwk, kid: 't', issuer: template })]);
    expect(foundKey(set.lookup('ES256', 't', 'https://login.example/abc/v2.0'))?.equals(ec)).toBe(true);
    expect(set.lookup('ES256', 't', 'https://login.example/a/b/v2.0')).toEqual({ status: 'other-issuer', keyIssuer: template });
    expect(set.lookup('ES256', 't', 'https://login.example//v2.0')).toEqual({ status: 'other-issuer', keyIssuer: template });
    expect(set.lookup('ES256', 't', 'https://login.example/abc/v1.0')).toEqual({ status: 'other-issuer', keyIssuer: template });
  });
});

describe('KeySet.lookup: which key, and why not', () => {
  test('several keys under one kid, none fitting the alg: the reason of the first one', () => {
    const first = entry({ ...ecJwk, kid: 'k' });
    const second = entry({ ...rsaJwk, kid: 'k', alg: 'RS256' });
    expect(new KeySet([first, second]).lookup('ES384', 'k')).toEqual({ status: 'mismatch', reason: 'ES384 needs curve P-384, the key is on P-256' });
    expect(new KeySet([second, first]).lookup('ES384', 'k')).toEqual({ status: 'mismatch', reason: 'the key is declared for RS256' });
  });

  test('several keys under one kid: the first that fits the alg, in order', () => {
    const one = entry({ ...ecJwk, kid: 'k' });
    const two = entry({ ...ec384Jwk, kid: 'k' });
    const three = entry({ ...(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: 'k' });
    const set = new KeySet([one, two, three]);
    expect(foundKey(set.lookup('ES256', 'k'))?.equals(ec)).toBe(true);
    expect(foundKey(set.lookup('ES384', 'k'))?.equals(ec384)).toBe(true);
  });

  test('the lone static key: the reason of its mismatch, its declared alg', () => {
    expect(new KeySet([entry(ecJwk)], { loneKeyMatchesAnyKid: true }).lookup('RS256', 'x')).toEqual({ status: 'mismatch', reason: 'RS256 needs an RSA key, the key is EC P-256' });
    expect(new KeySet([entry({ ...rsaJwk, alg: 'PS256' })], { loneKeyMatchesAnyKid: true }).lookup('RS256', undefined)).toEqual({ status: 'mismatch', reason: 'the key is declared for PS256' });
  });

  test('the lone static key answers a token without a kid too, and keeps its issuer rule', () => {
    const set = new KeySet([entry({ ...ecJwk, issuer: 'https://i.example/' })], { loneKeyMatchesAnyKid: true });
    expect(foundKey(set.lookup('ES256', undefined))?.equals(ec)).toBe(true);
    expect(foundKey(set.lookup('ES256', 'any', 'https://i.example/'))?.equals(ec)).toBe(true);
    expect(set.lookup('ES256', 'any', 'https://j.example/')).toEqual({ status: 'other-issuer', keyIssuer: 'https://i.example/' });
  });

  test('an empty set: every lookup is unknown, with or without the lone-key option', () => {
    for (const set of [new KeySet([]), new KeySet([], { loneKeyMatchesAnyKid: true })]) {
      expect(set.lookup('ES256', 'k')).toEqual({ status: 'unknown' });
      expect(set.lookup('ES256', undefined)).toEqual({ status: 'unknown' });
      expect(set.algorithms).toEqual([]);
    }
  });

  test('no kid: a key that fits the alg is found even when a kid-less and a kid key share the set; an issuer rule applies', () => {
    const a = entry({ ...ecJwk, kid: 'a', issuer: 'https://i.example/' });
    const r = entry(rsaJwk);
    const set = new KeySet([a, r]);
    expect(foundKey(set.lookup('PS512', undefined))?.equals(rsa)).toBe(true);
    expect(set.lookup('ES256', undefined, 'https://j.example/')).toEqual({ status: 'other-issuer', keyIssuer: 'https://i.example/' });
    expect(set.lookup('ES256', 'r')).toEqual({ status: 'unknown' });
  });

  test('the union of algorithms lists each once, in the order the keys bring them', () => {
    const set = new KeySet([entry({ ...ecJwk, kid: 'a' }), entry({ ...rsaJwk, kid: 'r', alg: 'PS256' }), entry({ ...ecJwk, kid: 'b' })]);
    expect(set.algorithms).toEqual(['ES256', 'PS256']);
  });
});

describe('KeySet.sameKeysAs: sets of different sizes', () => {
  test('a smaller or larger set is not the same, either way round', () => {
    const a = entry({ ...ecJwk, kid: 'a' });
    const r = entry({ ...rsaJwk, kid: 'r' });
    expect(new KeySet([a]).sameKeysAs(new KeySet([a, r]))).toBe(false);
    expect(new KeySet([a, r]).sameKeysAs(new KeySet([a]))).toBe(false);
    expect(new KeySet([]).sameKeysAs(new KeySet([]))).toBe(true);
    expect(new KeySet([a]).sameKeysAs(new KeySet([entry({ ...ecJwk, kid: 'a' })]))).toBe(true);
  });
});
