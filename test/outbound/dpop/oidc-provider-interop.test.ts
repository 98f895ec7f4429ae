/**
 * Interop with an independent authorization server, oidc-provider 9 (in a child process: it is
 * ESM): the provider obtains a DPoP-bound token (its `cnf.jkt` is the thumbprint of the
 * provider's key), answers oidc-provider's nonce requirement with one retry, and presents the
 * token to a resource server that verifies it against oidc-provider's JWKS and checks each proof.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { clientCredentials, jwkThumbprint, type TokenProvider } from 'express-m2m';
import { startResourceServer, type TestResourceServer } from './dpop-servers.js';

let child: ChildProcess;
let issuer: string;
let rs: TestResourceServer;
/** What went through the provider's transport to oidc-provider: method, URL, status, proof. */
const exchanges: { url: string; status: number; dpop: string | null; nonce: string | null }[] = [];
const providers: TokenProvider[] = [];

beforeAll(async () => {
  child = spawn(process.execPath, [join(__dirname, 'fixtures', 'oidc-provider-as.mjs')], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  issuer = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0]!) as { issuer: string }).issuer);
    });
    child.once('exit', (code) => reject(new Error(`oidc-provider exited with ${code}: ${stderr}`)));
  });
  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  rs = await startResourceServer({
    verify: async (token) => (await jwtVerify(token, jwks, { issuer, audience: 'https://billing.example' })).payload as Record<string, unknown>,
  });
}, 30_000);
afterAll(async () => {
  await Promise.all(providers.map((provider) => provider.close()));
  child.stdin?.end();
  await rs.close();
});
beforeEach(() => {
  exchanges.length = 0;
  rs.reset();
});

function provider(clientId: string, dpop: { alg?: 'EdDSA' } = {}): TokenProvider {
  const made = clientCredentials({
    issuerBaseURL: issuer,
    clientId,
    clientSecret: `${clientId}-secret-0123456789abcdef`,
    scope: 'invoices:read',
    resource: 'https://billing.example',
    maxRetries: 0,
    dpop,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const url = String(input);
      if (url.startsWith(issuer)) {
        exchanges.push({ url, status: response.status, dpop: new Headers(init?.headers).get('dpop'), nonce: response.headers.get('dpop-nonce') });
      }
      return response;
    },
  });
  providers.push(made);
  return made;
}

describe('RFC 9449 section 5 with oidc-provider: a DPoP-bound client-credentials token', () => {
  it('gets token_type DPoP, and the token\'s cnf.jkt is the thumbprint of the provider\'s key', async () => {
    const billing = provider('svc');
    const tokenSet = await billing.getTokenSet();
    expect(tokenSet.tokenType).toBe('DPoP');
    const claims = decodeJwt(tokenSet.accessToken);
    expect(claims.cnf).toEqual({ jkt: jwkThumbprint(billing.dpop!.publicJwk as Record<string, unknown>) });
    expect(claims.cnf).toEqual({ jkt: billing.dpop!.jkt });
    const tokenRequests = exchanges.filter((exchange) => exchange.url === `${issuer}/token`);
    expect(tokenRequests.map((exchange) => exchange.status)).toEqual([200]);
  });

  it('works with an Ed25519 key (EdDSA) too', async () => {
    const billing = provider('svc', { alg: 'EdDSA' });
    const tokenSet = await billing.getTokenSet();
    expect(tokenSet.tokenType).toBe('DPoP');
    expect(decodeJwt(tokenSet.accessToken).cnf).toEqual({ jkt: billing.dpop!.jkt });
    expect((await billing.fetch(`${rs.url}/invoices`)).status).toBe(200);
  });

  it('presents it to a resource server that verifies it (oidc-provider\'s JWKS) and its proof', async () => {
    const billing = provider('svc');
    const response = await billing.fetch(`${rs.url}/invoices?page=1`);
    expect(response.status).toBe(200);
    expect(rs.requests[0]!.proof!.jkt).toBe(billing.dpop!.jkt);
    expect(rs.requests[0]!.problem).toBeUndefined();
  });
});

describe('RFC 9449 section 8 with oidc-provider: the authorization server requires a nonce', () => {
  it('answers use_dpop_nonce with exactly one retry carrying oidc-provider\'s nonce', async () => {
    const billing = provider('svc-nonce');
    const tokenSet = await billing.getTokenSet();
    expect(tokenSet.tokenType).toBe('DPoP');
    const tokenRequests = exchanges.filter((exchange) => exchange.url === `${issuer}/token`);
    expect(tokenRequests.map((exchange) => exchange.status)).toEqual([400, 200]);
    const given = tokenRequests[0]!.nonce;
    expect(given).toEqual(expect.any(String));
    const retried = decodeJwt(tokenRequests[1]!.dpop!);
    expect(retried.nonce).toBe(given);
    expect(decodeJwt(tokenRequests[0]!.dpop!).nonce).toBeUndefined();
    expect(decodeJwt(tokenSet.accessToken).cnf).toEqual({ jkt: billing.dpop!.jkt });
  });

  it('sends the remembered nonce at once on the next token request', async () => {
    const billing = provider('svc-nonce');
    await billing.getToken();
    exchanges.length = 0;
    await billing.getToken({ forceRefresh: true });
    const tokenRequests = exchanges.filter((exchange) => exchange.url === `${issuer}/token`);
    expect(tokenRequests.map((exchange) => exchange.status)).toEqual([200]);
    expect(decodeJwt(tokenRequests[0]!.dpop!).nonce).toEqual(expect.any(String));
  });
});
