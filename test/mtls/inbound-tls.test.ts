/**
 * RFC 8705 section 3, certificate-bound access tokens, with Node terminating TLS
 * (`mtls: { certificate: 'tls' }`): a token with `cnf["x5t#S256"]` is accepted only over a
 * connection whose client certificate has that thumbprint. Real https servers on 127.0.0.1,
 * Express 4 and 5, certificates made at test time.
 */
import { authErrorHandler, requireAuth, type RequireAuthEvent, type RequireAuthOptions } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { AUDIENCE, EXPRESS_VERSIONS } from '../express/support.js';
import { clientCertHeader, listenTls, makePki, tlsClient, type Pki } from './support.js';

let issuer: LocalIssuer;
let pki: Pki;
beforeAll(async () => {
  issuer = await createLocalIssuer();
  pki = makePki();
});
afterAll(async () => {
  await issuer.close();
});

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe.each(EXPRESS_VERSIONS)('RFC 8705 section 3: certificate-bound tokens over the TLS connection (%s)', (_name, makeApp) => {
  async function api(mtls: RequireAuthOptions['mtls'], events: RequireAuthEvent[] = []) {
    const auth = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, mtls, onEvent: (event) => events.push(event) });
    closers.push(() => auth.close());
    const app = makeApp();
    app.get('/orders', auth, (req, res) => { res.json({ client: req.auth?.payload.client_id }); });
    app.use(authErrorHandler());
    const server = await listenTls(pki, app);
    closers.push(server.close);
    return server.url;
  }
  function client(certificate?: Pki['client']) {
    const made = tlsClient(pki, certificate);
    closers.push(made.close);
    return made;
  }
  const bound = (thumbprint: string) => issuer.accessToken({ audience: AUDIENCE, clientId: 'orders', claims: { cnf: { 'x5t#S256': thumbprint } } });
  const rejectedCodes = (events: RequireAuthEvent[]) => events.flatMap((event) => (event.type === 'auth.rejected' ? [event.code] : []));

  test('the certificate the token is bound to: 200, every time (verified-token cache hits included)', async () => {
    const url = await api({ certificate: 'tls' });
    const token = await bound(pki.client.thumbprint);
    const orders = client(pki.client);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const response = await orders.get(`${url}/orders`, { authorization: `Bearer ${token}` });
      expect(response).toMatchObject({ status: 200, body: { client: 'orders' } });
    }
  });

  test('another certificate (same CA): 401 invalid_token saying the binding failed, with its thumbprint only', async () => {
    const events: RequireAuthEvent[] = [];
    const url = await api({ certificate: 'tls' }, events);
    const token = await bound(pki.client.thumbprint);
    // First with the right certificate (the token is now in the verified-token cache), then another.
    expect((await client(pki.client).get(`${url}/orders`, { authorization: `Bearer ${token}` })).status).toBe(200);
    const response = await client(pki.other).get(`${url}/orders`, { authorization: `Bearer ${token}` });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({
      error: 'invalid_token',
      error_description: `the token's certificate binding failed: the client certificate (SHA-256 thumbprint ${pki.other.thumbprint}) is not the one the token is bound to`,
    });
    expect(response.challenge).toMatch(/^Bearer error="invalid_token"/);
    expect(JSON.stringify(response.body)).not.toContain(Buffer.from(pki.other.der).toString('base64').slice(0, 40));
    expect(rejectedCodes(events)).toEqual(['ERR_TOKEN_CERTIFICATE_MISMATCH']);
  });

  test('no client certificate: 401 invalid_token', async () => {
    const events: RequireAuthEvent[] = [];
    const url = await api({ certificate: 'tls' }, events);
    const response = await client().get(`${url}/orders`, { authorization: `Bearer ${await bound(pki.client.thumbprint)}` });
    expect(response.status).toBe(401);
    expect(response.body?.error_description).toBe('the token is bound to a client certificate (cnf x5t#S256) and the request presented none');
    expect(rejectedCodes(events)).toEqual(['ERR_TOKEN_CERTIFICATE_MISSING']);
  });

  test('a Client-Cert header with the right certificate is ignored when the source is the TLS connection (the bound token is refused)', async () => {
    const url = await api({ certificate: 'tls' });
    const response = await client().get(`${url}/orders`, {
      authorization: `Bearer ${await bound(pki.client.thumbprint)}`,
      'client-cert': clientCertHeader(pki.client),
      'x-forwarded-client-cert': `Hash=${Buffer.from(pki.client.thumbprint, 'base64url').toString('hex')}`,
    });
    expect(response.status).toBe(401);
    expect(response.body?.error_description).toMatch(/presented none/);
  });

  test("mode 'allowed' (the default): an unbound token still passes, with or without a certificate", async () => {
    const url = await api({ certificate: 'tls' });
    const token = await issuer.accessToken({ audience: AUDIENCE, clientId: 'plain' });
    expect((await client().get(`${url}/orders`, { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await client(pki.other).get(`${url}/orders`, { authorization: `Bearer ${token}` })).status).toBe(200);
  });

  test("mode 'required': an unbound token is refused even with a client certificate; a bound one passes", async () => {
    const events: RequireAuthEvent[] = [];
    const url = await api({ mode: 'required', certificate: 'tls' }, events);
    const plain = await issuer.accessToken({ audience: AUDIENCE, clientId: 'plain' });
    const response = await client(pki.client).get(`${url}/orders`, { authorization: `Bearer ${plain}` });
    expect(response.status).toBe(401);
    expect(response.body?.error_description).toBe('this API accepts only certificate-bound tokens (RFC 8705): the token has no cnf x5t#S256');
    expect(rejectedCodes(events)).toEqual(['ERR_TOKEN_NOT_CERTIFICATE_BOUND']);
    expect((await client(pki.client).get(`${url}/orders`, { authorization: `Bearer ${await bound(pki.client.thumbprint)}` })).status).toBe(200);
  });

  test('a self-signed client certificate works too: the binding is the thumbprint, not a chain (RFC 8705 section 3)', async () => {
    const { createSelfSignedCertificate } = await import('express-m2m/testing');
    const selfSigned = createSelfSignedCertificate({ subject: 'CN=self', usage: ['client'] });
    const url = await api({ certificate: 'tls' });
    const response = await client(selfSigned).get(`${url}/orders`, { authorization: `Bearer ${await bound(selfSigned.thumbprint)}` });
    expect(response.status).toBe(200);
  });
});

describe('RFC 8705 with RFC 9449: a token bound both ways needs both proofs', () => {
  test('a token with cnf jkt and x5t#S256 is refused by an API that checks only the certificate', async () => {
    const events: RequireAuthEvent[] = [];
    const auth = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, mtls: { certificate: 'tls' }, onEvent: (event) => events.push(event) });
    closers.push(() => auth.close());
    const app = (EXPRESS_VERSIONS[0] as (typeof EXPRESS_VERSIONS)[number])[1]();
    app.get('/orders', auth, (_req, res) => { res.json({}); });
    app.use(authErrorHandler());
    const server = await listenTls(pki, app);
    closers.push(server.close);
    const token = await issuer.accessToken({ audience: AUDIENCE, claims: { cnf: { 'x5t#S256': pki.client.thumbprint, jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' } } });
    const orders = tlsClient(pki, pki.client);
    closers.push(orders.close);
    const response = await orders.get(`${server.url}/orders`, { authorization: `Bearer ${token}` });
    expect(response.status).toBe(401);
    expect(response.body?.error_description).toMatch(/sender-constrained by a method this API does not check/);
    expect(events.flatMap((event) => (event.type === 'auth.rejected' ? [event.code] : []))).toEqual(['ERR_TOKEN_SENDER_CONSTRAINED']);
  });
});
