/**
 * The transport seam (`fetch` option): every network call of the library (discovery, JWKS, token
 * request, `provider.fetch()`) goes through the function given, here undici's own `fetch` with a
 * `ProxyAgent`, through a real HTTP proxy on loopback. The authorization server and the downstream
 * are named `*.proxy.test`, which no resolver knows: only the proxy can reach them (it maps the
 * names to 127.0.0.1), so a call that bypassed the option would fail. The global `fetch` is left
 * alone (it still cannot reach those names). The test network is plain http, hence `allowInsecureHttp`.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { fetch as undiciFetch, ProxyAgent } from 'undici';
import express from 'express';
import request from 'supertest';
import { authErrorHandler, clientCredentials, requireAuth, type FetchLike } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';

const AUDIENCE = 'https://api.proxy.test';

interface Proxy {
  url: string;
  /** `host:port` of every tunnel (CONNECT) or forwarded request, in order. */
  seen: string[];
  close(): Promise<void>;
}

/** A forward proxy (CONNECT tunnels and absolute-form requests) that resolves `*.proxy.test` to 127.0.0.1. */
async function startProxy(): Promise<Proxy> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const resolveHost = (host: string) => (host.endsWith('.proxy.test') ? '127.0.0.1' : host);
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const target = new URL(req.url ?? '');
    seen.push(target.host);
    const upstream = httpRequest({
      host: resolveHost(target.hostname), port: target.port, path: `${target.pathname}${target.search}`, method: req.method, headers: req.headers,
    }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const [host, port] = (req.url ?? '').split(':');
    seen.push(req.url ?? '');
    const upstream = connect(Number(port), resolveHost(host as string), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(client).add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  server.on('connection', (socket: Socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

/**
 * An authorization server reachable only as `as.proxy.test`: its metadata, JWKS and token
 * endpoint, with tokens signed by a local issuer's keys for the issuer name `http://as.proxy.test:<port>/`.
 */
async function startNamedServer(keys: LocalIssuer): Promise<{ port: number; issuer: string; tokenRequests: number; close(): Promise<void> }> {
  const state = { port: 0, issuer: '', tokenRequests: 0 };
  const server = createServer((req, res) => {
    const base = `http://as.proxy.test:${state.port}`;
    const json = (value: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    if (req.url === '/.well-known/openid-configuration') {
      json({ issuer: state.issuer, jwks_uri: `${base}/jwks`, token_endpoint: `${base}/token` });
    } else if (req.url === '/jwks') {
      json(keys.publicJwks());
    } else if (req.url === '/token' && req.method === 'POST') {
      state.tokenRequests += 1;
      req.resume();
      void keys.sign({ iss: state.issuer, aud: AUDIENCE, sub: 'svc@clients' }).then((token) => json({ access_token: token, token_type: 'Bearer', expires_in: 300 }));
    } else if (req.url === '/downstream') {
      json({ authorization: req.headers.authorization ?? null });
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.issuer = `http://as.proxy.test:${state.port}/`;
  return {
    get port() { return state.port; },
    get issuer() { return state.issuer; },
    get tokenRequests() { return state.tokenRequests; },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

let keys: LocalIssuer;
let proxy: Proxy;
let named: Awaited<ReturnType<typeof startNamedServer>>;
let agent: ProxyAgent;
let viaProxy: FetchLike;

beforeAll(async () => {
  keys = await createLocalIssuer();
  proxy = await startProxy();
  named = await startNamedServer(keys);
  agent = new ProxyAgent(proxy.url);
  viaProxy = (input, init) => undiciFetch(input as string, { ...init, dispatcher: agent } as never) as unknown as Promise<Response>;
});
afterAll(async () => {
  await agent.close();
  await proxy.close();
  await named.close();
  await keys.close();
});

describe('the fetch option routes every network call through the transport given (a proxy)', () => {
  test('the server is out of reach without the proxy', async () => {
    await expect(fetch(`${named.issuer}.well-known/openid-configuration`)).rejects.toThrow();
  });

  test('inbound: discovery and JWKS through the proxy; a token of that issuer is accepted', async () => {
    const globalFetch = globalThis.fetch;
    const auth = requireAuth({ issuerBaseURL: named.issuer, audience: AUDIENCE, fetch: viaProxy, allowInsecureHttp: true });
    const app = express();
    app.get('/me', auth, (req, res) => { res.json({ sub: req.auth?.payload.sub }); });
    app.use(authErrorHandler());
    const before = proxy.seen.length;
    const token = await keys.sign({ iss: named.issuer, aud: AUDIENCE, sub: 'caller@clients' });
    const response = await request(app).get('/me').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ sub: 'caller@clients' });
    expect(proxy.seen.slice(before)).toContain(`as.proxy.test:${named.port}`);
    expect(globalThis.fetch).toBe(globalFetch);
    auth.close();
  });

  test('outbound: discovery, the token request and provider.fetch() through the proxy', async () => {
    const provider = clientCredentials({ issuerBaseURL: named.issuer, clientId: 'svc', clientSecret: 'secret', fetch: viaProxy, allowInsecureHttp: true });
    const before = named.tokenRequests;
    const response = await provider.fetch(`http://as.proxy.test:${named.port}/downstream`);
    const body = await response.json() as { authorization: string };
    expect(body.authorization).toMatch(/^Bearer ey/);
    expect(named.tokenRequests).toBe(before + 1);
    await provider.close();
  });

  test('without the option the same calls fail: nothing else reaches the server', async () => {
    const provider = clientCredentials({ issuerBaseURL: named.issuer, clientId: 'svc', clientSecret: 'secret', maxRetries: 0, allowInsecureHttp: true });
    await expect(provider.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_DISCOVERY_FAILED' });
    await provider.close();
  });
});
