/** Shared set-up of the Express adapter tests: both Express versions, and small request helpers. */
import express from 'express';
import express4 from 'express4';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

/** An app factory per Express major version (the v4 app is cast: both type packages are installed here). */
export const EXPRESS_VERSIONS: ReadonlyArray<readonly [string, () => express.Express]> = [
  ['express 5', () => express()],
  ['express 4', () => express4() as unknown as express.Express],
];

/** The body-parser middleware of each version (`express.urlencoded`, `express.json`). */
export function parsersOf(name: string): { urlencoded: typeof express.urlencoded; json: typeof express.json } {
  const lib = (name === 'express 4' ? express4 : express) as unknown as typeof express;
  return { urlencoded: lib.urlencoded, json: lib.json };
}

export const AUDIENCE = 'https://api.orders.test';

/** Starts `app` on 127.0.0.1:0 and returns its base URL and a closer. */
export async function listen(app: express.Express): Promise<{ url: string; port: number; close: () => Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const started = app.listen(0, '127.0.0.1', () => resolve(started));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A raw GET with exactly the given header lines (repeats allowed), for what supertest cannot send. */
export function rawGet(
  port: number,
  path: string,
  headers: Array<[string, string]>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const flat: string[] = ['Host', `127.0.0.1:${port}`];
    for (const [name, value] of headers) flat.push(name, value);
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', headers: flat, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
