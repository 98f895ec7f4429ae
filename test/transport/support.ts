/**
 * What the transport tests route through: a forward proxy on loopback, and an https authorization
 * server (with a downstream route) that only that proxy can reach, under `*.proxy.test` names no
 * resolver knows, with a certificate made at test time by a throwaway CA (`certificates.ca`).
 * Used by proxy.test.ts and by docs.test.ts (the docs/transport.md example).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { makeCertificates, type TestCertificates } from '../tls-support.js';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { LocalIssuer } from 'express-m2m/testing';

export interface Proxy {
  url: string;
  /** `host:port` of every tunnel (CONNECT) or forwarded request, in order. */
  seen: string[];
  close(): Promise<void>;
}

/** A forward proxy (CONNECT tunnels and absolute-form requests) that resolves `*.proxy.test` to 127.0.0.1. */
export async function startProxy(): Promise<Proxy> {
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
 * An https authorization server reachable only as `as.proxy.test`: its metadata, JWKS and token
 * endpoint, with tokens signed by a local issuer's keys for the issuer name
 * `https://as.proxy.test:<port>/` and the audience `audience`, and a `/downstream` route that
 * answers with the `Authorization` it got. Trust `certificates.ca` to reach it.
 */
export async function startNamedServer(keys: LocalIssuer, audience = 'https://api.proxy.test'): Promise<{
  port: number; issuer: string; base: string; tokenRequests: number; certificates: TestCertificates; close(): Promise<void>;
}> {
  const state = { port: 0, issuer: '', tokenRequests: 0 };
  const certificates = makeCertificates(['as.proxy.test']);
  const server = createHttpsServer({ key: certificates.key, cert: certificates.cert }, (req, res) => {
    const base = `https://as.proxy.test:${state.port}`;
    const json = (value: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    if (req.url === '/.well-known/openid-configuration') {
      json({ issuer: state.issuer, jwks_uri: `${base}/jwks`, token_endpoint: `${base}/token` });
    } else if (req.url === '/jwks') {
      json(keys.publicJwks());
    } else if (req.url === '/token' && req.method === 'POST') {
      state.tokenRequests += 1;
      req.resume();
      void keys.sign({ iss: state.issuer, aud: audience, sub: 'svc@clients' }).then((token) => json({ access_token: token, token_type: 'Bearer', expires_in: 300 }));
    } else if (req.url === '/downstream') {
      json({ authorization: req.headers.authorization ?? null });
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.issuer = `https://as.proxy.test:${state.port}/`;
  return {
    get port() { return state.port; },
    get issuer() { return state.issuer; },
    get base() { return `https://as.proxy.test:${state.port}`; },
    get tokenRequests() { return state.tokenRequests; },
    certificates,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => {
        certificates.remove();
        resolve();
      });
    }),
  };
}
