/**
 * Internal: an Express (or plain `node:http`) request as the inbound pipeline reads it. A class
 * with prototype getters (cheap to allocate, one shape): the query (a getter that parses the URL
 * in Express 5), the body, the absolute URL and the client certificate are read only if a step
 * needs them.
 */
import type { TLSSocket } from 'node:tls';
import { InvalidRequestError } from '../errors/bearer-errors.js';
import { withoutStack } from '../errors/without-stack.js';
import type { InboundRequest } from '../inbound/inbound-request.js';
import type { AuthRequest } from './express-types.js';

const NONE: readonly string[] = Object.freeze([]);

/** Whether a raw header name is `name` (lowercase), in any case, without making a lowercased copy. */
function sameHeaderName(raw: string, name: string): boolean {
  if (raw.length !== name.length) return false;
  for (let i = 0; i < name.length; i++) {
    const code = raw.charCodeAt(i);
    if ((code >= 65 && code <= 90 ? code + 32 : code) !== name.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Every raw line of the header `name` (lower-case). Node keeps only the first line of some headers
 * (`Authorization` among them) in `req.headers` and joins others; `rawHeaders` has them all.
 */
function rawLines(rawHeaders: readonly string[] | undefined, name: string): readonly string[] {
  if (rawHeaders === undefined) return NONE;
  // Hot path: one line, answered in an array of one (no growing array, no lowercased copies).
  let first: string | undefined;
  let lines: string[] | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (!sameHeaderName(rawHeaders[i] as string, name)) continue;
    const value = rawHeaders[i + 1] as string;
    if (first === undefined) first = value;
    else (lines ??= [first]).push(value);
  }
  return lines ?? (first === undefined ? NONE : [first]);
}

/** RFC 9110 section 7.2 / RFC 3986 section 3.2.2: `uri-host [ ":" port ]`, an IP literal or a reg-name. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]+)(?::[0-9]{1,5})?$/;

/** What Express adds to a request that the URL is made from (Express 4 and 5 alike). */
interface ExpressRequestParts {
  /** `http` or `https`; from `X-Forwarded-Proto` only when `trust proxy` trusts the peer. */
  protocol?: string;
  app?: { get?(name: string): unknown };
}

function badHost(description: string): InvalidRequestError {
  return withoutStack(() => new InvalidRequestError(description, 'ERR_REQUEST_HOST_INVALID'));
}

export class ExpressInboundRequest implements InboundRequest {
  private readonly req: AuthRequest;
  /** The API's public base URL (`publicBaseUrl`), when configured: the URL is it plus the target. */
  private readonly base: string | undefined;

  constructor(req: AuthRequest, base?: string) {
    this.req = req;
    this.base = base;
  }

  /**
   * The absolute URL the client sent the request to: `publicBaseUrl` + target when configured;
   * else scheme and host as Express sees them, `X-Forwarded-Proto`/`X-Forwarded-Host` honoured only
   * when Express's `trust proxy` trusts the connection's peer (the rules of `req.protocol` and
   * Express 5's `req.host`, applied the same way under Express 4). No or a malformed `Host`: 400.
   */
  get url(): string {
    const target = this.target;
    if (!target.startsWith('/')) throw badHost('the request target must be a path (origin-form) to check a proof of possession');
    if (this.base !== undefined) return `${this.base}${target}`;
    const req = this.req as AuthRequest & ExpressRequestParts;
    const socket = req.socket as Partial<TLSSocket> | undefined;
    const protocol = typeof req.protocol === 'string' ? req.protocol : socket?.encrypted === true ? 'https' : 'http';
    const hostLines = this.headerLines('host');
    let host = this.forwardedHost() ?? hostLines[0];
    if (host === undefined || hostLines.length > 1) throw badHost('the request has no Host header, or more than one');
    host = host.trim();
    if (!HOST.test(host)) throw badHost('the Host header is not a valid host');
    const url = `${protocol}://${host}${target}`;
    if (!URL.canParse(url)) throw badHost('the request URL made of the Host header and the target is not valid');
    return url;
  }

  /** The first `X-Forwarded-Host` when Express's `trust proxy` trusts the peer (hop 0), else `undefined`. */
  private forwardedHost(): string | undefined {
    const req = this.req as AuthRequest & ExpressRequestParts;
    const trust = req.app?.get?.('trust proxy fn');
    if (typeof trust !== 'function') return undefined;
    const forwarded = req.headers['x-forwarded-host'];
    const value = Array.isArray(forwarded) ? forwarded[0] : forwarded;
    if (value === undefined || value === '' || !(trust as (address: string | undefined, hop: number) => boolean)(req.socket?.remoteAddress, 0)) return undefined;
    const comma = value.indexOf(',');
    return comma === -1 ? value : value.slice(0, comma).trimEnd();
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
