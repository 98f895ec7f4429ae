/**
 * The transport seam (`fetch` option): every network call of the library (discovery, JWKS, token
 * request, `provider.fetch()`) goes through the function given, here undici's own `fetch` with a
 * `ProxyAgent`, through a real HTTP proxy on loopback. The authorization server and the downstream
 * are named `*.proxy.test`, which no resolver knows: only the proxy can reach them (it maps the
 * names to 127.0.0.1), so a call that bypassed the option would fail. The global `fetch` is left
 * alone (it still cannot reach those names).
 */
import { fetch as undiciFetch, ProxyAgent } from 'undici';
import express from 'express';
import request from 'supertest';
import { authErrorHandler, clientCredentials, requireAuth, type FetchLike } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { startNamedServer, startProxy, type Proxy } from './support.js';

const AUDIENCE = 'https://api.proxy.test';

let keys: LocalIssuer;
let proxy: Proxy;
let named: Awaited<ReturnType<typeof startNamedServer>>;
let agent: ProxyAgent;
let viaProxy: FetchLike;

beforeAll(async () => {
  keys = await createLocalIssuer();
  proxy = await startProxy();
  named = await startNamedServer(keys);
  // The proxy tunnels TLS: the client trusts the test CA of the https server behind it.
  agent = new ProxyAgent({ uri: proxy.url, requestTls: { ca: named.certificates.ca } });
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
    const auth = requireAuth({ issuerBaseURL: named.issuer, audience: AUDIENCE, fetch: viaProxy });
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
    const provider = clientCredentials({ issuerBaseURL: named.issuer, clientId: 'svc', clientSecret: 'secret', fetch: viaProxy });
    const before = named.tokenRequests;
    const response = await provider.fetch(`${named.base}/downstream`);
    const body = await response.json() as { authorization: string };
    expect(body.authorization).toMatch(/^Bearer ey/);
    expect(named.tokenRequests).toBe(before + 1);
    await provider.close();
  });

  test('without the option the same calls fail: nothing else reaches the server', async () => {
    const provider = clientCredentials({ issuerBaseURL: named.issuer, clientId: 'svc', clientSecret: 'secret', maxRetries: 0 });
    await expect(provider.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_DISCOVERY_FAILED' });
    await provider.close();
  });
});
