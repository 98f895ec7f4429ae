/**
 * RFC 9449 section 8 and 9: server nonces. With `dpop.nonce`, a proof without the current nonce
 * gets 401 `use_dpop_nonce` with a `DPoP-Nonce` header; successful DPoP answers carry the current
 * nonce (section 8.2, rotation). Nonces come from a secret and the time window: replicas with the
 * same secret accept each other's, without a store. A fake clock drives the windows.
 */
import { createLocalIssuer, type DpopKeyPair, type LocalIssuer } from 'express-m2m/testing';
import { boundToken, dpopHeaders, generateDpopKey, startApi, type DpopApi } from './support.js';

const SECRET = 'a shared nonce secret of 32+ characters';
const NONCE_CHALLENGE = /^DPoP error="use_dpop_nonce", error_description="[^"]+", algs="[^"]+"$/;

let issuer: LocalIssuer;
let key: DpopKeyPair;
let token: string;
// A fixed clock at the start of a 60 s window, up to a minute ahead of the real one the issuer uses.
const base = Math.ceil(Date.now() / 60_000) * 60_000 + 1000;
let offset = 0;
const clock = () => base + offset;
const iat = () => Math.floor(clock() / 1000);

beforeAll(async () => {
  issuer = await createLocalIssuer();
  key = generateDpopKey();
  token = await boundToken(issuer, key, { exp: Math.floor(Date.now() / 1000) + 7200 });
});
afterAll(async () => {
  await issuer.close();
});

describe('RFC 9449 section 9: a proof without the current nonce gets 401 use_dpop_nonce and a DPoP-Nonce header', () => {
  let api: DpopApi;
  beforeAll(async () => {
    api = await startApi(issuer, { now: clock, dpop: { nonce: { secret: SECRET, rotation: 60 } } });
  });
  afterAll(async () => {
    await api.close();
  });

  test('no nonce: 401 use_dpop_nonce, DPoP-Nonce; the retry with it passes and the answer carries the nonce', async () => {
    const first = await api.call('/orders', dpopHeaders(api, key, token, '/orders', { iat: iat() }));
    expect(first.status).toBe(401);
    expect(first.challenge).toMatch(NONCE_CHALLENGE);
    expect(first.body.error).toBe('use_dpop_nonce');
    expect(first.nonce).toMatch(/^[A-Za-z0-9_-]{30}$/);
    const retry = await api.call('/orders', dpopHeaders(api, key, token, '/orders', { iat: iat(), nonce: first.nonce as string }));
    expect(retry.status).toBe(200);
    expect(retry.nonce).toBe(first.nonce);
  });

  test('a made-up nonce: 401 use_dpop_nonce with the real one', async () => {
    const answer = await api.call('/orders', dpopHeaders(api, key, token, '/orders', { iat: iat(), nonce: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }));
    expect(answer.status).toBe(401);
    expect(answer.challenge).toMatch(NONCE_CHALLENGE);
    expect(answer.nonce).not.toBe('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
  });

  test('a Bearer request is not asked for a nonce', async () => {
    const plain = await issuer.accessToken({ audience: 'https://api.orders.test' });
    const answer = await api.call('/orders', { authorization: `Bearer ${plain}` });
    expect(answer.status).toBe(200);
    expect(answer.nonce).toBeNull();
  });
});

describe('RFC 9449 section 8.2: nonces rotate; the previous one is still accepted, and answers carry the new one', () => {
  test('one window later: accepted, with a new DPoP-Nonce; two windows later: use_dpop_nonce', async () => {
    offset = 0;
    const api = await startApi(issuer, { now: clock, dpop: { nonce: { secret: SECRET, rotation: 60 } } });
    try {
      const nonce = (await api.call('/orders', dpopHeaders(api, key, token, '/orders', { iat: iat() }))).nonce as string;
      offset += 60_000;
      const later = await api.call('/orders', dpopHeaders(api, key, token, '/orders', { iat: iat(), nonce }));
      expect(later.status).toBe(200);
      expect(later.nonce).not.toBe(nonce);
      offset += 60_000;
      const stale = await api.call('/orders', dpopHeaders(api, key, token, '/orders', { iat: iat(), nonce }));
      expect(stale.status).toBe(401);
      expect(stale.challenge).toMatch(NONCE_CHALLENGE);
      expect(stale.nonce).not.toBe(nonce);
      expect(stale.nonce).not.toBe(later.nonce);
    } finally {
      await api.close();
      offset = 0;
    }
  });
});

describe('RFC 9449 section 9: nonces are valid across replicas that share the secret, without a store', () => {
  test('a nonce of replica A is accepted by replica B; a replica with another secret refuses it', async () => {
    const a = await startApi(issuer, { dpop: { nonce: { secret: SECRET } } });
    const b = await startApi(issuer, { dpop: { nonce: { secret: SECRET } } });
    const other = await startApi(issuer, { dpop: { nonce: { secret: 'another secret of thirty-two characters' } } });
    try {
      const nonce = (await a.call('/orders', dpopHeaders(a, key, token))).nonce as string;
      expect((await b.call('/orders', dpopHeaders(b, key, token, '/orders', { nonce }))).status).toBe(200);
      const refused = await other.call('/orders', dpopHeaders(other, key, token, '/orders', { nonce }));
      expect(refused.status).toBe(401);
      expect(refused.challenge).toMatch(NONCE_CHALLENGE);
    } finally {
      await Promise.all([a.close(), b.close(), other.close()]);
    }
  });

  test('nonce: true (a random secret): works within one process', async () => {
    const api = await startApi(issuer, { dpop: { nonce: true } });
    try {
      const nonce = (await api.call('/orders', dpopHeaders(api, key, token))).nonce as string;
      expect((await api.call('/orders', dpopHeaders(api, key, token, '/orders', { nonce }))).status).toBe(200);
    } finally {
      await api.close();
    }
  });
});
