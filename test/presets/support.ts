/**
 * Shared set-up of the preset tests: a "provider host" that answers on each provider's own paths
 * (Entra's `/<tenant>/discovery/v2.0/keys`, Keycloak's `/realms/<realm>/protocol/openid-connect/certs`,
 * Okta's `/oauth2/<server>/v1/token`...) by forwarding to the local issuer's JWKS and token
 * endpoint (which count and record them), an API protected by a preset, and token shapes.
 */
import express from 'express';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authErrorHandler, requireAuth, type Guard, type RequireAuthOptions } from 'express-m2m';
import type { LocalIssuer } from 'express-m2m/testing';

/** A request the provider host received. */
export interface HostRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** What a route of the provider host does: forward to the issuer's JWKS or token endpoint, or answer itself. */
export type HostRoute = 'jwks' | 'token' | ((request: HostRequest) => Promise<{ status: number; body: unknown }>);

export interface ProviderHost {
  /** Base URL, e.g. `http://127.0.0.1:PORT`. */
  url: string;
  /** Every request received, in order. */
  requests: HostRequest[];
  close(): Promise<void>;
}

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { body += chunk; });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** Starts a host whose paths (matched by the regular expressions) lead to the issuer's endpoints. */
export async function providerHost(issuer: LocalIssuer, routes: ReadonlyArray<readonly [RegExp, HostRoute]>): Promise<ProviderHost> {
  const requests: HostRequest[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://host').pathname;
      const request: HostRequest = { method: req.method ?? 'GET', path, headers: req.headers, body: await readAll(req) };
      requests.push(request);
      const route = routes.find(([pattern]) => pattern.test(path))?.[1];
      if (route === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
        return;
      }
      if (typeof route === 'function') {
        const answer = await route(request);
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
        return;
      }
      const target = route === 'jwks' ? issuer.jwksUri : issuer.tokenEndpoint;
      const headers: Record<string, string> = {};
      for (const name of ['content-type', 'authorization', 'accept']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const answer = await fetch(target, { method: request.method, headers, ...(request.method === 'POST' ? { body: request.body } : {}) });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(await answer.text());
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** An API protected by `options`, with `GET /orders` behind `guards`; answers `{ sub, scopes }`. */
export async function protectedApi(options: RequireAuthOptions, ...guards: Guard[]): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  const auth = requireAuth(options);
  app.get('/orders', auth, ...guards, (req, res) => {
    const token = (req as unknown as { auth: { payload: { sub?: string }; scopes: readonly string[] } }).auth;
    res.json({ sub: token.payload.sub, scopes: token.scopes });
  });
  app.use(authErrorHandler());
  const server: Server = await new Promise((resolve) => {
    const started = app.listen(0, '127.0.0.1', () => resolve(started));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      auth.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

/** What the API answered to a bearer token. */
export interface Answer {
  status: number;
  body: { error?: string; error_description?: string; sub?: string; scopes?: string[] };
  challenge: string | null;
}

export async function call(api: { url: string }, token: string): Promise<Answer> {
  const response = await fetch(`${api.url}/orders`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() as Answer['body'], challenge: response.headers.get('www-authenticate') };
}

/** Now, in epoch seconds. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The decoded protected header and payload of a compact JWS (no verification). */
export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.') as [string, string];
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>,
  };
}
