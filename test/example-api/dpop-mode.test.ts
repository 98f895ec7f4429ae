/**
 * The example's DPoP downstream (RFC 9449), always on with the embedded issuer: the downstream's
 * `/inventory-dpop` route runs `requireAuth({ dpop: { mode: 'required' } })`, and
 * `GET /api/downstream-dpop` reaches it through `outboundAuth` with a `dpop: true` provider whose
 * client the issuer registered with `dpopBoundAccessTokens`. Real servers on loopback (the example's
 * Express 5), proofs made with the test helpers.
 */
import { createDpopProof, createLocalIssuer, generateDpopKey, type DpopKeyPair } from 'express-m2m/testing';
import { createApp } from '../../example-api/src/app.js';
import { loadConfig } from '../../example-api/src/config.js';
import { DOWNSTREAM_PATH } from '../../example-api/src/downstream.js';
import { listen } from '../../example-api/src/http.js';
import { API_DPOP_CLIENT_ID, startExample, type RunningExample } from '../../example-api/src/start.js';
import { call, claimsOf } from './support.js';

const DOWNSTREAM_AUDIENCE = 'https://downstream.example.com';

let example: RunningExample;
beforeAll(async () => {
  example = await startExample(loadConfig({ PORT: '0' }), { log: () => undefined });
}, 60_000);
afterAll(async () => {
  await example?.close();
});

/** A token from the embedded issuer for the demo client, with a proof of `key` when given. */
async function demoToken(audience: string, key?: DpopKeyPair): Promise<{ status: number; body: Record<string, unknown> }> {
  const demo = example.demoClient!;
  const response = await fetch(demo.tokenEndpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${demo.clientId}:${demo.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      ...(key === undefined ? {} : { dpop: createDpopProof({ key, htm: 'POST', htu: demo.tokenEndpoint }) }),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', audience }).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function boundToken(key: DpopKeyPair): Promise<string> {
  const { status, body } = await demoToken(DOWNSTREAM_AUDIENCE, key);
  expect(status).toBe(200);
  expect(body.token_type).toBe('DPoP');
  return body.access_token as string;
}

describe('GET /api/downstream-dpop: the API calls the DPoP-only downstream through outboundAuth with dpop: true', () => {
  test('200: the downstream saw the API\'s DPoP client, the DPoP scheme and a key thumbprint; the token request carried a proof', async () => {
    const issuer = example.localIssuer!;
    const before = issuer.dpopCounts.accepted;
    const api = (await demoToken(example.demoClient!.audience)).body.access_token as string;
    const answer = await call(`${example.apiUrl}/api/downstream-dpop`, { token: api });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ service: 'inventory-dpop', caller: `${API_DPOP_CLIENT_ID}@clients`, scheme: 'DPoP' });
    expect((answer.body as { jkt: string }).jkt).toMatch(/^[\w-]{43}$/);
    // The proof of the token request (recorded by the issuer); the downstream's proofs are its own.
    expect(issuer.dpopCounts.accepted).toBeGreaterThan(before);
    // A second call reuses the cached token with a new proof: not a replay.
    expect((await call(`${example.apiUrl}/api/downstream-dpop`, { token: api })).status).toBe(200);
  });

  test('the route is the API\'s: without a token 401 Bearer; listed in GET /; another method 405', async () => {
    const anonymous = await call(`${example.apiUrl}/api/downstream-dpop`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect(JSON.stringify((await call(`${example.apiUrl}/`)).body)).toContain('/api/downstream-dpop');
    expect((await call(`${example.apiUrl}/api/downstream-dpop`, { method: 'POST' })).status).toBe(405);
  });
});

describe('the DPoP-only downstream (RFC 9449 section 7.1, mode required): a proof per request, once', () => {
  test('a bound token with a proof: 200; the same proof replayed: 401 invalid_dpop_proof; a new proof: 200 again', async () => {
    const key = generateDpopKey('ES256');
    const token = await boundToken(key);
    expect(claimsOf(token).cnf).toEqual({ jkt: key.jkt });
    const url = example.dpopDownstreamUrl!;
    const proof = createDpopProof({ key, htm: 'GET', htu: url, accessToken: token });
    const first = await call(url, { authorization: `DPoP ${token}`, headers: { dpop: proof } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ scheme: 'DPoP', jkt: key.jkt, caller: 'demo-client@clients' });
    const replay = await call(url, { authorization: `DPoP ${token}`, headers: { dpop: proof } });
    expect(replay.status).toBe(401);
    expect(replay.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof", error_description="the DPoP proof was used before[^"]*", algs="ES256 EdDSA"$/);
    expect(replay.body).toMatchObject({ error: 'invalid_dpop_proof' });
    const fresh = createDpopProof({ key, htm: 'GET', htu: url, accessToken: token });
    expect((await call(url, { authorization: `DPoP ${token}`, headers: { dpop: fresh } })).status).toBe(200);
  });

  test('the bound token presented as Bearer: 401 with the DPoP challenge; an unbound Bearer token: 401 too', async () => {
    const url = example.dpopDownstreamUrl!;
    const token = await boundToken(generateDpopKey());
    const asBearer = await call(url, { token });
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toBe('DPoP algs="ES256 EdDSA"');
    const plain = (await demoToken(DOWNSTREAM_AUDIENCE)).body.access_token as string;
    expect(claimsOf(plain).cnf).toBeUndefined();
    const unbound = await call(url, { token: plain });
    expect(unbound.status).toBe(401);
    expect(unbound.headers.get('www-authenticate')).toBe('DPoP algs="ES256 EdDSA"');
  });

  test('a proof signed by another key than the token\'s: 401 invalid_dpop_proof (the token alone is useless)', async () => {
    const url = example.dpopDownstreamUrl!;
    const token = await boundToken(generateDpopKey());
    const thief = generateDpopKey();
    const answer = await call(url, { authorization: `DPoP ${token}`, headers: { dpop: createDpopProof({ key: thief, htm: 'GET', htu: url, accessToken: token }) } });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof"/);
  });

  test('the plain /inventory route keeps taking unbound Bearer tokens, and refuses a DPoP-bound one as Bearer (invalid_token)', async () => {
    const plainUrl = example.downstreamUrl!;
    expect(plainUrl.endsWith(DOWNSTREAM_PATH)).toBe(true);
    const plain = (await demoToken(DOWNSTREAM_AUDIENCE)).body.access_token as string;
    expect((await call(plainUrl, { token: plain })).status).toBe(200);
    const bound = await call(plainUrl, { token: await boundToken(generateDpopKey()) });
    expect(bound.status).toBe(401);
    expect(bound.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  });
});

describe('without a DPoP downstream (your own issuer): GET /api/downstream-dpop answers 503 downstream_not_configured', () => {
  test('503 with a JSON body naming what runs it', async () => {
    const issuer = await createLocalIssuer();
    const api = createApp({ auth: { issuerBaseURL: issuer.url, audience: 'https://api.example.com' }, log: () => undefined });
    const listening = await listen(api.app, 0, '127.0.0.1');
    try {
      const token = await issuer.accessToken({ audience: 'https://api.example.com', clientId: 'someone' });
      const answer = await call(`${listening.url}/api/downstream-dpop`, { token });
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ error: 'downstream_not_configured', error_description: expect.stringContaining('embedded issuer') });
    } finally {
      await listening.close();
      await api.close();
      await issuer.close();
    }
  });
});
