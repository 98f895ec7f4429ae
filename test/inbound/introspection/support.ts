/**
 * Test support for introspection: a request for the pipeline without Express, the outcome of an
 * authentication as status and code, and a stand-in introspection endpoint on loopback for the
 * answers the local issuer never gives (a signed answer with the wrong `aud`, JSON when a JWT was
 * asked for, another issuer's metadata).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Authenticator, InboundRequest, VerifiedToken } from 'express-m2m';

export const AUDIENCE = 'https://api.orders.test';

/** A GET with `Authorization: Bearer <token>`. */
export function bearer(token: string): InboundRequest {
  return { method: 'GET', target: '/orders', headerLines: (name) => (name === 'authorization' ? [`Bearer ${token}`] : []) };
}

export async function authenticate(authenticator: Authenticator, token: string): Promise<VerifiedToken> {
  return authenticator.authenticate(bearer(token));
}

/** How an authentication ended: `200`, or the rejection's status, code and headers. */
export async function outcome(authenticator: Authenticator, token: string): Promise<{ status: number; code?: string; headers?: Record<string, string>; message?: string }> {
  try {
    await authenticator.authenticate(bearer(token));
    return { status: 200 };
  } catch (error) {
    const rejection = error as { status: number; code: string; headers: Record<string, string>; message: string };
    return { status: rejection.status, code: rejection.code, headers: rejection.headers, message: rejection.message };
  }
}

/** A server on 127.0.0.1 that answers every request with `handler`; counts requests. */
export async function standIn(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>): Promise<{ url: string; calls: () => number; close: () => Promise<void> }> {
  let calls = 0;
  const server = createServer((req, res) => {
    calls += 1;
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { body += chunk; });
    req.on('end', () => { void Promise.resolve(handler(req, res, body)).catch(() => res.destroy()); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => calls,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
