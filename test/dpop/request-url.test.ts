/**
 * The request URL a proof's htu is compared with (RFC 9449 section 4.3 point 9), behind proxies:
 * X-Forwarded-Proto / X-Forwarded-Host count only when Express's `trust proxy` trusts the peer
 * (never otherwise), or `publicBaseUrl` says the URL outright. A missing or malformed Host is a
 * 400, never a crash. Express 4 and 5. Also: the protected resource metadata advertises DPoP.
 */
import { connect } from 'node:net';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { protectedResourceMetadata, requireAuth } from 'express-m2m';
import { createLocalIssuer, type DpopKeyPair, type LocalIssuer } from 'express-m2m/testing';
import { EXPRESS_VERSIONS } from '../express/support.js';
import { AUDIENCE, boundToken, createDpopProof, generateDpopKey, startApi } from './support.js';

let issuer: LocalIssuer;
let key: DpopKeyPair;
let token: string;
beforeAll(async () => {
  issuer = await createLocalIssuer();
  key = generateDpopKey();
  token = await boundToken(issuer, key);
});
afterAll(async () => {
  await issuer.close();
});

const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.orders.example' };
const headersFor = (htu: string, extra: Record<string, string> = {}) => ({
  authorization: `DPoP ${token}`, dpop: createDpopProof({ key, htm: 'GET', htu, accessToken: token }), ...extra,
});

/** A raw request with exactly these header lines (or none), answered with the status line. */
function rawStatus(port: number, lines: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET /orders HTTP/1.1\r\n${lines.map((line) => `${line}\r\n`).join('')}Connection: close\r\n\r\n`));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => { text += chunk; });
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
    socket.on('error', reject);
  });
}

describe.each(EXPRESS_VERSIONS)('the request URL behind a proxy (%s)', (_name, makeApp) => {
  test('trust proxy unset: X-Forwarded-* are ignored; the htu is the URL the server was called at', async () => {
    const api = await startApi(issuer, {}, makeApp);
    try {
      expect((await api.call('/orders', headersFor('https://api.orders.example/orders', forwarded))).status).toBe(401);
      const direct = await api.call('/orders', headersFor(`${api.url}/orders`, forwarded));
      expect(direct.status).toBe(200);
    } finally {
      await api.close();
    }
  });

  test('trust proxy set (loopback): the forwarded scheme and host are the URL; the direct URL is not', async () => {
    const api = await startApi(issuer, {}, makeApp, (app) => app.set('trust proxy', 'loopback'));
    try {
      expect((await api.call('/orders', headersFor('https://api.orders.example/orders', forwarded))).status).toBe(200);
      const direct = await api.call('/orders', headersFor(`${api.url}/orders`, forwarded));
      expect(direct.status).toBe(401);
      expect(direct.challenge).toMatch(/^DPoP error="invalid_dpop_proof", error_description="the 'htu' claim/);
      // Several proxies: the first X-Forwarded-Host is the client's.
      expect((await api.call('/orders', headersFor('https://api.orders.example/orders', { ...forwarded, 'x-forwarded-host': 'api.orders.example, inner.local' }))).status).toBe(200);
      // A port in X-Forwarded-Host is part of the URL.
      expect((await api.call('/orders', headersFor('https://api.orders.example:8443/orders', { ...forwarded, 'x-forwarded-host': 'api.orders.example:8443' }))).status).toBe(200);
    } finally {
      await api.close();
    }
  });

  test('trust proxy naming another address: X-Forwarded-* from this peer are ignored', async () => {
    const api = await startApi(issuer, {}, makeApp, (app) => app.set('trust proxy', '10.0.0.1'));
    try {
      expect((await api.call('/orders', headersFor('https://api.orders.example/orders', forwarded))).status).toBe(401);
      expect((await api.call('/orders', headersFor(`${api.url}/orders`, forwarded))).status).toBe(200);
    } finally {
      await api.close();
    }
  });

  test('publicBaseUrl (with the path prefix a proxy strips) is the URL, whatever the headers say', async () => {
    const api = await startApi(issuer, { publicBaseUrl: 'https://example.com/api/' }, makeApp, (app) => app.set('trust proxy', true));
    try {
      expect((await api.call('/orders', headersFor('https://example.com/api/orders', forwarded))).status).toBe(200);
      expect((await api.call('/orders', headersFor('https://api.orders.example/orders', forwarded))).status).toBe(401);
    } finally {
      await api.close();
    }
  });

  test('a malformed Host: 400 invalid_request, and the server goes on', async () => {
    const api = await startApi(issuer, {}, makeApp);
    try {
      const port = Number(new URL(api.url).port);
      const { authorization, dpop } = headersFor(`${api.url}/orders`);
      expect(await rawStatus(port, ['Host: exa mple', `Authorization: ${authorization}`, `DPoP: ${dpop}`])).toBe(400);
      expect(await rawStatus(port, ['Host: a/b', `Authorization: ${authorization}`, `DPoP: ${dpop}`])).toBe(400);
      expect((await api.call('/orders', headersFor(`${api.url}/orders`))).status).toBe(200);
      expect(api.events.filter((event) => event.type === 'auth.rejected').map((event) => (event as { code: string }).code))
        .toEqual(['ERR_REQUEST_HOST_INVALID', 'ERR_REQUEST_HOST_INVALID']);
      expect(api.events.filter((event) => event.type === 'auth.unexpected_error')).toEqual([]);
    } finally {
      await api.close();
    }
  });
});

describe('plain node:http without a Host header: 400, never a crash', () => {
  test('requireHostHeader off, a request without Host', async () => {
    const auth = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, dpop: {} });
    const codes: unknown[] = [];
    const server = createServer({ requireHostHeader: false }, (req, res) => {
      auth(req, res, (error) => {
        codes.push((error as { code?: string } | undefined)?.code);
        res.statusCode = error === undefined ? 200 : (error as { status: number }).status;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const { authorization, dpop } = headersFor(`http://127.0.0.1:${port}/orders`);
      expect(await rawStatus(port, [`Authorization: ${authorization}`, `DPoP: ${dpop}`])).toBe(400);
      expect(codes).toEqual(['ERR_REQUEST_HOST_INVALID']);
    } finally {
      auth.close();
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('RFC 9728 section 2: the protected resource metadata advertises DPoP from requireAuth', () => {
  test.each([
    ['allowed', false],
    ['required', true],
  ] as const)('mode %s: dpop_signing_alg_values_supported and dpop_bound_access_tokens_required %p', (mode, required) => {
    const auth = requireAuth({ issuer: issuer.issuer, issuerBaseURL: issuer.url, audience: AUDIENCE, dpop: { mode, algorithms: ['ES256', 'EdDSA'] } });
    try {
      const metadata = protectedResourceMetadata({ resource: 'http://127.0.0.1/api', auth });
      expect(metadata.document.dpop_signing_alg_values_supported).toEqual(['ES256', 'EdDSA']);
      expect(metadata.document.dpop_bound_access_tokens_required).toBe(required);
    } finally {
      auth.close();
    }
  });

  test('DPoP off: neither member', () => {
    const auth = requireAuth({ issuer: issuer.issuer, issuerBaseURL: issuer.url, audience: AUDIENCE });
    try {
      const { document } = protectedResourceMetadata({ resource: 'http://127.0.0.1/api', auth });
      expect(document.dpop_signing_alg_values_supported).toBeUndefined();
      expect(document.dpop_bound_access_tokens_required).toBeUndefined();
    } finally {
      auth.close();
    }
  });

  test('bad publicBaseUrl is refused at construction', () => {
    expect(() => requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, publicBaseUrl: 'https://example.com/api?x=1' })).toThrow('requireAuth: "publicBaseUrl" must not have a query or a fragment');
    expect(() => requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, publicBaseUrl: 'http://example.com' })).toThrow(/"publicBaseUrl" must be an https URL/);
  });
});
