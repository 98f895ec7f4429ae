/**
 * RFC 8705 outbound: `clientCredentials({ tls, authMethod: 'tls_client_auth' | 'self_signed_tls_client_auth' })`
 * against the local issuer served over https with mutual TLS; the certificate-bound token
 * presented downstream over the same certificate (`provider.fetch()`, `outboundAuth`), to an API
 * that requires certificate-bound tokens. Real TLS servers on 127.0.0.1, certificates made at
 * test time.
 */
import express from 'express';
import { Agent, fetch as undiciFetch } from 'undici';
import { decodeJwt } from 'jose';
import { authErrorHandler, clientCredentials, getOutbound, MemoryTokenCache, outboundAuth, requireAuth, type TokenProvider } from 'express-m2m';
import { createLocalIssuer, createSelfSignedCertificate, type LocalIssuer, type TestCertificate } from 'express-m2m/testing';
import { EXPRESS_VERSIONS } from '../express/support.js';
import { listenTls, tlsClient, trusting, type Pki } from './support.js';

const API = 'https://api.orders.test';
let issuer: LocalIssuer;
let pki: Pki;
let api: { url: string; close: () => Promise<void> };
let auth: ReturnType<typeof requireAuth>;
const providers: TokenProvider[] = [];

beforeAll(async () => {
  issuer = await createLocalIssuer({ tls: {} });
  const tls = issuer.tls!;
  const authority = tls.authority!;
  pki = {
    ca: authority,
    server: authority.issue({ usage: ['server'] }),
    client: tls.issueClientCertificate({ subject: 'CN=orders,O=Example' }),
    other: tls.issueClientCertificate({ subject: 'CN=intruder' }),
  };
  issuer.registerClient({ clientId: 'orders', audiences: [API], scopes: ['invoices:read'], tlsClientAuth: { subjectDn: 'CN=orders,O=Example' } });
  auth = requireAuth({ issuerBaseURL: issuer.url, audience: API, mtls: { mode: 'required', certificate: 'tls' }, fetch: trusting(tls.ca) });
  const app = express();
  app.get('/invoices', auth, (req, res) => { res.json({ client: req.auth?.payload.client_id }); });
  app.use(authErrorHandler());
  api = await listenTls(pki, app);
});
afterAll(async () => {
  for (const provider of providers) await provider.close();
  auth.close();
  await api.close();
  await issuer.close();
});

function provider(certificate: TestCertificate, extra: Record<string, unknown> = {}): TokenProvider {
  const made = clientCredentials({
    issuerBaseURL: issuer.url, clientId: 'orders', audience: API,
    tls: { cert: certificate.cert, key: certificate.key, ca: [issuer.tls!.ca] },
    ...extra,
  });
  providers.push(made);
  return made;
}

describe('RFC 8705 section 2.1: tls_client_auth at the mTLS alias of the token endpoint (section 5)', () => {
  test('discovery finds mtls_endpoint_aliases; the request carries client_id and no secret; the token is bound to the certificate', async () => {
    const orders = provider(pki.client);
    const token = await orders.getToken();
    expect(decodeJwt(token).cnf).toEqual({ 'x5t#S256': pki.client.thumbprint });
    const recorded = issuer.lastTokenRequest!;
    expect(recorded.params).toEqual({ grant_type: 'client_credentials', client_id: 'orders', audience: API });
    expect(recorded.headers.authorization).toBeUndefined();
  });

  test('the metadata publishes the alias and tls_client_certificate_bound_access_tokens', async () => {
    const metadata = await (await undiciFetch(`${issuer.url}/.well-known/openid-configuration`, { dispatcher: new Agent({ connect: { ca: issuer.tls!.ca } }) })).json() as Record<string, unknown>;
    expect(metadata).toMatchObject({
      mtls_endpoint_aliases: { token_endpoint: issuer.tls!.tokenEndpoint },
      tls_client_certificate_bound_access_tokens: true,
      token_endpoint: issuer.tokenEndpoint,
    });
  });

  test('a configured tokenEndpoint is used as given (the alias is for discovery)', async () => {
    const orders = clientCredentials({ tokenEndpoint: issuer.tls!.tokenEndpoint, clientId: 'orders', audience: API, tls: { cert: pki.client.cert, key: pki.client.key, ca: issuer.tls!.ca } });
    providers.push(orders);
    expect(decodeJwt(await orders.getToken()).cnf).toEqual({ 'x5t#S256': pki.client.thumbprint });
    // The plain endpoint does not look at certificates: no client authentication there.
    const plain = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId: 'orders', audience: API, tls: { cert: pki.client.cert, key: pki.client.key, ca: issuer.tls!.ca }, maxRetries: 0 });
    providers.push(plain);
    await expect(plain.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_REJECTED', error: 'invalid_client' });
  });

  test('a certificate with another subject: invalid_client', async () => {
    await expect(provider(pki.other, { maxRetries: 0 }).getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_REJECTED', status: 401, error: 'invalid_client' });
  });

  test('a self-signed certificate is not tls_client_auth (its chain is not trusted), even with the registered subject', async () => {
    const forged = createSelfSignedCertificate({ subject: 'CN=orders,O=Example', usage: ['client'] });
    await expect(provider(forged, { maxRetries: 0 }).getToken()).rejects.toMatchObject({ error: 'invalid_client' });
  });
});

describe('RFC 8705 section 2.2: self_signed_tls_client_auth', () => {
  test.each([
    ['the registered certificate', (certificate: TestCertificate) => ({ certificates: [certificate.cert] })],
    ['a JWK Set with x5c', (certificate: TestCertificate) => ({ jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', x5c: [Buffer.from(certificate.der).toString('base64')] }] } })],
  ])('by %s: a bound token; another self-signed certificate: invalid_client', async (_by, registration) => {
    const mine = createSelfSignedCertificate({ subject: 'CN=reports', usage: ['client'] });
    const clientId = `reports-${Math.random().toString(36).slice(2)}`;
    issuer.registerClient({ clientId, audiences: [API], selfSignedTlsClientAuth: registration(mine) as never });
    const reports = provider(mine, { clientId, authMethod: 'self_signed_tls_client_auth' });
    expect(decodeJwt(await reports.getToken()).cnf).toEqual({ 'x5t#S256': mine.thumbprint });
    const stranger = createSelfSignedCertificate({ subject: 'CN=reports', usage: ['client'] });
    await expect(provider(stranger, { clientId, authMethod: 'self_signed_tls_client_auth', maxRetries: 0 }).getToken()).rejects.toMatchObject({ error: 'invalid_client' });
  });
});

describe('RFC 8705 section 3: the bound token is presented over the same certificate', () => {
  test('provider.fetch() calls an API that requires certificate-bound tokens: 200; the same token without the certificate: 401', async () => {
    const orders = provider(pki.client);
    const response = await orders.fetch(`${api.url}/invoices`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ client: 'orders' });
    const stolen = tlsClient(pki);
    const replayed = await stolen.get(`${api.url}/invoices`, { authorization: `Bearer ${await orders.getToken()}` });
    await stolen.close();
    expect(replayed.status).toBe(401);
    const otherCertificate = tlsClient(pki, pki.other);
    expect((await otherCertificate.get(`${api.url}/invoices`, { authorization: `Bearer ${await orders.getToken()}` })).status).toBe(401);
    await otherCertificate.close();
  });

  test.each(EXPRESS_VERSIONS)('outboundAuth clients use the certificate too (%s)', async (_name, makeApp) => {
    const app = makeApp();
    const outbound = outboundAuth({
      defaults: { issuerBaseURL: issuer.url, clientId: 'orders', tls: { cert: pki.client.cert, key: pki.client.key, ca: issuer.tls!.ca } },
      services: { invoices: { baseUrl: api.url, audience: API } },
    });
    app.use(outbound);
    app.get('/proxy', async (req, res) => {
      const response = await getOutbound(req).fetch('invoices', '/invoices');
      res.status(response.status).json(await response.json());
    });
    const front = await listenTls(pki, app);
    const caller = tlsClient(pki);
    try {
      expect(await caller.get(`${front.url}/proxy`)).toMatchObject({ status: 200, body: { client: 'orders' } });
    } finally {
      await caller.close();
      await front.close();
      await outbound.close();
    }
  });
});

describe('the cache key includes the certificate thumbprint (a token bound to one certificate is useless with another)', () => {
  test('two providers with one shared cache: the same certificate shares a token, another certificate gets its own', async () => {
    const cache = new MemoryTokenCache();
    issuer.registerClient({ clientId: 'orders-2', audiences: [API], tlsClientAuth: { sanDns: 'orders.internal' } });
    const first = issuer.tls!.issueClientCertificate({ subject: 'CN=a', dnsNames: ['orders.internal'] });
    const second = issuer.tls!.issueClientCertificate({ subject: 'CN=b', dnsNames: ['orders.internal'] });
    const a1 = provider(first, { clientId: 'orders-2', cache });
    const a2 = provider(first, { clientId: 'orders-2', cache });
    const b = provider(second, { clientId: 'orders-2', cache });
    const tokenA = await a1.getToken();
    expect(await a2.getToken()).toBe(tokenA);
    const tokenB = await b.getToken();
    expect(tokenB).not.toBe(tokenA);
    expect(decodeJwt(tokenA).cnf).toEqual({ 'x5t#S256': first.thumbprint });
    expect(decodeJwt(tokenB).cnf).toEqual({ 'x5t#S256': second.thumbprint });
  });
});

describe('the tls option is read once, at construction, naming what is wrong', () => {
  const base = { tokenEndpoint: 'https://auth.example/token', clientId: 'orders' };
  test.each([
    [{ tls: {} }, /"tls.cert" is required/],
    [{ tls: { cert: 'CERT' } }, /"tls.key" is required/],
    [{ tls: { cert: '/no/such/file.pem', key: '/no/such/key.pem' } }, /"tls.cert" cannot be read from its file \(ENOENT\)/],
    [{ tls: { cert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', key: 'k' } }, /"tls.key" cannot be read|"tls.cert" must be an X.509 certificate/],
    [{ tls: { crt: 'x' } }, /unknown option "tls.crt"/],
    [{ authMethod: 'tls_client_auth' }, /"authMethod" tls_client_auth needs the client certificate of the "tls" option/],
  ])('%j', (options, message) => {
    expect(() => clientCredentials({ ...base, ...options } as never)).toThrow(message);
  });

  test('a key that is not the certificate\'s, a secret with tls_client_auth, fetch with tls', () => {
    const tls = { cert: pki.client.cert, key: pki.other.key };
    expect(() => clientCredentials({ ...base, tls })).toThrow('"tls.key" must be the PEM private key of "tls.cert"');
    const good = { cert: pki.client.cert, key: pki.client.key };
    expect(() => clientCredentials({ ...base, tls: good, authMethod: 'tls_client_auth', clientSecret: 's' })).toThrow('"clientSecret" does not apply to tls_client_auth');
    expect(() => clientCredentials({ ...base, tls: good, fetch: globalThis.fetch })).toThrow('"fetch" cannot be given with "tls"');
    expect(() => clientCredentials({ ...base, tls: good, clientSecret: 'never shown' })).not.toThrow();
  });
});
