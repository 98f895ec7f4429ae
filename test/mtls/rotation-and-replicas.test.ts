/**
 * Promises of the `tls` option beyond one request: certificate files are reloaded when they
 * change (checked with fs.stat on use, at most once a second: a fake clock moves time on), calls
 * in flight finish on the old certificate; the shared Redis cache keeps replicas with the same
 * certificate on one token and replicas with different certificates apart; an https issuer's mTLS
 * alias must be https (RFC 8705 section 5 with RFC 8414's rules).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { decodeJwt } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { authErrorHandler, clientCredentials, requireAuth, type FetchLike, type TokenProvider } from 'express-m2m';
import { redisTokenCache } from 'express-m2m/redis';
import { MetadataDiscovery } from 'express-m2m/extend';
import { createLocalIssuer, type LocalIssuer, type TestCertificate } from 'express-m2m/testing';
import { describeRedis, REDIS_URL } from '../caches/redis-support.js';
import { listenTls, type Pki } from './support.js';

const API = 'https://api.orders.test';
let issuer: LocalIssuer;
let pki: Pki;
let dir: string;
let api: { url: string; close: () => Promise<void> };
let auth: ReturnType<typeof requireAuth>;
let agent: Agent;
/** Requests the API holds until released. */
const held: Array<() => void> = [];
let arrived: () => void = () => undefined;
const providers: TokenProvider[] = [];

beforeAll(async () => {
  issuer = await createLocalIssuer({ tls: {} });
  const authority = issuer.tls!.authority!;
  pki = {
    ca: authority,
    server: authority.issue({ usage: ['server'] }),
    client: issuer.tls!.issueClientCertificate({ subject: 'CN=rotating-1', dnsNames: ['rotating.internal'] }),
    other: issuer.tls!.issueClientCertificate({ subject: 'CN=rotating-2', dnsNames: ['rotating.internal'] }),
  };
  issuer.registerClient({ clientId: 'rotating', audiences: [API], tlsClientAuth: { sanDns: 'rotating.internal' } });
  dir = mkdtempSync(join(tmpdir(), 'express-m2m-rotation-'));
  agent = new Agent({ connect: { ca: issuer.tls!.ca } });
  const trusting: FetchLike = (input, init) => undiciFetch(input as string, { ...(init as object), dispatcher: agent } as never) as unknown as Promise<Response>;
  auth = requireAuth({ issuerBaseURL: issuer.url, audience: API, mtls: { mode: 'required', certificate: 'tls' }, fetch: trusting });
  const app = express();
  app.get('/slow', auth, (req, res) => {
    held.push(() => res.json({ bound: (req.auth?.payload.cnf as Record<string, string>)['x5t#S256'] }));
    arrived();
  });
  app.get('/whoami', auth, (req, res) => { res.json({ bound: (req.auth?.payload.cnf as Record<string, string>)['x5t#S256'] }); });
  app.use(authErrorHandler());
  api = await listenTls(pki, app);
});
afterAll(async () => {
  for (const provider of providers) await provider.close();
  auth.close();
  await api.close();
  await agent.close();
  await issuer.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Replaces a file the way a certificate manager does: written aside, then renamed over it. */
function install(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(`${path}.new`, text);
  renameSync(`${path}.new`, path);
  return path;
}

describe('tls files are reloaded when they change, without dropping calls in flight', () => {
  test('rotation during calls: the held call finishes on the old certificate, new calls use the new one with a new token', async () => {
    let offset = 0;
    const now = () => Date.now() + offset;
    const cert = install('client.crt', pki.client.cert);
    const key = install('client.key', pki.client.key);
    const ca = install('ca.crt', issuer.tls!.ca);
    const provider = clientCredentials({ issuerBaseURL: issuer.url, clientId: 'rotating', audience: API, tls: { cert, key, ca }, now });
    providers.push(provider);

    const inFlight = new Promise<void>((resolve) => { arrived = resolve; });
    const slow = provider.fetch(`${api.url}/slow`);
    await inFlight; // the API holds it, over the first certificate

    install('client.crt', pki.other.cert);
    install('client.key', pki.other.key);
    // Within the second since the last check, the files are not looked at.
    expect(await (await provider.fetch(`${api.url}/whoami`)).json()).toEqual({ bound: pki.client.thumbprint });
    offset += 1500;
    const requestsBefore = issuer.tokenRequests.length;
    expect(await (await provider.fetch(`${api.url}/whoami`)).json()).toEqual({ bound: pki.other.thumbprint });
    expect(issuer.tokenRequests.length).toBe(requestsBefore + 1); // a new token, for the new certificate
    expect(decodeJwt(await provider.getToken()).cnf).toEqual({ 'x5t#S256': pki.other.thumbprint });

    (held.shift() as () => void)();
    const finished = await slow;
    expect(finished.status).toBe(200);
    expect(await finished.json()).toEqual({ bound: pki.client.thumbprint });
  });

  test('files caught half written (a key that is not the certificate\'s) are ignored until they fit', async () => {
    let offset = 0;
    const now = () => Date.now() + offset;
    const cert = install('half.crt', pki.client.cert);
    const key = install('half.key', pki.client.key);
    const provider = clientCredentials({ issuerBaseURL: issuer.url, clientId: 'rotating', audience: API, tls: { cert, key, ca: issuer.tls!.ca }, now });
    providers.push(provider);
    expect(await (await provider.fetch(`${api.url}/whoami`)).json()).toEqual({ bound: pki.client.thumbprint });
    install('half.key', pki.other.key); // the key first...
    offset += 1500;
    expect(await (await provider.fetch(`${api.url}/whoami`)).json()).toEqual({ bound: pki.client.thumbprint });
    install('half.crt', pki.other.cert); // ...then its certificate
    offset += 1500;
    expect(await (await provider.fetch(`${api.url}/whoami`)).json()).toEqual({ bound: pki.other.thumbprint });
  });
});

describeRedis('the shared Redis cache across replicas (cache key with the certificate thumbprint)', () => {
  test('replicas with the same certificate share one token; a replica with another certificate gets its own', async () => {
    const keyPrefix = `express-m2m-test:mtls:${randomUUID()}:`;
    const replica = (certificate: TestCertificate) => {
      const cache = redisTokenCache({ url: REDIS_URL, keyPrefix });
      const provider = clientCredentials({ issuerBaseURL: issuer.url, clientId: 'rotating', audience: API, cache, tls: { cert: certificate.cert, key: certificate.key, ca: issuer.tls!.ca } });
      providers.push({ ...provider, close: async () => { await provider.close(); await cache.close(); } });
      return provider;
    };
    const before = issuer.tokenRequests.length;
    const [a, b, c] = [replica(pki.client), replica(pki.client), replica(pki.other)];
    const tokenA = await a.getToken();
    expect(await b.getToken()).toBe(tokenA);
    const tokenC = await c.getToken();
    expect(decodeJwt(tokenC).cnf).toEqual({ 'x5t#S256': pki.other.thumbprint });
    expect(issuer.tokenRequests.length - before).toBe(2);
    expect((await c.fetch(`${api.url}/whoami`)).status).toBe(200);
  });
});

describe('RFC 8705 section 5: mtls_endpoint_aliases is checked like the other endpoints', () => {
  test('an https issuer whose alias is plain http is refused; a valid alias is kept', async () => {
    const { createServer } = await import('node:https');
    let alias = 'http://127.0.0.1:1/token';
    const server = createServer({ key: pki.server.key, cert: pki.server.cert }, (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer: `https://127.0.0.1:${(server.address() as { port: number }).port}`, token_endpoint: 'https://127.0.0.1/token', mtls_endpoint_aliases: { token_endpoint: alias } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
    const trusting: FetchLike = (input, init) => undiciFetch(input as string, { ...(init as object), dispatcher: agent } as never) as unknown as Promise<Response>;
    try {
      await expect(new MetadataDiscovery(origin, { fetch: trusting }).get()).rejects.toThrow(/mtls_endpoint_aliases.token_endpoint .* must be https/);
      alias = `${origin}/mtls/token`;
      const metadata = await new MetadataDiscovery(origin, { fetch: trusting }).get();
      expect(metadata.mtls_endpoint_aliases?.token_endpoint).toBe(alias);
    } finally {
      server.close();
    }
  });
});
