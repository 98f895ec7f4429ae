/**
 * The `dpop` option: the DPoP key (given in every form or generated), its algorithm (derived from
 * the key or given and checked against it), proofs whose signatures jose verifies for every
 * algorithm, construction errors naming the option, and the private key kept out of sight.
 */
import { generateKeyPairSync, webcrypto, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { calculateJwkThumbprint, compactVerify, EmbeddedJWK } from 'jose';
import { clientCredentials, TokenRequestError, type ClientCredentialsOptions, type DpopAlgorithm, type OutboundEvent } from 'express-m2m';
import { DpopKey } from '../../../src/outbound/dpop/dpop-key.js';
import { DpopProofSigner } from '../../../src/outbound/dpop/dpop-proof.js';

const base: ClientCredentialsOptions = { tokenEndpoint: 'https://auth.example.test/oauth/token', clientId: 'svc', clientSecret: 'secret' };
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ecPem = ec.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const ecSec1Pem = ec.privateKey.export({ format: 'pem', type: 'sec1' }).toString();
const ecJwk = ec.privateKey.export({ format: 'jwk' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
const ed = generateKeyPairSync('ed25519').privateKey;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
const x25519 = generateKeyPairSync('x25519').privateKey;

const fail = (name: string, message: string): never => {
  throw new TypeError(`${name} ${message}`);
};

async function verifiedProof(proof: string) {
  const { payload, protectedHeader } = await compactVerify(proof, EmbeddedJWK);
  return { header: protectedHeader, claims: JSON.parse(Buffer.from(payload).toString('utf8')) as Record<string, unknown> };
}

describe('dpop.key: a given key, in every form', () => {
  const thumbprint = async (key: KeyObject) => calculateJwkThumbprint(key.export({ format: 'jwk' }) as never);
  it.each<[string, unknown]>([
    ['a PKCS#8 PEM', ecPem],
    ['a SEC1 PEM', ecSec1Pem],
    ['a private JWK', ecJwk],
    ['a KeyObject', ec.privateKey],
  ])('takes %s, with ES256 derived from the P-256 key', async (_name, key) => {
    const provider = clientCredentials({ ...base, dpop: { key: key as never } });
    expect(provider.dpop!.alg).toBe('ES256');
    expect(provider.dpop!.jkt).toBe(await thumbprint(ec.publicKey));
    await provider.close();
  });

  it('takes a WebCrypto CryptoKey, even a non-extractable one', async () => {
    const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const provider = clientCredentials({ ...base, dpop: { key: pair.privateKey } });
    const publicJwk = await webcrypto.subtle.exportKey('jwk', pair.publicKey);
    expect(provider.dpop!.jkt).toBe(await calculateJwkThumbprint(publicJwk as never));
    await provider.close();
  });

  it.each<[string, KeyObject, DpopAlgorithm]>([
    ['P-384', p384, 'ES384'],
    ['Ed25519', ed, 'EdDSA'],
    ['RSA', rsa, 'RS256'],
  ])('derives the algorithm from a %s key', async (_name, key, alg) => {
    const provider = clientCredentials({ ...base, dpop: { key } });
    expect(provider.dpop!.alg).toBe(alg);
    await provider.close();
  });

  it('takes the JWK\'s alg, and a given alg that fits (PS256 with an RSA key)', async () => {
    const withAlg = clientCredentials({ ...base, dpop: { key: { ...rsa.export({ format: 'jwk' }), alg: 'PS256' } } });
    expect(withAlg.dpop!.alg).toBe('PS256');
    const given = clientCredentials({ ...base, dpop: { key: rsa, alg: 'PS256' } });
    expect(given.dpop!.alg).toBe('PS256');
    await withAlg.close();
    await given.close();
  });

  it('puts only the public members into the proof\'s jwk', async () => {
    const provider = clientCredentials({ ...base, dpop: { key: rsa } });
    expect(Object.keys(provider.dpop!.publicJwk).sort()).toEqual(['e', 'kty', 'n']);
    await provider.close();
  });
});

describe('dpop: a key generated at start-up', () => {
  it('is ES256 by default (dpop: true and dpop: {}), and new for every provider', async () => {
    const one = clientCredentials({ ...base, dpop: true });
    const two = clientCredentials({ ...base, dpop: {} });
    expect(one.dpop!.alg).toBe('ES256');
    expect(two.dpop!.alg).toBe('ES256');
    expect(one.dpop!.publicJwk.crv).toBe('P-256');
    expect(one.dpop!.jkt).not.toBe(two.dpop!.jkt);
    await one.close();
    await two.close();
  });

  it.each<[DpopAlgorithm, string]>([['EdDSA', 'OKP'], ['RS256', 'RSA'], ['PS256', 'RSA'], ['ES384', 'EC']])('is made for alg %s', async (alg, kty) => {
    const provider = clientCredentials({ ...base, dpop: { alg } });
    expect(provider.dpop!.alg).toBe(alg);
    expect(provider.dpop!.publicJwk.kty).toBe(kty);
    await provider.close();
  });

  it('is off without the option, and with dpop: false', async () => {
    const off = clientCredentials({ ...base, dpop: false });
    expect(off.dpop).toBeUndefined();
    expect(clientCredentials(base).dpop).toBeUndefined();
    await off.close();
  });
});

/** RFC 9449 section 7.1: the example's access token and the `ath` of its proof. */
const RFC_9449_TOKEN = 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU';
const RFC_9449_ATH = 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo';

describe('RFC 9449 section 4.2: proofs verify with an independent implementation (jose), for every algorithm', () => {
  it.each<[DpopAlgorithm]>([['ES256'], ['ES384'], ['ES512'], ['EdDSA'], ['RS256'], ['PS256'], ['PS512']])('%s', async (alg) => {
    const key = DpopKey.generate(alg);
    const signer = new DpopProofSigner(key, () => 1_700_000_000_000);
    const proof = signer.proof({ htm: 'GET', url: 'https://api.example/a/b?x=1#y', accessToken: RFC_9449_TOKEN, nonce: 'n-1' });
    const { header, claims } = await verifiedProof(proof);
    expect(header).toEqual({ typ: 'dpop+jwt', alg, jwk: key.publicJwk });
    expect(claims).toEqual({
      jti: expect.any(String), htm: 'GET', htu: 'https://api.example/a/b', iat: 1_700_000_000,
      ath: RFC_9449_ATH, nonce: 'n-1',
    });
    expect(await calculateJwkThumbprint(header.jwk as never)).toBe(key.jkt);
  });

  it('normalises htu as a URL (host case, default port) and drops query and fragment', () => {
    const signer = new DpopProofSigner(DpopKey.generate(), Date.now);
    const [, payload] = signer.proof({ htm: 'POST', url: 'HTTPS://API.Example:443/Path?q#f' }).split('.');
    expect(JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')).htu).toBe('https://api.example/Path');
  });
});

describe('dpop: bad options fail at construction, naming the option', () => {
  it.each<[string, unknown, RegExp]>([
    ['a string', 'yes', /"dpop" must be true, false or an object of DPoP options/],
    ['an unknown name', { allowBearerDowngrad: true }, /unknown option "dpop.allowBearerDowngrad" \(did you mean "dpop.allowBearerDowngrade"\?\)/],
    ['an unknown alg', { alg: 'HS256' }, /"dpop.alg" must be one of ES256, /],
    ['an alg that does not fit the key', { key: ecPem, alg: 'RS256' }, /"dpop.alg" RS256 does not fit the key: RS256 needs an RSA key, the key is EC P-256/],
    ['a curve that does not fit', { key: p384, alg: 'ES256' }, /"dpop.alg" ES256 does not fit the key: ES256 needs curve P-256/],
    ['a weak RSA key', { key: weakRsa }, /"dpop.key" fits none of the DPoP algorithms/],
    ['an X25519 key (cannot sign)', { key: x25519 }, /"dpop.key" fits none of the DPoP algorithms/],
    ['a JWK whose alg is not a DPoP algorithm', { key: { ...ecJwk, alg: 'HS256' } }, /"dpop.key" has an "alg" that is not one of ES256/],
    ['a public key', { key: ec.publicKey }, /"dpop.key" must be a private key \(got a public or secret key\)/],
    ['garbage', { key: 'not a key' }, /"dpop.key" must be a private key: a PEM string, a private JWK/],
    ['a bad allowBearerDowngrade', { allowBearerDowngrade: 'yes' }, /"dpop.allowBearerDowngrade" must be a boolean/],
  ])('%s', (_name, dpop, message) => {
    expect(() => clientCredentials({ ...base, dpop: dpop as never })).toThrow(message);
  });

  it('names the service under outboundAuth', async () => {
    const { outboundAuth } = await import('express-m2m');
    expect(() => outboundAuth({
      defaults: base,
      services: { billing: { baseUrl: 'https://billing.example', dpop: { alg: 'none' as never } } },
    })).toThrow(/outboundAuth: "services.billing.dpop.alg" must be one of/);
  });
});

describe('dpop: the private key never shows (events, errors, JSON, inspect)', () => {
  const pem = ecPem;
  const d = ecJwk.d!;
  const secrets = [d, pem.split('\n')[1]!, Buffer.from(d, 'base64url').toString('hex')];
  const leaks = (text: string) => secrets.filter((secret) => text.includes(secret));

  it('is not in JSON.stringify or util.inspect of the provider, its dpop info or the key object', () => {
    const provider = clientCredentials({ ...base, dpop: { key: pem } });
    const key = DpopKey.fromKey(pem, undefined, fail);
    for (const value of [provider, provider.dpop, key]) {
      expect(leaks(JSON.stringify(value) ?? '')).toEqual([]);
      expect(leaks(inspect(value, { depth: 10, showHidden: true }))).toEqual([]);
    }
    expect(inspect(key)).toBe(`DpopKey { alg: 'ES256', jkt: '${key.jkt}' }`);
  });

  it('is not in construction errors about the key', () => {
    let caught: unknown;
    try {
      clientCredentials({ ...base, dpop: { key: pem, alg: 'EdDSA' } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TypeError);
    expect(leaks(`${String(caught)} ${inspect(caught, { depth: 10 })}`)).toEqual([]);
    // a key that almost parses: the parse error is not passed on as a cause either
    try {
      clientCredentials({ ...base, dpop: { key: pem.replace('PRIVATE KEY-----\n', 'PRIVATE KEY-----\nAA') } });
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).cause).toBeUndefined();
    expect(leaks(inspect(caught, { depth: 10 }))).toEqual([]);
  });

  it('is not in events or token errors of a provider that fails', async () => {
    const events: OutboundEvent[] = [];
    const provider = clientCredentials({
      ...base,
      tokenEndpoint: 'http://127.0.0.1:9/oauth/token', // nothing listens on the discard port
      maxRetries: 1,
      retryBaseDelay: 1,
      dpop: { key: pem },
      onEvent: (event) => events.push(event),
    });
    const error = await provider.getToken().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(events.length).toBeGreaterThan(0);
    const text = `${inspect(events, { depth: 10 })} ${JSON.stringify(events)} ${inspect(error, { depth: 10 })} ${JSON.stringify(error)}`;
    expect(leaks(text)).toEqual([]);
    await provider.close();
  });
});
