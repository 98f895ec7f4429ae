/**
 * Interop with an independent authorization server, oidc-provider 9 (in a child process: it is
 * ESM-only), with its mTLS features: `tls_client_auth` (RFC 8705 section 2.1) and
 * `self_signed_tls_client_auth` (2.2) at the mTLS alias its metadata names (section 5), its
 * certificate-bound JWT access tokens (section 3) presented by `provider.fetch()` to a
 * `requireAuth({ mtls })` API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import express from 'express';
import { decodeJwt } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { authErrorHandler, clientCredentials, requireAuth, type FetchLike, type TokenProvider } from 'express-m2m';
import { createSelfSignedCertificate } from 'express-m2m/testing';
import { listenTls, makePki, type Pki } from './support.js';

const AUDIENCE = 'https://api.orders.test';
let child: ChildProcess;
let dir: string;
let issuer: string;
let alias: string;
let pki: Pki;
const selfSigned = createSelfSignedCertificate({ subject: 'CN=reports', usage: ['client'] });
const providers: TokenProvider[] = [];

beforeAll(async () => {
  pki = makePki();
  dir = mkdtempSync(join(tmpdir(), 'express-m2m-oidc-provider-'));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const signing = { ...createPrivateKey(privateKey).export({ format: 'jwk' }), kid: 'op-1', alg: 'ES256', use: 'sig' };
  const selfSignedJwk = { ...createPublicKey(selfSigned.key).export({ format: 'jwk' }), x5c: [Buffer.from(selfSigned.der).toString('base64')] };
  const client = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], id_token_signed_response_alg: 'ES256', tls_client_certificate_bound_access_tokens: true };
  const settings = {
    serverKey: pki.server.key, serverCert: pki.server.cert, ca: pki.ca.cert, audience: AUDIENCE, jwks: { keys: [signing] },
    clients: [
      { ...client, client_id: 'orders', token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=orders,O=Example' },
      { ...client, client_id: 'reports', token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks: { keys: [selfSignedJwk] } },
    ],
  };
  writeFileSync(join(dir, 'settings.json'), JSON.stringify(settings));
  child = spawn(process.execPath, [join(__dirname, 'fixtures/oidc-provider-mtls.mjs'), join(dir, 'settings.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`oidc-provider exited with ${code}`)));
  });
  ({ issuer, alias } = JSON.parse(line) as { issuer: string; alias: string });
}, 30_000);
afterAll(async () => {
  for (const provider of providers) await provider.close();
  child?.kill();
  rmSync(dir, { recursive: true, force: true });
});

function provider(clientId: string, certificate: Pki['client'], extra: Record<string, unknown> = {}): TokenProvider {
  const made = clientCredentials({ issuerBaseURL: issuer, clientId, tls: { cert: certificate.cert, key: certificate.key, ca: pki.ca.cert }, maxRetries: 0, ...extra });
  providers.push(made);
  return made;
}

describe('oidc-provider 9: RFC 8705 client authentication at its mTLS alias, certificate-bound tokens', () => {
  test('tls_client_auth (section 2.1): a JWT bound to the certificate (cnf x5t#S256), got from the alias found by discovery', async () => {
    const token = await provider('orders', pki.client).getToken();
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ client_id: 'orders', aud: AUDIENCE, cnf: { 'x5t#S256': pki.client.thumbprint } });
    expect(alias).not.toContain(new URL(issuer).host); // a different server: the alias was used
  });

  test('self_signed_tls_client_auth (section 2.2): the registered self-signed certificate', async () => {
    const token = await provider('reports', selfSigned, { authMethod: 'self_signed_tls_client_auth' }).getToken();
    expect(decodeJwt(token).cnf).toEqual({ 'x5t#S256': selfSigned.thumbprint });
  });

  test('a certificate it does not know: invalid_client', async () => {
    await expect(provider('orders', pki.other).getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_REJECTED', error: 'invalid_client' });
    await expect(provider('reports', createSelfSignedCertificate({ subject: 'CN=reports' }), { authMethod: 'self_signed_tls_client_auth' }).getToken())
      .rejects.toMatchObject({ error: 'invalid_client' });
  });

  test("its bound token, presented by provider.fetch() over the certificate, passes requireAuth({ mtls: { mode: 'required' } }); another certificate does not", async () => {
    const agent = new Agent({ connect: { ca: pki.ca.cert } });
    const trusting: FetchLike = (input, init) => undiciFetch(input as string, { ...(init as object), dispatcher: agent } as never) as unknown as Promise<Response>;
    const auth = requireAuth({ issuerBaseURL: issuer, audience: AUDIENCE, algorithms: ['ES256'], mtls: { mode: 'required', certificate: 'tls' }, fetch: trusting });
    const app = express();
    app.get('/invoices', auth, (req, res) => { res.json({ client: req.auth?.payload.client_id }); });
    app.use(authErrorHandler());
    const api = await listenTls(pki, app);
    try {
      const orders = provider('orders', pki.client);
      const response = await orders.fetch(`${api.url}/invoices`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ client: 'orders' });
      const intruder = new Agent({ connect: { ca: pki.ca.cert, cert: pki.other.cert, key: pki.other.key } });
      const stolen = await undiciFetch(`${api.url}/invoices`, { headers: { authorization: `Bearer ${await orders.getToken()}` }, dispatcher: intruder });
      expect(stolen.status).toBe(401);
      await intruder.close();
    } finally {
      auth.close();
      await api.close();
      await agent.close();
    }
  });
});
