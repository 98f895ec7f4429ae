/**
 * RFC 9449 section 5 and 8 at the local issuer's token endpoint: a token request with a valid
 * proof (checked by the same verifier as requireAuth's: htm POST, htu the token endpoint, no ath)
 * gets a DPoP-bound token (cnf.jkt, token_type DPoP); a client registered with
 * dpopBoundAccessTokens must send one; with dpop.nonce the issuer asks for its nonce first
 * (400 use_dpop_nonce with DPoP-Nonce). Interop: oauth4webapi's DPoP handle gets a bound token
 * from it and calls requireAuth with its proofs; jose-made proofs are accepted too.
 */
import { SignJWT, exportJWK, generateKeyPair as joseKeyPair, calculateJwkThumbprint } from 'jose';
import * as oauth from 'oauth4webapi';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createLocalIssuer, type DpopKeyPair, type LocalIssuer } from 'express-m2m/testing';
import { AUDIENCE, createDpopProof, generateDpopKey, startApi, type DpopApi } from './support.js';

let issuer: LocalIssuer;
let api: DpopApi;
let client: { clientId: string; clientSecret: string | undefined };
let key: DpopKeyPair;
beforeAll(async () => {
  issuer = await createLocalIssuer();
  client = issuer.registerClient({ audiences: [AUDIENCE], scopes: ['read:orders'] });
  api = await startApi(issuer);
  key = generateDpopKey();
});
afterAll(async () => {
  await api.close();
  await issuer.close();
});

/** A token request with exactly these DPoP header lines (node:http: fetch would join two into one). */
function tokenRequest(target: LocalIssuer, who: { clientId: string; clientSecret: string | undefined }, dpop?: string | string[]) {
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: who.clientId, client_secret: who.clientSecret ?? '', audience: AUDIENCE }).toString();
  const headers: string[] = ['Host', new URL(target.url).host, 'Content-Type', 'application/x-www-form-urlencoded', 'Content-Length', String(Buffer.byteLength(body))];
  for (const proof of dpop === undefined ? [] : Array.isArray(dpop) ? dpop : [dpop]) headers.push('DPoP', proof);
  return new Promise<{ status: number; nonce: string | null; body: Record<string, unknown> }>((resolve, reject) => {
    const req = httpRequest(target.tokenEndpoint, { method: 'POST', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, nonce: (res.headers['dpop-nonce'] as string | undefined) ?? null, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const payloadOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;

describe('RFC 9449 section 5.1: the metadata names the proof algorithms', () => {
  test('dpop_signing_alg_values_supported', async () => {
    const metadata = await (await fetch(issuer.discoveryUri)).json() as Record<string, unknown>;
    expect(metadata.dpop_signing_alg_values_supported).toEqual(['ES256', 'ES384', 'ES512', 'EdDSA', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512']);
  });
});

describe('RFC 9449 section 5: a token request with a valid proof gets a DPoP-bound token', () => {
  test('token_type DPoP and cnf.jkt, and the token works with requireAuth and a proof of the same key', async () => {
    const answer = await tokenRequest(issuer, client, createDpopProof({ key, htm: 'POST', htu: issuer.tokenEndpoint }));
    expect(answer.status).toBe(200);
    expect(answer.body.token_type).toBe('DPoP');
    const token = answer.body.access_token as string;
    expect(payloadOf(token).cnf).toEqual({ jkt: key.jkt });
    const call = await api.call('/orders', { authorization: `DPoP ${token}`, dpop: createDpopProof({ key, htm: 'GET', htu: `${api.url}/orders`, accessToken: token }) });
    expect(call.status).toBe(200);
    expect(call.body).toMatchObject({ scheme: 'DPoP', jkt: key.jkt });
    expect((await api.call('/orders', { authorization: `Bearer ${token}` })).status).toBe(401);
  });

  test('without a proof: a Bearer token without cnf', async () => {
    const answer = await tokenRequest(issuer, client);
    expect(answer.body.token_type).toBe('Bearer');
    expect(payloadOf(answer.body.access_token as string).cnf).toBeUndefined();
  });

  test.each([
    ['htu of another endpoint', () => createDpopProof({ key, htm: 'POST', htu: issuer.jwksUri })],
    ['htm GET', () => createDpopProof({ key, htm: 'GET', htu: issuer.tokenEndpoint })],
    ['typ JWT', () => createDpopProof({ key, htm: 'POST', htu: issuer.tokenEndpoint, header: { typ: 'JWT' } })],
    ['a private key in jwk', () => createDpopProof({ key, htm: 'POST', htu: issuer.tokenEndpoint, header: { jwk: key.privateKey.export({ format: 'jwk' }) } })],
    ['two DPoP headers', () => [createDpopProof({ key, htm: 'POST', htu: issuer.tokenEndpoint }), createDpopProof({ key, htm: 'POST', htu: issuer.tokenEndpoint })]],
  ])('%s: 400 invalid_dpop_proof, counted', async (_case, make) => {
    const before = issuer.dpopCounts.refused;
    const answer = await tokenRequest(issuer, client, make());
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_dpop_proof');
    expect(answer.body.error_description).not.toMatch(/compact JWS/);
    expect(issuer.dpopCounts.refused).toBe(before + 1);
  });

  test('a replayed proof: 400 invalid_dpop_proof', async () => {
    const proof = createDpopProof({ key, htm: 'POST', htu: issuer.tokenEndpoint });
    expect((await tokenRequest(issuer, client, proof)).status).toBe(200);
    const again = await tokenRequest(issuer, client, proof);
    expect(again.status).toBe(400);
    expect(again.body.error_description).toMatch(/used before/);
  });
});

describe('RFC 9449 section 5.2: a client registered with dpopBoundAccessTokens must send a proof', () => {
  test('without a proof: 400 invalid_dpop_proof; with one: a bound token', async () => {
    const bound = issuer.registerClient({ audiences: [AUDIENCE], dpopBoundAccessTokens: true });
    const refused = await tokenRequest(issuer, bound);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_dpop_proof');
    const accepted = await tokenRequest(issuer, bound, createDpopProof({ key, htm: 'POST', htu: issuer.tokenEndpoint }));
    expect(accepted.body.token_type).toBe('DPoP');
  });
});

describe('RFC 9449 section 8: the issuer may require its nonce (dpop.nonce)', () => {
  test('400 use_dpop_nonce with DPoP-Nonce; the retry with the nonce gets the token; counted', async () => {
    const strict = await createLocalIssuer({ dpop: { nonce: true } });
    try {
      const who = strict.registerClient({ audiences: [AUDIENCE] });
      const first = await tokenRequest(strict, who, createDpopProof({ key, htm: 'POST', htu: strict.tokenEndpoint }));
      expect(first.status).toBe(400);
      expect(first.body.error).toBe('use_dpop_nonce');
      expect(first.nonce).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      const retry = await tokenRequest(strict, who, createDpopProof({ key, htm: 'POST', htu: strict.tokenEndpoint, nonce: first.nonce as string }));
      expect(retry.status).toBe(200);
      expect(retry.body.token_type).toBe('DPoP');
      expect(strict.dpopCounts).toEqual({ accepted: 1, refused: 0, nonceChallenges: 1 });
      strict.resetCounts();
      expect(strict.dpopCounts).toEqual({ accepted: 0, refused: 0, nonceChallenges: 0 });
    } finally {
      await strict.close();
    }
  });

  test('a bad dpop option is refused at creation', async () => {
    await expect(createLocalIssuer({ dpop: { nonce: 'yes' as never } })).rejects.toThrow('createLocalIssuer: "dpop.nonce" must be a boolean');
  });
});

describe('interop: oauth4webapi DPoP (client credentials with a proof, then protected resource requests)', () => {
  test('its token request gets a bound token, and requireAuth accepts its proofs (a new one per request)', async () => {
    const as: oauth.AuthorizationServer = { issuer: issuer.issuer, token_endpoint: issuer.tokenEndpoint };
    const oauthClient: oauth.Client = { client_id: client.clientId };
    const keyPair = await oauth.generateKeyPair('ES256');
    const DPoP = oauth.DPoP(oauthClient, keyPair);
    const response = await oauth.clientCredentialsGrantRequest(as, oauthClient, oauth.ClientSecretPost(client.clientSecret as string),
      new URLSearchParams({ audience: AUDIENCE }), { DPoP, [oauth.allowInsecureRequests]: true });
    const result = await oauth.processClientCredentialsResponse(as, oauthClient, response);
    expect(result.token_type).toBe('dpop');
    for (let i = 0; i < 2; i += 1) {
      const call = await oauth.protectedResourceRequest(result.access_token, 'GET', new URL(`${api.url}/orders?page=${i}`), new Headers(), null,
        { DPoP, [oauth.allowInsecureRequests]: true });
      expect(call.status).toBe(200);
      expect(await call.json()).toMatchObject({ scheme: 'DPoP' });
    }
  });

  test('a nonce-requiring API: oauth4webapi retries with the DPoP-Nonce of the 401 use_dpop_nonce', async () => {
    const nonceApi = await startApi(issuer, { dpop: { nonce: { secret: 'a test secret of thirty-two characters' } } });
    try {
      const as: oauth.AuthorizationServer = { issuer: issuer.issuer, token_endpoint: issuer.tokenEndpoint };
      const oauthClient: oauth.Client = { client_id: client.clientId };
      const DPoP = oauth.DPoP(oauthClient, await oauth.generateKeyPair('ES256'));
      const result = await oauth.processClientCredentialsResponse(as, oauthClient, await oauth.clientCredentialsGrantRequest(as, oauthClient,
        oauth.ClientSecretPost(client.clientSecret as string), new URLSearchParams({ audience: AUDIENCE }), { DPoP, [oauth.allowInsecureRequests]: true }));
      const call = () => oauth.protectedResourceRequest(result.access_token, 'GET', new URL(`${nonceApi.url}/orders`), new Headers(), null, { DPoP, [oauth.allowInsecureRequests]: true });
      let error: unknown;
      try {
        await call();
      } catch (thrown) {
        error = thrown;
      }
      expect(oauth.isDPoPNonceError(error)).toBe(true);
      const retried = await call();
      expect(retried.status).toBe(200);
      expect(retried.headers.get('dpop-nonce')).toMatch(/^[A-Za-z0-9_-]+$/);
    } finally {
      await nonceApi.close();
    }
  });
});

describe('interop: express-oauth2-jwt-bearer (DPoP enabled) accepts what the local issuer and createDpopProof make', () => {
  test('a DPoP-bound token of the token endpoint, with createDpopProof proofs', async () => {
    const express = (await import('express')).default;
    const { auth } = await import('express-oauth2-jwt-bearer');
    const { listen } = await import('../express/support.js');
    const app = express();
    app.get('/orders', auth({ issuerBaseURL: issuer.url, audience: AUDIENCE, dpop: { enabled: true } }), (_req, res) => { res.json({ ok: true }); });
    const server = await listen(app);
    try {
      const answer = await tokenRequest(issuer, client, createDpopProof({ key, htm: 'POST', htu: issuer.tokenEndpoint }));
      const token = answer.body.access_token as string;
      const good = await fetch(`${server.url}/orders`, { headers: { authorization: `DPoP ${token}`, dpop: createDpopProof({ key, htm: 'GET', htu: `${server.url}/orders`, accessToken: token }) } });
      expect(good.status).toBe(200);
      const broken = await fetch(`${server.url}/orders`, { headers: { authorization: `DPoP ${token}`, dpop: createDpopProof({ key, htm: 'GET', htu: `${server.url}/orders`, accessToken: token, claims: { htm: 'POST' } }) } });
      expect(broken.status).toBe(400); // Auth0 answers invalid_dpop_proof with 400 (express-m2m: 401, RFC 9449 section 7.1)
    } finally {
      await server.close();
    }
  });
});

describe('interop: jose-made proofs are accepted', () => {
  test('an EdDSA proof signed with jose SignJWT', async () => {
    const { publicKey, privateKey } = await joseKeyPair('EdDSA');
    const jwk = await exportJWK(publicKey);
    const token = await issuer.accessToken({ audience: AUDIENCE, claims: { cnf: { jkt: await calculateJwkThumbprint(jwk) } } });
    const { createHash } = await import('node:crypto');
    const proof = await new SignJWT({ htm: 'GET', htu: `${api.url}/orders`, jti: randomUUID(), ath: createHash('sha256').update(token).digest('base64url') })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'EdDSA', jwk })
      .setIssuedAt()
      .sign(privateKey);
    const call = await api.call('/orders', { authorization: `DPoP ${token}`, dpop: proof });
    expect(call.status).toBe(200);
  });
});
