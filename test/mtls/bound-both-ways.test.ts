/**
 * A token bound both ways (RFC 9449 `cnf.jkt` and RFC 8705 `cnf.x5t#S256`) needs both proofs:
 * the DPoP proof of its key and the client certificate it is bound to. The provider gets it from
 * the local issuer's mTLS alias with a DPoP proof (`clientCredentials({ tls, dpop })`) and
 * presents it downstream over the same certificate with a proof per request; an API that checks
 * only one of the two bindings refuses it (the other confirmation method is unchecked).
 */
import express from 'express';
import { decodeJwt } from 'jose';
import { authErrorHandler, clientCredentials, jwkThumbprint, requireAuth, type TokenProvider } from 'express-m2m';
import { createDpopProof, createLocalIssuer, generateDpopKey, type LocalIssuer } from 'express-m2m/testing';
import { listenTls, tlsClient, trusting, type Pki } from './support.js';

const API = 'https://api.orders.test';
let issuer: LocalIssuer;
let pki: Pki;
let provider: TokenProvider;
const closers: Array<() => Promise<void> | void> = [];

async function api(options: Parameters<typeof requireAuth>[0]): Promise<string> {
  const auth = requireAuth({ issuerBaseURL: issuer.url, audience: API, fetch: trusting(issuer.tls!.ca), ...options });
  const app = express();
  app.get('/invoices', auth, (req, res) => { res.json({ scheme: req.auth?.scheme, jkt: req.auth?.jkt }); });
  app.use(authErrorHandler());
  const server = await listenTls(pki, app);
  closers.push(() => auth.close(), server.close);
  return server.url;
}

beforeAll(async () => {
  issuer = await createLocalIssuer({ tls: {} });
  const tls = issuer.tls!;
  pki = {
    ca: tls.authority!,
    server: tls.authority!.issue({ usage: ['server'] }),
    client: tls.issueClientCertificate({ subject: 'CN=orders,O=Example' }),
    other: tls.issueClientCertificate({ subject: 'CN=intruder' }),
  };
  issuer.registerClient({ clientId: 'orders', audiences: [API], tlsClientAuth: { subjectDn: 'CN=orders,O=Example' } });
  provider = clientCredentials({
    issuerBaseURL: issuer.url, clientId: 'orders', audience: API, dpop: true,
    tls: { cert: pki.client.cert, key: pki.client.key, ca: [tls.ca] },
  });
});
afterAll(async () => {
  await provider.close();
  for (const close of closers.reverse()) await close();
  await issuer.close();
});

describe('a token bound to a DPoP key and a client certificate', () => {
  test('carries both confirmation methods, and token_type DPoP', async () => {
    const set = await provider.getTokenSet();
    expect(set.tokenType).toBe('DPoP');
    expect(decodeJwt(set.accessToken).cnf).toEqual({ jkt: provider.dpop!.jkt, 'x5t#S256': pki.client.thumbprint });
  });

  test('an API that checks both accepts it with the proof over the certificate', async () => {
    const url = await api({ dpop: { mode: 'required' }, mtls: { certificate: 'tls' } });
    const response = await provider.fetch(`${url}/invoices`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ scheme: 'DPoP', jkt: provider.dpop!.jkt });
  });

  test('with a valid proof but without the certificate (or with another one) it is refused', async () => {
    const url = await api({ dpop: {}, mtls: { certificate: 'tls' } });
    const token = await provider.getToken();
    const thief = generateDpopKey();
    for (const certificate of [undefined, pki.other]) {
      const client = tlsClient(pki, certificate);
      try {
        // The thief has no DPoP private key either: its own proof fails the jkt binding, so the
        // certificate check is what this asserts with a proof of the right key shape.
        const proof = createDpopProof({ key: thief, htm: 'GET', htu: `${url}/invoices`, accessToken: token });
        const answer = await client.get(`${url}/invoices`, { authorization: `DPoP ${token}`, dpop: proof });
        expect(answer.status).toBe(401);
      } finally {
        await client.close();
      }
    }
    expect(jwkThumbprint(thief.publicJwk as Record<string, unknown>)).not.toBe(provider.dpop!.jkt);
  });

  test('an API that checks only DPoP refuses it: its certificate binding is unchecked', async () => {
    const url = await api({ dpop: {} });
    const response = await provider.fetch(`${url}/invoices`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_token"/);
    expect(await response.json()).toMatchObject({ error_description: expect.stringMatching(/sender-constrained by a method this API does not check/) });
  });

  test('an API that checks only the certificate refuses it, as Bearer over the certificate too: its DPoP binding is unchecked', async () => {
    const url = await api({ mtls: { certificate: 'tls' } });
    // The DPoP scheme is not one this API takes: a request without its credentials (RFC 6750 section 3.1).
    const response = await provider.fetch(`${url}/invoices`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    await response.arrayBuffer();
    const client = tlsClient(pki, pki.client);
    try {
      const answer = await client.get(`${url}/invoices`, { authorization: `Bearer ${await provider.getToken()}` });
      expect(answer.status).toBe(401);
      expect(answer.challenge).toMatch(/^Bearer .*error="invalid_token"/);
      expect(answer.body?.error_description).toMatch(/sender-constrained by a method this API does not check/);
    } finally {
      await client.close();
    }
  });
});
