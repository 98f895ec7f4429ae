/**
 * `provider.fetch()` and `outboundAuth` clients with DPoP (RFC 9449 sections 7 and 9), against a
 * resource server that checks every proof independently (jose with EmbeddedJWK and its own
 * htm/htu/ath/jti/nonce checks, see dpop-servers.ts) and the token's `cnf.jkt`.
 */
import { Readable } from 'node:stream';
import { clientCredentials, outboundAuth, type OutboundEvent, type TokenProvider } from 'express-m2m';
import { accessTokenHash } from '../../../src/outbound/dpop/dpop-proof.js';
import {
  CLIENT_ID, CLIENT_SECRET, startAuthorizationServer, startResourceServer, type TestAuthorizationServer, type TestResourceServer,
} from './dpop-servers.js';

let as: TestAuthorizationServer;
let rs: TestResourceServer;
let other: TestResourceServer;
const providers: TokenProvider[] = [];
let events: OutboundEvent[];

beforeAll(async () => {
  as = await startAuthorizationServer();
  rs = await startResourceServer(as);
  other = await startResourceServer(as);
});
afterAll(async () => {
  await Promise.all([as.close(), rs.close(), other.close()]);
});
beforeEach(() => {
  as.reset();
  rs.reset();
  other.reset();
  events = [];
});
afterEach(async () => {
  await Promise.all(providers.splice(0).map((provider) => provider.close()));
});

function provider(): TokenProvider {
  const made = clientCredentials({
    tokenEndpoint: as.tokenEndpoint, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, maxRetries: 0, dpop: true, onEvent: (event) => events.push(event),
  });
  providers.push(made);
  return made;
}

async function text(response: Response): Promise<string> {
  return response.text();
}

describe('RFC 9449 section 7.1: Authorization: DPoP with a new proof for every request', () => {
  it('sends the token with the DPoP scheme and a proof for the method and URL (no query), with ath', async () => {
    const billing = provider();
    const token = await billing.getToken();
    const response = await billing.fetch(`${rs.url}/invoices?page=2#top`, { method: 'POST', body: 'hello', headers: { authorization: 'Basic x', 'x-kept': '1' } });
    expect(response.status).toBe(200);
    expect(JSON.parse(await text(response))).toEqual({ ok: true, path: '/invoices?page=2', body: 'hello' });
    const [seen] = rs.requests;
    expect(seen!.authorization).toBe(`DPoP ${token}`);
    expect(seen!.proof!.claims).toMatchObject({ htm: 'POST', htu: `${rs.url}/invoices`, ath: accessTokenHash(token) });
    expect(seen!.proof!.jkt).toBe(billing.dpop!.jkt);
  });

  it('signs a new proof for each request (distinct jti), the token staying the same', async () => {
    const billing = provider();
    for (let i = 0; i < 3; i += 1) expect((await billing.fetch(`${rs.url}/a`)).status).toBe(200);
    expect(new Set(rs.requests.map((request) => request.proof!.claims.jti)).size).toBe(3);
    expect(new Set(rs.requests.map((request) => request.authorization)).size).toBe(1);
    expect(as.requests).toHaveLength(1);
  });

  it('puts the method as fetch sends it into htm (delete goes out as DELETE)', async () => {
    const billing = provider();
    const response = await billing.fetch(`${rs.url}/invoices/1`, { method: 'delete' });
    expect(response.status).toBe(200);
    expect(rs.requests[0]!.proof!.claims.htm).toBe('DELETE');
  });

  it('takes method, URL and headers from a Request', async () => {
    const billing = provider();
    const response = await billing.fetch(new Request(`${rs.url}/r?q=1`, { method: 'PUT', body: 'x', headers: { 'x-kept': '1' } }));
    expect(response.status).toBe(200);
    expect(rs.requests[0]!.proof!.claims).toMatchObject({ htm: 'PUT', htu: `${rs.url}/r` });
  });
});

describe('RFC 9449 section 9: resource server nonces', () => {
  it('answers 401 use_dpop_nonce with one retry carrying the nonce, and uses it from then on', async () => {
    rs.settings.requireNonce = true;
    const billing = provider();
    const response = await billing.fetch(`${rs.url}/a`, { method: 'POST', body: 'again' });
    expect(response.status).toBe(200);
    expect(JSON.parse(await text(response)).body).toBe('again');
    expect(rs.requests.map((request) => [request.status, request.proof?.claims.nonce ?? request.problem])).toEqual([
      [401, 'nonce'],
      [200, rs.nonce],
    ]);
    expect((await billing.fetch(`${rs.url}/b`)).status).toBe(200);
    expect(rs.requests).toHaveLength(3);
    expect(rs.requests[2]!.proof!.claims.nonce).toBe(rs.nonce);
  });

  it('follows a rotated nonce with one retry, and returns a second refusal as it is', async () => {
    rs.settings.requireNonce = true;
    const billing = provider();
    await text(await billing.fetch(`${rs.url}/a`));
    rs.rotate();
    expect((await billing.fetch(`${rs.url}/a`)).status).toBe(200);
    expect(rs.requests.map((request) => request.status)).toEqual([401, 200, 401, 200]);
    // a server that refuses every nonce (a new one each time): one retry, then its 401 comes back
    rs.requests.length = 0;
    rs.settings.staleNonces = true;
    const response = await billing.fetch(`${rs.url}/a`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/use_dpop_nonce/);
    expect(rs.requests).toHaveLength(2);
  });

  it('does not retry a request whose body is a stream', async () => {
    rs.settings.requireNonce = true;
    const billing = provider();
    const body = Readable.toWeb(Readable.from(['streamed'])) as ReadableStream;
    const response = await billing.fetch(`${rs.url}/a`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(401);
    expect(rs.requests).toHaveLength(1);
    // the nonce is remembered all the same: the next request carries it
    expect((await billing.fetch(`${rs.url}/a`)).status).toBe(200);
    expect(rs.requests).toHaveLength(2);
  });

  it('keeps nonces per origin: another server does not get this one\'s nonce', async () => {
    rs.settings.requireNonce = true;
    const billing = provider();
    await text(await billing.fetch(`${rs.url}/a`));
    expect((await billing.fetch(`${other.url}/a`)).status).toBe(200);
    expect(other.requests[0]!.proof!.claims).not.toHaveProperty('nonce');
  });
});

describe('RFC 9449 section 7.1: a DPoP invalid_token challenge refuses the token (a new one may help)', () => {
  it('gets a new token and retries once', async () => {
    const billing = provider();
    const first = await billing.getToken();
    rs.settings.refuse.add(first);
    const response = await billing.fetch(`${rs.url}/a`);
    expect(response.status).toBe(200);
    const second = await billing.getToken();
    expect(second).not.toBe(first);
    expect(rs.requests.map((request) => [request.status, request.authorization])).toEqual([[401, `DPoP ${first}`], [200, `DPoP ${second}`]]);
    expect(rs.requests[1]!.proof!.claims.ath).toBe(accessTokenHash(second));
    expect(events).toContainEqual(expect.objectContaining({ type: 'token.rejected_downstream', retried: true }));
  });

  it('does not take invalid_dpop_proof for a refused token', async () => {
    const billing = provider();
    await billing.getToken();
    const response = await billing.fetch(`${rs.url}/a`, { headers: {} });
    expect(response.status).toBe(200);
    // a proof the server does not believe is not fixed by a new token: no token request
    const broken = clientCredentials({
      tokenEndpoint: as.tokenEndpoint, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, dpop: true,
      fetch: (input, init) => {
        const headers = new Headers(init?.headers);
        if (headers.has('dpop') && String(input).startsWith(rs.url)) headers.set('dpop', 'not-a-proof');
        return fetch(input, { ...init, headers });
      },
    });
    providers.push(broken);
    const before = as.requests.length;
    const refused = await broken.fetch(`${rs.url}/a`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/invalid_dpop_proof/);
    expect(as.requests.length - before).toBe(1); // its first token, no replacement
  });
});

describe('redirects: a proof is for one URL, never followed with the same proof', () => {
  it('returns the redirect to the caller instead of following it', async () => {
    const billing = provider();
    const response = await billing.fetch(`${rs.url}/redirect`);
    expect(response.status).toBe(307);
    expect(response.headers.get('location')).toBe('/target');
    expect(rs.requests.map((request) => request.path)).toEqual(['/redirect']);
  });

  it('keeps redirect: "error" when the caller asks for it', async () => {
    const billing = provider();
    await expect(billing.fetch(`${rs.url}/redirect`, { redirect: 'error' })).rejects.toMatchObject({ cause: { message: expect.stringMatching(/redirect/) } });
    expect(rs.requests.map((request) => request.path)).toEqual(['/redirect']);
  });
});

describe('outboundAuth: a service with dpop sends DPoP-bound tokens with proofs', () => {
  it('presents DPoP on the service client\'s requests, with the defaults\' dpop', async () => {
    const outbound = outboundAuth({
      defaults: { tokenEndpoint: as.tokenEndpoint, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, dpop: true },
      services: { billing: { baseUrl: `${rs.url}/v1`, audience: 'https://billing.example' } },
    });
    try {
      const response = await outbound.clients.fetch('billing', '/invoices?x=1');
      expect(response.status).toBe(200);
      const [seen] = rs.requests;
      expect(seen!.authorization).toMatch(/^DPoP /);
      expect(seen!.proof!.claims).toMatchObject({ htm: 'GET', htu: `${rs.url}/v1/invoices` });
      expect(seen!.proof!.jkt).toBe(outbound.clients.service('billing').provider.dpop!.jkt);
    } finally {
      await outbound.close();
    }
  });
});
