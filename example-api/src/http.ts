/**
 * HTTP plumbing shared by the example API and its downstream service: JSON answers for unknown
 * routes, wrong methods, bad bodies and broken requests that never reach Express, and a listener
 * that reports its real port and closes cleanly.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { ErrorRequestHandler, Express, RequestHandler } from 'express';

/** A JSON error body: the same `{ error, error_description }` shape as RFC 6750's errors. */
export function errorBody(error: string, description: string): { error: string; error_description: string } {
  return { error, error_description: description };
}

/** 404 for every request no route answered. */
export function notFound(): RequestHandler {
  return (_req, res) => {
    res.status(404).json(errorBody('not_found', 'no such route; see GET / for the list of routes'));
  };
}

/** 405 with `Allow` for a known path asked with a method it does not support. */
export function methodNotAllowed(allowed: readonly string[]): RequestHandler {
  const allow = [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : [])].join(', ');
  return (req, res) => {
    res.setHeader('Allow', allow);
    res.status(405).json(errorBody('method_not_allowed', `${req.method} is not supported here; use ${allowed.join(' or ')}`));
  };
}

/** What the last error handler does with a body-parser error: its status and our error code. */
const BODY_ERRORS: Record<string, { status: number; error: string; description: string }> = {
  'entity.parse.failed': { status: 400, error: 'invalid_json', description: 'the request body is not valid JSON' },
  'entity.too.large': { status: 413, error: 'payload_too_large', description: 'the request body is too large' },
  'entity.verify.failed': { status: 400, error: 'invalid_body', description: 'the request body was rejected' },
  'encoding.unsupported': { status: 415, error: 'unsupported_encoding', description: 'the request body\'s Content-Encoding is not supported' },
  'charset.unsupported': { status: 415, error: 'unsupported_charset', description: 'the request body\'s charset is not supported' },
  'request.aborted': { status: 400, error: 'invalid_body', description: 'the request body was not received in full' },
  'request.size.invalid': { status: 400, error: 'invalid_body', description: 'the request body does not match its Content-Length' },
  'stream.encoding.set': { status: 500, error: 'server_error', description: 'internal error' },
};

/**
 * The last error handler: body-parser errors and other client errors become JSON 4xx; anything
 * else is a bug, logged (message only) and answered with a generic 500 that reveals nothing.
 * Mount it after `authErrorHandler()`, which answers express-m2m's own errors.
 */
export function finalErrorHandler(log: (line: string) => void): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const type = (error as { type?: unknown } | null)?.type;
    const known = typeof type === 'string' ? BODY_ERRORS[type] : undefined;
    if (known !== undefined) {
      res.status(known.status).json(errorBody(known.error, known.description));
      return;
    }
    const status = (error as { status?: unknown } | null)?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json(errorBody('bad_request', 'the request could not be processed'));
      return;
    }
    const message = error instanceof Error ? `${error.name}: ${error.message}` : 'non-Error thrown';
    log(`example-api: unexpected error on ${req.method} ${req.path}: ${message}`);
    res.status(500).json(errorBody('server_error', 'internal error'));
  };
}

/** A listening server. */
export interface Listening {
  server: Server;
  /** `http://host:port` with the real port (also when asked for port 0). */
  url: string;
  port: number;
  /** Stops accepting connections, ends idle ones, and drops the rest after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

/** Raw answer on a socket Express never saw (the request could not even be parsed). */
function rawJson(socket: Socket, status: number, reason: string, error: string, description: string): void {
  const body = JSON.stringify(errorBody(error, description));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Listens with `app` on `host:port` (port 0 picks a free one). Requests node cannot parse (headers
 * over node's 16 KiB limit, broken HTTP) get a JSON 431 or 400 instead of a bare status line.
 */
export async function listen(app: Express, port: number, host: string, tls?: { key: string; cert: string }): Promise<Listening> {
  // With `tls`: https that asks for (not requires) a client certificate, for certificate-bound tokens.
  const server = tls === undefined ? createServer(app) : createTlsServer({ ...tls, requestCert: true, rejectUnauthorized: false }, app);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || (error.code === 'ECONNRESET')) {
      socket.destroy();
      return;
    }
    if (error.code === 'HPE_HEADER_OVERFLOW') {
      rawJson(socket, 431, 'Request Header Fields Too Large', 'request_header_fields_too_large', 'the request headers are too large');
    } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      rawJson(socket, 408, 'Request Timeout', 'request_timeout', 'the request was not received in time');
    } else {
      rawJson(socket, 400, 'Bad Request', 'bad_request', 'the request is not valid HTTP');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  // A wildcard address is not something to paste into curl: show the loopback address instead.
  const shown = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  const hostForUrl = shown.includes(':') ? `[${shown}]` : shown;
  let closing: Promise<void> | undefined;
  return {
    server,
    url: `${tls === undefined ? 'http' : 'https'}://${hostForUrl}:${address.port}`,
    port: address.port,
    close(graceMs = 2000) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
