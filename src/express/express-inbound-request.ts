/**
 * Internal: an Express (or plain `node:http`) request as the inbound pipeline reads it. A class
 * with prototype getters (cheap to allocate, one shape): the query (a getter that parses the URL
 * in Express 5), the body, the absolute URL and the client certificate are read only if a step
 * needs them.
 */
import type { TLSSocket } from 'node:tls';
import type { InboundRequest } from '../inbound/inbound-request.js';
import type { AuthRequest } from './express-types.js';

const NONE: readonly string[] = Object.freeze([]);

/**
 * Every raw line of the header `name` (lower-case). Node keeps only the first line of some headers
 * (`Authorization` among them) in `req.headers` and joins others; `rawHeaders` has them all.
 */
function rawLines(rawHeaders: readonly string[] | undefined, name: string): string[] {
  const lines: string[] = [];
  if (rawHeaders === undefined) return lines;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i] as string;
    if (raw.length === name.length && raw.toLowerCase() === name) lines.push(rawHeaders[i + 1] as string);
  }
  return lines;
}

export class ExpressInboundRequest implements InboundRequest {
  private readonly req: AuthRequest;

  constructor(req: AuthRequest) {
    this.req = req;
  }

  get method(): string {
    return this.req.method ?? 'GET';
  }

  get target(): string {
    return this.req.originalUrl ?? this.req.url ?? '/';
  }

  headerLines(name: string): readonly string[] {
    const value = this.req.headers[name];
    if (value === undefined) return NONE;
    // Only a header that is present is looked for again in rawHeaders (duplicates are refused).
    const lines = rawLines(this.req.rawHeaders, name);
    if (lines.length > 0) return lines;
    return Array.isArray(value) ? value : [value];
  }

  get query(): unknown {
    return this.req.query;
  }

  get body(): unknown {
    return this.req.body;
  }

  get clientCertificate(): Uint8Array | undefined {
    const socket = this.req.socket as Partial<TLSSocket> | undefined;
    if (socket === undefined || typeof socket.getPeerCertificate !== 'function') return undefined;
    const certificate = socket.getPeerCertificate();
    return certificate !== null && typeof certificate === 'object' && certificate.raw !== undefined ? certificate.raw : undefined;
  }
}
