/**
 * DPoP proofs at the edges the security review found: a jwk that names another algorithm, RSA
 * keys that make every signature check slow, a proof of another key refused before its signature
 * is checked, nonces of a replica whose clock runs ahead, and a replay record kept as long as a
 * replica whose clock runs behind still takes the proof for fresh.
 */
import { generateKeyPairSync } from 'node:crypto';
import { redisReplayStore } from 'express-m2m/redis';
import { jwkThumbprint } from 'express-m2m';
import { createLocalIssuer, type DpopKeyPair, type LocalIssuer } from 'express-m2m/testing';
import { createNonceSource } from '../../src/dpop/nonces.js';
import { describeRedis, REDIS_URL } from '../caches/redis-support.js';
import { boundToken, createDpopProof, dpopHeaders, generateDpopKey, startApi, type DpopApi } from './support.js';

let issuer: LocalIssuer;
let api: DpopApi;
beforeAll(async () => {
  issuer = await createLocalIssuer();
  api = await startApi(issuer, { dpop: { algorithms: ['ES256', 'RS256', 'PS256'] } });
});
afterAll(async () => {
  await api.close();
  await issuer.close();
});

/** A DPoP key pair of an RSA key made with `options` (e.g. an unusual public exponent). */
function rsaKey(options: { modulusLength: number; publicExponent?: number }): DpopKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', options);
  const publicJwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  return { ...generateDpopKey('RS256'), privateKey, publicKey, publicJwk, jkt: jwkThumbprint(publicJwk) } as DpopKeyPair;
}

describe('RFC 7517 section 4.4: a proof jwk that declares its alg is for that algorithm only', () => {
  test('a jwk with alg RS256 in a PS256 proof is refused; with its own alg it passes', async () => {
    const key = generateDpopKey('RS256');
    const token = await boundToken(issuer, key);
    const lying = await api.call('/orders', dpopHeaders(api, key, token, '/orders', { header: { alg: 'PS256', jwk: { ...key.publicJwk, alg: 'RS256' } }, signingAlg: 'PS256' }));
    expect(lying.status).toBe(401);
    expect(lying.challenge).toMatch(/error="invalid_dpop_proof", error_description="the DPoP proof's 'alg' is not the 'alg' its 'jwk' declares"/);
    const honest = await api.call('/orders', dpopHeaders(api, key, token, '/orders', { header: { jwk: { ...key.publicJwk, alg: 'RS256' } } }));
    expect(honest.status).toBe(200);
  });
});

describe('RSA proof keys that make every signature check slow are refused', () => {
  test('a public exponent above 2^32 (a 3000-bit one: about 100 times the work of 65537) is refused before any signature check', async () => {
    const key = rsaKey({ modulusLength: 2048 });
    const hugeExponent = (1n << 3000n) + 1n;
    const publicJwk = { ...(key.publicJwk as Record<string, string>), e: Buffer.from(hugeExponent.toString(16).padStart(752, '0'), 'hex').toString('base64url') };
    const crafted = { ...key, publicJwk, jkt: jwkThumbprint(publicJwk) } as DpopKeyPair;
    const token = await boundToken(issuer, crafted);
    const answer = await api.call('/orders', dpopHeaders(api, crafted, token));
    expect(answer.status).toBe(401);
    expect(answer.challenge).toMatch(/the RSA public exponent is larger than 2\^32/);
  });
});

describe('RFC 9449 section 4.3 point 12: a proof of another key than cnf.jkt is refused before its signature is checked', () => {
  test('a proof with a broken signature and another key gets ERR_DPOP_KEY_MISMATCH, not a signature error', async () => {
    const owner = generateDpopKey();
    const thief = generateDpopKey();
    const token = await boundToken(issuer, owner);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const answer = await api.call('/orders', dpopHeaders(api, thief, token, '/orders', { signingKey: other }));
    expect(answer.status).toBe(401);
    expect(answer.challenge).toMatch(/signed by another key than the one the token is bound to/);
    expect(api.events.at(-1)).toMatchObject({ type: 'auth.rejected', code: 'ERR_DPOP_KEY_MISMATCH' });
  });
});

describe('RFC 9449 section 8/9: nonces of a replica whose clock runs one window ahead are accepted', () => {
  test('the next window is accepted (as the previous one), two windows ahead or behind are not', () => {
    const secret = 'a-shared-secret-of-at-least-32-bytes!!';
    let ahead = 10_000_000;
    let behind = 10_000_000;
    const fast = createNonceSource(Buffer.from(secret), 60_000, () => ahead);
    const slow = createNonceSource(Buffer.from(secret), 60_000, () => behind);
    ahead += 60_000;
    expect(slow.check(fast.current())).toBe('next');
    ahead += 60_000;
    expect(slow.check(fast.current())).toBe('invalid');
    behind += 3 * 60_000;
    expect(slow.check(fast.current())).toBe('previous');
  });
});

describeRedis('RFC 9449 section 11.1: the Redis replay record outlives the proof on every replica within the clock tolerance (REDIS_URL)', () => {
  test('a replica whose clock runs behind by less than clockTolerance refuses a proof another replica accepted just before it got too old', async () => {
    const keyPrefix = `test:dpop-hardening:${process.pid}:${Date.now()}:`;
    const store = redisReplayStore({ url: REDIS_URL, keyPrefix });
    const key = generateDpopKey();
    const token = await boundToken(issuer, key);
    const start = Date.now();
    const common = { publicBaseUrl: 'https://api.orders.test', dpop: { maxAge: 1, clockTolerance: 2, replayStore: store } };
    const punctual = await startApi(issuer, common);
    // 1.5 s behind: within the tolerance of 2 s
    const late = await startApi(issuer, { ...common, now: () => Date.now() - 1500 });
    try {
      const iat = Math.ceil(start / 1000);
      const proof = createDpopProof({ key, htm: 'GET', htu: 'https://api.orders.test/orders', accessToken: token, iat });
      const headers = { authorization: `DPoP ${token}`, dpop: proof };
      expect((await punctual.call('/orders', headers)).status).toBe(200);
      // Past the punctual replica's window (iat + maxAge + tolerance), still inside the late one's.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, iat * 1000 + 3300 - Date.now())));
      const replayed = await late.call('/orders', headers);
      expect(replayed.status).toBe(401);
      expect(replayed.challenge).toMatch(/the DPoP proof was used before/);
    } finally {
      await punctual.close();
      await late.close();
      await store.close?.();
    }
  });
});
