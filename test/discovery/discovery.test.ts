/**
 * Authorization server metadata discovery: OpenID Connect Discovery 1.0 section 4 and RFC 8414
 * section 3, against real HTTP servers on loopback that count their hits.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { discoveryUrls, MetadataDiscovery } from 'express-m2m/extend';
import { UpstreamError } from 'express-m2m/extend';

type Handler = (req: IncomingMessage, res: ServerResponse, base: string) => void;

/** A real metadata server; `handler` may be swapped per test. */
async function metadataServer(handler: Handler) {
  const hits: string[] = [];
  const state = { handler };
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    state.handler(req, res, base);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base, hits, state,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const servers: Array<{ close: () => Promise<void> }> = [];
afterAll(async () => { await Promise.all(servers.map((s) => s.close())); });

async function serve(handler: Handler) {
  const s = await metadataServer(handler);
  servers.push(s);
  return s;
}

describe('well-known URLs (OIDC Discovery section 4, RFC 8414 section 3)', () => {
  test('OIDC appends the well-known path; RFC 8414 inserts it before the issuer path', () => {
    expect(discoveryUrls('https://as.example/tenant/')).toEqual([
      'https://as.example/tenant/.well-known/openid-configuration',
      'https://as.example/.well-known/oauth-authorization-server/tenant',
    ]);
    expect(discoveryUrls('https://as.example')).toEqual([
      'https://as.example/.well-known/openid-configuration',
      'https://as.example/.well-known/oauth-authorization-server',
    ]);
  });

  test('a full metadata URL is used as given', () => {
    expect(discoveryUrls('https://as.example/.well-known/openid-configuration')).toEqual([
      'https://as.example/.well-known/openid-configuration',
    ]);
  });

  test('an issuerBaseURL that is not an http(s) URL fails at construction, naming the option', () => {
    expect(() => new MetadataDiscovery('as.example')).toThrow(/issuerBaseURL/);
    expect(() => new MetadataDiscovery('ftp://as.example')).toThrow(/issuerBaseURL/);
  });
});

describe('fetching metadata', () => {
  test('reads issuer, jwks_uri and token_endpoint; Auth0-style trailing slash on issuer matches', async () => {
    const s = await serve((req, res, base) => json(res, 200, { issuer: `${base}/`, jwks_uri: `${base}/jwks`, token_endpoint: `${base}/token` }));
    const metadata = await new MetadataDiscovery(s.base).get();
    expect(metadata).toMatchObject({ issuer: `${s.base}/`, jwks_uri: `${s.base}/jwks`, token_endpoint: `${s.base}/token` });
  });

  test('falls back to the RFC 8414 location when the OIDC one is 404', async () => {
    const s = await serve((req, res, base) => (req.url === '/.well-known/oauth-authorization-server'
      ? json(res, 200, { issuer: base, token_endpoint: `${base}/token` })
      : json(res, 404, {})));
    expect((await new MetadataDiscovery(s.base).get()).token_endpoint).toBe(`${s.base}/token`);
    expect(s.hits).toEqual(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']);
  });

  test('metadata naming another issuer is rejected (RFC 8414 section 3.3)', async () => {
    const s = await serve((req, res) => json(res, 200, { issuer: 'https://evil.example/' }));
    await expect(new MetadataDiscovery(s.base).get()).rejects.toThrow(/names issuer/);
  });

  test.each([
    ['HTML', (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>oops</html>'), /not answer with JSON/],
    ['a 500', (res: ServerResponse) => json(res, 500, {}), /HTTP 500/],
    ['a JSON array', (res: ServerResponse) => json(res, 200, []), /JSON object/],
    ['no issuer', (res: ServerResponse) => json(res, 200, { jwks_uri: 'x' }), /no "issuer"/],
  ])('%s is an UpstreamError that says what went wrong', async (_name, answer, message) => {
    const s = await serve((req, res) => answer(res));
    const error = await new MetadataDiscovery(s.base).get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as Error).message).toMatch(message);
  });

  test.each([
    ['with Content-Length', (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end(' '.repeat(2 * 1024 * 1024))],
    ['chunked', (res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 40; i += 1) res.write(' '.repeat(64 * 1024));
      res.end('{}');
    }],
  ])('a document over 1 MiB (%s) is refused without reading it all', async (_name, answer) => {
    const s = await serve((req, res) => answer(res));
    await expect(new MetadataDiscovery(s.base).get()).rejects.toThrow(/more than 1048576 bytes/);
  });

  test('a server that never answers times out', async () => {
    const s = await serve(() => { /* hang */ });
    await expect(new MetadataDiscovery(s.base, { timeoutDuration: 100 }).get()).rejects.toThrow(/did not answer within 100 ms/);
  });
});

describe('caching, single flight and outages', () => {
  test('concurrent callers share one request; later callers are served from the cache', async () => {
    const s = await serve((req, res, base) => setTimeout(() => json(res, 200, { issuer: base }), 20));
    const discovery = new MetadataDiscovery(s.base);
    await Promise.all(Array.from({ length: 50 }, () => discovery.get()));
    await discovery.get();
    expect(s.hits).toHaveLength(1);
  });

  test('after cacheMaxAge the metadata is fetched again', async () => {
    let now = 1_000_000;
    const s = await serve((req, res, base) => json(res, 200, { issuer: base }));
    const discovery = new MetadataDiscovery(s.base, { cacheMaxAge: 60_000, now: () => now });
    await discovery.get();
    now += 59_999;
    await discovery.get();
    expect(s.hits).toHaveLength(1);
    now += 2;
    await discovery.get();
    expect(s.hits).toHaveLength(2);
  });

  test('during an outage the last good metadata is served for maxStale, then the failure surfaces', async () => {
    let now = 1_000_000;
    let up = true;
    const s = await serve((req, res, base) => (up ? json(res, 200, { issuer: base, jwks_uri: `${base}/jwks` }) : json(res, 503, {})));
    const discovery = new MetadataDiscovery(s.base, { cacheMaxAge: 1000, maxStale: 10_000, now: () => now });
    await discovery.get();
    up = false;
    now += 5000;
    expect((await discovery.get()).jwks_uri).toBe(`${s.base}/jwks`);
    now += 7000;
    await expect(discovery.get()).rejects.toThrow(/HTTP 503/);
  });

  test('a failure is remembered for failureCooldown: a burst of callers causes one request', async () => {
    let now = 1_000_000;
    const s = await serve((req, res) => json(res, 500, {}));
    const discovery = new MetadataDiscovery(s.base, { failureCooldownDuration: 5000, now: () => now });
    for (let i = 0; i < 20; i += 1) await expect(discovery.get()).rejects.toThrow(UpstreamError);
    expect(s.hits).toHaveLength(1);
    now += 5001;
    await expect(discovery.get()).rejects.toThrow(UpstreamError);
    expect(s.hits).toHaveLength(2);
  });
});

describe('the metadata response\'s Cache-Control: max-age is followed within bounds (as for the JWKS)', () => {
  async function lifetimeOf(cacheControl: string | undefined, options: Record<string, number> = {}): Promise<number> {
    let now = 1_000_000;
    const s = await serve((req, res, base) => {
      res.writeHead(200, { 'content-type': 'application/json', ...(cacheControl === undefined ? {} : { 'cache-control': cacheControl }) });
      res.end(JSON.stringify({ issuer: base }));
    });
    const discovery = new MetadataDiscovery(s.base, { now: () => now, ...options });
    await discovery.get();
    // The first moment at which a second request is made, in seconds after the first (step: 1 s).
    for (let seconds = 1; seconds <= 200_000; seconds += seconds < 600 ? 1 : 60) {
      now = 1_000_000 + seconds * 1000;
      await discovery.get();
      if (s.hits.length > 1) return seconds;
    }
    return Number.POSITIVE_INFINITY;
  }

  test('max-age=120 -> fetched again after 120 s', async () => {
    expect(await lifetimeOf('max-age=120')).toBe(120);
  });
  test('no Cache-Control -> cacheMaxAge (default 1 h)', async () => {
    expect(await lifetimeOf(undefined)).toBe(3600);
  });
  test('max-age below minCacheMaxAge (default 60 s), and no-store -> the minimum', async () => {
    expect(await lifetimeOf('max-age=5')).toBe(60);
    expect(await lifetimeOf('no-store')).toBe(60);
  });
  test('max-age above maxCacheMaxAge (default 24 h) -> the maximum; both bounds are options', async () => {
    expect(await lifetimeOf('max-age=999999999')).toBe(86_400);
    expect(await lifetimeOf('max-age=999999999', { maxCacheMaxAge: 600_000 })).toBe(600);
    expect(await lifetimeOf('max-age=5', { minCacheMaxAge: 10_000 })).toBe(10);
  });
});

describe('the discovery tuning is an option of requireAuth, createVerifier and clientCredentials', () => {
  test('validated with the caller\'s name and the full path; refused without issuerBaseURL', async () => {
    const { createVerifier, clientCredentials, requireAuth } = await import('express-m2m');
    expect(() => createVerifier({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example', discovery: { cacheMaxAge: 0 } }))
      .toThrow('createVerifier: "discovery.cacheMaxAge" must be a positive finite number of milliseconds');
    expect(() => requireAuth({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example', discovery: { maxStal: 1 } as never }))
      .toThrow('requireAuth: unknown option "discovery.maxStal" (did you mean "discovery.maxStale"?)');
    expect(() => clientCredentials({ tokenEndpoint: 'https://issuer.example/token', clientId: 'a', clientSecret: 'b', discovery: { cacheMaxAge: 1000 } }))
      .toThrow('clientCredentials: "discovery" options apply only with "issuerBaseURL"');
  });
});
