/**
 * RFC 9449 section 4.3 (checking a DPoP proof) and 7.1 (a DPoP-bound token at a resource
 * server), one describe per rule, with the catalogue of broken proofs: each is refused with 401
 * and the `DPoP error="invalid_dpop_proof"` challenge (or `invalid_token` for the token itself),
 * and a good request with the same token still passes afterwards.
 */
import { createHash } from 'node:crypto';
import { createLocalIssuer, type DpopKeyPair, type LocalIssuer } from 'express-m2m/testing';
import { EXPRESS_VERSIONS } from '../express/support.js';
import { boundToken, createDpopProof, dpopHeaders, generateDpopKey, startApi, type DpopApi } from './support.js';

const ALGS = 'ES256 ES384 ES512 EdDSA PS256 PS384 PS512 RS256 RS384 RS512';
const PROOF_CHALLENGE = new RegExp(`^DPoP error="invalid_dpop_proof", error_description="[^"]+", algs="${ALGS}"$`);

let issuer: LocalIssuer;
let api: DpopApi;
let key: DpopKeyPair;
let token: string;

beforeAll(async () => {
  issuer = await createLocalIssuer();
  key = generateDpopKey();
  token = await boundToken(issuer, key);
});
afterAll(async () => {
  await issuer.close();
});

/** The request is refused as `code` with `challenge`, and a good request with the same token still passes. */
async function expectRefused(headers: Record<string, string>, code: string, challenge: RegExp = PROOF_CHALLENGE, status = 401, path = '/orders', method = 'GET'): Promise<void> {
  const before = api.events.length;
  const answer = await api.call(path, headers, method);
  expect(answer.status).toBe(status);
  expect(answer.challenge).toMatch(challenge);
  const rejected = api.events.slice(before).find((event) => event.type === 'auth.rejected') as { code: string } | undefined;
  expect(rejected?.code).toBe(code);
  await expectAccepted(dpopHeaders(api, key, token));
}

async function expectAccepted(headers: Record<string, string>, path = '/orders', method = 'GET'): Promise<void> {
  const answer = await api.call(path, headers, method);
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ scheme: 'DPoP', jkt: key.jkt });
}

const proof = (overrides: Parameters<typeof createDpopProof>[0] extends infer O ? Partial<O> : never, path = '/orders', method = 'GET') =>
  createDpopProof({ key, htm: method, htu: `${api.url}${path}`, accessToken: token, ...overrides });

describe.each(EXPRESS_VERSIONS)('the DPoP catalogue (%s)', (_name, makeApp) => {
  beforeAll(async () => {
    api = await startApi(issuer, {}, makeApp);
  });
  afterAll(async () => {
    await api.close();
  });

  describe('RFC 9449 section 7.1: a DPoP-bound token with a valid proof is accepted; req.auth says the scheme and the key', () => {
    test('GET and POST, a new proof each time (the token is a verified-token cache hit after the first)', async () => {
      for (let i = 0; i < 3; i += 1) await expectAccepted(dpopHeaders(api, key, token));
      await expectAccepted(dpopHeaders(api, key, token, '/orders', {}, 'POST'), '/orders', 'POST');
    });

    test.each(['ES384', 'ES512', 'EdDSA', 'PS256', 'RS256'] as const)('a %s proof key', async (alg) => {
      const other = generateDpopKey(alg);
      const otherToken = await boundToken(issuer, other);
      const answer = await api.call('/orders', dpopHeaders(api, other, otherToken));
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ scheme: 'DPoP', jkt: other.jkt });
    });

    test('a guard after requireAuth answers a DPoP request in the DPoP scheme (403 insufficient_scope)', async () => {
      const answer = await api.call('/admin', dpopHeaders(api, key, token, '/admin'));
      expect(answer.status).toBe(403);
      expect(answer.challenge).toBe(`DPoP error="insufficient_scope", error_description="${String(answer.body.error_description)}", scope="admin", algs="${ALGS}"`);
    });

    test('the scheme name is case-insensitive (RFC 9110 section 11.1)', async () => {
      await expectAccepted({ ...dpopHeaders(api, key, token), authorization: `dpop ${token}` });
    });
  });

  describe('RFC 9449 section 4.3 point 1: exactly one DPoP header', () => {
    test('the DPoP scheme without a DPoP header', async () => {
      await expectRefused({ authorization: `DPoP ${token}` }, 'ERR_DPOP_PROOF_MISSING');
    });

    test('two DPoP headers (sent as two lines)', async () => {
      const { rawGet } = await import('../express/support.js');
      const port = Number(new URL(api.url).port);
      const before = api.events.length;
      const answer = await rawGet(port, '/orders', [['Authorization', `DPoP ${token}`], ['DPoP', proof({})], ['DPoP', proof({})]]);
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toMatch(PROOF_CHALLENGE);
      expect((api.events.slice(before).find((event) => event.type === 'auth.rejected') as { code: string }).code).toBe('ERR_DPOP_PROOF_MULTIPLE');
      await expectAccepted(dpopHeaders(api, key, token));
    });
  });

  describe('RFC 9449 section 4.3 point 2: the DPoP header is one well-formed JWT', () => {
    test.each([
      ['not a JWS', 'not-a-proof'],
      ['two segments', 'eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiIxIn0'],
      ['four segments', 'a.b.c.d'],
      ['a header that is not JSON', `${Buffer.from('{nope').toString('base64url')}.e30.c2ln`],
    ])('%s', async (_case, value) => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: value }, 'ERR_DPOP_PROOF_MALFORMED');
    });

    test('a proof larger than maxProofSize (8192 characters by default)', async () => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ claims: { padding: 'x'.repeat(9000) } }) }, 'ERR_DPOP_PROOF_TOO_LARGE');
    });
  });

  describe('RFC 9449 section 4.3 point 3: every required header and claim is present', () => {
    test.each(['jti', 'htm', 'htu', 'iat'])('no %s claim', async (claim) => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ claims: { [claim]: undefined } }) }, 'ERR_DPOP_CLAIM_MISSING');
    });

    test.each([['typ', 'ERR_DPOP_TYP'], ['alg', 'ERR_DPOP_ALG'], ['jwk', 'ERR_DPOP_JWK']])('no %s header', async (member, code) => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ header: { [member]: undefined } }) }, code);
    });

    test.each([['jti', 42], ['jti', ''], ['iat', 'yesterday'], ['htm', 1], ['nonce', 7]])('%s of the wrong type (%p)', async (claim, value) => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ claims: { [claim]: value } }) }, 'ERR_DPOP_PROOF_MALFORMED');
    });
  });

  describe('RFC 9449 section 4.3 point 4: typ is dpop+jwt', () => {
    test.each(['JWT', 'at+jwt', 'dpop'])('typ %s', async (typ) => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ header: { typ } }) }, 'ERR_DPOP_TYP');
    });
  });

  describe('RFC 9449 section 4.3 point 5: alg is an asymmetric algorithm of the allowlist that fits the key', () => {
    test('alg none, without a signature', async () => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ header: { alg: 'none' }, signingAlg: 'none' }) }, 'ERR_DPOP_ALG');
    });

    test('alg HS256, signed with a shared secret', async () => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ header: { alg: 'HS256' }, signingAlg: 'HS256', signingKey: 'a shared secret of thirty-two bytes!' }) }, 'ERR_DPOP_ALG');
    });

    test('alg ES384 with a P-256 key', async () => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ header: { alg: 'ES384' } }) }, 'ERR_DPOP_ALG');
    });

    test('an algorithm left out of dpop.algorithms: the challenge names the allowed ones', async () => {
      const strict = await startApi(issuer, { dpop: { algorithms: ['EdDSA'] } });
      try {
        const answer = await strict.call('/orders', dpopHeaders(strict, key, token));
        expect(answer.status).toBe(401);
        expect(answer.challenge).toMatch(/^DPoP error="invalid_dpop_proof", error_description="[^"]+", algs="EdDSA"$/);
        const ed = generateDpopKey('EdDSA');
        expect((await strict.call('/orders', dpopHeaders(strict, ed, await boundToken(issuer, ed)))).status).toBe(200);
      } finally {
        await strict.close();
      }
    });
  });

  describe('RFC 9449 section 4.3 point 6: the signature verifies with the jwk of the header', () => {
    test('signed by another key than its jwk', async () => {
      const other = generateDpopKey();
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ signingKey: other.privateKey }) }, 'ERR_DPOP_SIGNATURE');
    });

    test('a claim changed after signing', async () => {
      const [header, , signature] = proof({}).split('.');
      const payload = Buffer.from(JSON.stringify({ jti: 'x', htm: 'GET', htu: `${api.url}/orders`, iat: Math.floor(Date.now() / 1000) })).toString('base64url');
      await expectRefused({ authorization: `DPoP ${token}`, dpop: `${header}.${payload}.${signature}` }, 'ERR_DPOP_SIGNATURE');
    });
  });

  describe('RFC 9449 section 4.3 point 7: the jwk is a public key (no private members), not a symmetric one', () => {
    test('the private key in the jwk (d)', async () => {
      const jwk = key.privateKey.export({ format: 'jwk' });
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ header: { jwk } }) }, 'ERR_DPOP_JWK');
    });

    test('a symmetric jwk (kty oct)', async () => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ header: { jwk: { kty: 'oct', k: 'c2VjcmV0' } } }) }, 'ERR_DPOP_JWK');
    });

    test('a jwk that is not a key', async () => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ header: { jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } } }) }, 'ERR_DPOP_JWK');
    });
  });

  describe('RFC 9449 section 4.3 point 8: htm is the request method', () => {
    test('htm in lower case (get)', async () => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ claims: { htm: 'get' } }) }, 'ERR_DPOP_HTM');
    });

    test('a proof made for POST sent with GET', async () => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({}, '/orders', 'POST') }, 'ERR_DPOP_HTM');
    });
  });

  describe('RFC 9449 section 4.3 point 9: htu is the request URL without query and fragment, after normalisation', () => {
    test('an htu with a query is refused', async () => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ claims: { htu: `${api.url}/orders?page=2` } }) }, 'ERR_DPOP_HTU');
    });

    test('an htu with a fragment is refused', async () => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ claims: { htu: `${api.url}/orders#top` } }) }, 'ERR_DPOP_HTU');
    });

    test.each([
      ['another path', (url: string) => `${url}/invoices`],
      ['another host', (url: string) => url.replace('127.0.0.1', 'localhost') + '/orders'],
      ['another scheme', (url: string) => url.replace('http:', 'https:') + '/orders'],
      ['another port', (url: string) => `http://127.0.0.1:1/orders`],
      ['a relative URL', () => '/orders'],
    ])('%s is refused', async (_case, htu) => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ claims: { htu: htu(api.url) } }) }, 'ERR_DPOP_HTU');
    });

    test('the request query is ignored: a proof for /orders is good for /orders?page=2', async () => {
      await expectAccepted(dpopHeaders(api, key, token, '/orders'), '/orders?page=2');
    });

    test.each([
      ['scheme and host in upper case', (url: string) => url.replace('http://', 'HTTP://') + '/orders'],
      ['a percent-encoded unreserved character (%6Frders)', (url: string) => `${url}/%6Frders`],
      ['a dot segment', (url: string) => `${url}/x/../orders`],
    ])('%s is the same URL', async (_case, htu) => {
      await expectAccepted({ authorization: `DPoP ${token}`, dpop: proof({ claims: { htu: htu(api.url) } }) });
    });

    test('percent-encoding hex case is normalised (%2f = %2F in a path)', async () => {
      const answer = await api.call('/orders/a%2Fb', { authorization: `DPoP ${token}`, dpop: proof({ claims: { htu: `${api.url}/orders/a%2fb` } }, '/orders/a%2fb') });
      expect(answer.status).toBe(200);
    });
  });

  describe('RFC 9449 section 4.3 point 11: iat within the window (maxAge 300 s, clock tolerance 5 s)', () => {
    const now = () => Math.floor(Date.now() / 1000);
    test('an iat far in the past', async () => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ iat: now() - 3600 }) }, 'ERR_DPOP_IAT');
    });

    test('an iat in the future past the tolerance', async () => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ iat: now() + 120 }) }, 'ERR_DPOP_IAT');
    });

    test('within the window: 200 s old is accepted', async () => {
      await expectAccepted({ authorization: `DPoP ${token}`, dpop: proof({ iat: now() - 200 }) });
    });
  });

  describe('RFC 9449 section 4.3 point 12 and 7.1: ath is the hash of the token, and the key is the one the token is bound to', () => {
    test('no ath', async () => {
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ claims: { ath: undefined } }) }, 'ERR_DPOP_CLAIM_MISSING');
    });

    test('the ath of another token', async () => {
      const ath = createHash('sha256').update(`${token}x`).digest('base64url');
      await expectRefused({ authorization: `DPoP ${token}`, dpop: proof({ claims: { ath } }) }, 'ERR_DPOP_ATH');
    });

    test('a proof by another key than the cnf.jkt (thumbprint mismatch)', async () => {
      const other = generateDpopKey();
      await expectRefused({ authorization: `DPoP ${token}`, dpop: createDpopProof({ key: other, htm: 'GET', htu: `${api.url}/orders`, accessToken: token }) }, 'ERR_DPOP_KEY_MISMATCH');
    });

    test('a token without cnf.jkt with the DPoP scheme: 401 invalid_token in a DPoP challenge', async () => {
      const plain = await issuer.accessToken({ audience: 'https://api.orders.test' });
      await expectRefused(dpopHeaders(api, key, plain), 'ERR_DPOP_TOKEN_NOT_BOUND', /^DPoP error="invalid_token", error_description="[^"]+", algs="[^"]+"$/);
    });

    test('an invalid token with a good proof: invalid_token in a DPoP challenge', async () => {
      const expired = await boundToken(issuer, key, { exp: Math.floor(Date.now() / 1000) - 600 });
      await expectRefused(dpopHeaders(api, key, expired), 'ERR_JWT_EXPIRED', /^DPoP error="invalid_token", error_description="[^"]+", algs="[^"]+"$/);
    });
  });

  describe('RFC 9449 section 7.2: a DPoP-bound token is never a Bearer token', () => {
    test.each([['allowed'], ['required'], ['off']] as const)('mode %s: Authorization: Bearer <bound token> is refused', async (mode) => {
      const other = await startApi(issuer, { dpop: { mode } });
      try {
        const answer = await other.call('/orders', { authorization: `Bearer ${token}`, dpop: createDpopProof({ key, htm: 'GET', htu: `${other.url}/orders`, accessToken: token }) });
        expect(answer.status).toBe(401);
        expect(answer.challenge).toMatch(mode === 'allowed' ? /^Bearer error="invalid_token"/ : mode === 'required' ? /^DPoP algs="[^"]+"$/ : /^Bearer error="invalid_token"/);
        expect((await other.call('/orders', dpopHeaders(other, key, token))).status).toBe(mode === 'off' ? 401 : 200);
      } finally {
        await other.close();
      }
    });

    test('a plain Bearer token is still accepted with mode allowed', async () => {
      const plain = await issuer.accessToken({ audience: 'https://api.orders.test' });
      const answer = await api.call('/orders', { authorization: `Bearer ${plain}` });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ scheme: 'Bearer', jkt: null });
    });

    test('mode required: a plain Bearer token gets 401 with only the DPoP challenge', async () => {
      const required = await startApi(issuer, { dpop: { mode: 'required' } });
      try {
        const plain = await issuer.accessToken({ audience: 'https://api.orders.test' });
        const answer = await required.call('/orders', { authorization: `Bearer ${plain}` });
        expect(answer.status).toBe(401);
        expect(answer.challenge).toBe(`DPoP algs="${ALGS}"`);
      } finally {
        await required.close();
      }
    });
  });

  describe('RFC 9449 section 7.1: the challenge of a request without credentials names every accepted scheme', () => {
    test('mode allowed: Bearer and DPoP algs', async () => {
      const answer = await api.call('/orders', {});
      expect(answer.status).toBe(401);
      expect(answer.challenge).toBe(`Bearer, DPoP algs="${ALGS}"`);
    });

    test('with a realm: in both challenges', async () => {
      const withRealm = await startApi(issuer, { realm: 'orders', dpop: { algorithms: ['ES256'] } });
      try {
        expect((await withRealm.call('/orders', {})).challenge).toBe('Bearer realm="orders", DPoP realm="orders", algs="ES256"');
      } finally {
        await withRealm.close();
      }
    });

    test('DPoP off (no dpop option): the challenge is Bearer only, and the DPoP scheme is not credentials', async () => {
      const off = await startApi(issuer, { dpop: undefined });
      try {
        expect((await off.call('/orders', {})).challenge).toBe('Bearer');
        expect((await off.call('/orders', dpopHeaders(off, key, token))).status).toBe(401);
      } finally {
        await off.close();
      }
    });
  });

  describe('events and errors never carry the token or the proof', () => {
    test('after the whole catalogue, no auth.rejected event holds the token or a proof signature', () => {
      const text = JSON.stringify(api.events);
      expect(api.events.length).toBeGreaterThan(40);
      expect(text).not.toContain(token);
      expect(text).not.toContain(token.split('.')[2]);
      expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\.eyJ/);
    });
  });
});

describe('options: bad dpop options fail at construction, naming the option', () => {
  test.each([
    [{ mode: 'sometimes' }, /"dpop.mode" must be 'off', 'allowed' or 'required'/],
    [{ algorithms: ['HS256'] }, /"dpop.algorithms" has "HS256"/],
    [{ maxAge: -1 }, /"dpop.maxAge"/],
    [{ replayStore: {} }, /"dpop.replayStore" must be a DpopReplayStore/],
    [{ nonce: { secret: 'short' } }, /"dpop.nonce.secret" must be/],
    [{ noncee: true }, /unknown option "dpop.noncee" \(did you mean "dpop.nonce"\?\)/],
  ])('%p', async (dpop, message) => {
    const { requireAuth } = await import('express-m2m');
    expect(() => requireAuth({ issuerBaseURL: issuer.url, audience: 'https://api.orders.test', dpop: dpop as never })).toThrow(message);
  });
});

