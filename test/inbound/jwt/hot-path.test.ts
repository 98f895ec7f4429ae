/**
 * The per-request path stays lean (issue 5): one clock read per verification, whether it is a
 * cache hit or a full verification with a key at hand, and reading a key source's `generation`
 * is a plain field read (no clock, no state change).
 */
import { createVerifier } from 'express-m2m';
import { createKeySource } from 'express-m2m/extend';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { rsaPair, signRaw, type KeyPair } from './support.js';

const AUD = 'https://api.example';
const ISS = 'https://issuer.example/';
let issuer: LocalIssuer;
let rsa: KeyPair;

beforeAll(async () => {
  issuer = await createLocalIssuer();
  rsa = rsaPair();
});
afterAll(async () => {
  await issuer.close();
});

function countingClock() {
  const clock = { reads: 0, at: Date.now(), now: () => 0 };
  clock.now = () => {
    clock.reads += 1;
    return clock.at;
  };
  return clock;
}

describe('one clock read per verification', () => {
  test('remote JWKS: a full verification with the key at hand and a cache hit each read the clock once', async () => {
    const clock = countingClock();
    const verifier = createVerifier({ issuer: issuer.issuer, audience: AUD, jwksUri: issuer.jwksUri, now: clock.now });
    await verifier.warmUp();
    const token = await issuer.accessToken({ clientId: 'a', audience: AUD });
    clock.reads = 0;
    const first = verifier.verify(token);
    expect(first).not.toBeInstanceOf(Promise);
    expect(clock.reads).toBe(1);
    clock.reads = 0;
    expect(verifier.verify(token)).toBe(first);
    expect(clock.reads).toBe(1);
    verifier.close();
  });

  test('static public key, cache off: one clock read', () => {
    const clock = countingClock();
    const verifier = createVerifier({
      issuer: ISS, audience: AUD, publicKey: rsa.publicKey, now: clock.now, verifiedTokenCache: false,
    });
    const nowSeconds = Math.floor(clock.at / 1000);
    const token = signRaw('RS256', rsa.privateKey, { alg: 'RS256' }, { iss: ISS, aud: AUD, iat: nowSeconds, exp: nowSeconds + 60 });
    clock.reads = 0;
    verifier.verify(token);
    expect(clock.reads).toBe(1);
  });
});

describe('a key source\'s generation is a plain read', () => {
  test('remote JWKS: reading generation reads no clock and changes nothing, even past the stale window', async () => {
    const clock = countingClock();
    const source = createKeySource({ jwksUri: issuer.jwksUri, now: clock.now, jwks: { maxStale: 0 } });
    await source.warmUp();
    const generation = source.generation;
    clock.at += 2 * 86_400_000;
    clock.reads = 0;
    expect(source.generation).toBe(generation);
    expect(source.generation).toBe(generation);
    expect(clock.reads).toBe(0);
    source.close?.();
  });
});
