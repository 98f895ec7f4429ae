/** Internal: the transport-neutral view of an Express request that `extractBearerToken` reads. */
import type { TokenRequest } from '../extraction/index.js';
import type { AuthRequest } from './express-types.js';

/**
 * Node keeps only the first `Authorization` line in `req.headers` and drops the others; RFC 6750
 * wants a request with several rejected, so count them in `rawHeaders` (only when one is present).
 */
function authorizationLines(rawHeaders: readonly string[] | undefined): string[] | undefined {
  if (rawHeaders === undefined) return undefined;
  let lines: string[] | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === 13 && name.toLowerCase() === 'authorization') (lines ??= []).push(rawHeaders[i + 1] as string);
  }
  return lines;
}

/**
 * The view is a class with prototype getters (cheap to allocate, one shape): the query (a getter
 * that parses the URL in Express 5) and the body are read only if extraction needs them.
 */
class ExpressTokenRequest implements TokenRequest {
  readonly headers: TokenRequest['headers'];
  private readonly req: AuthRequest;

  constructor(req: AuthRequest) {
    this.req = req;
    let headers: TokenRequest['headers'] = req.headers;
    if (headers.authorization !== undefined) {
      const lines = authorizationLines(req.rawHeaders);
      if (lines !== undefined && lines.length > 1) headers = { authorization: lines };
    }
    this.headers = headers;
  }

  get query(): unknown {
    return this.req.query;
  }

  get url(): string | undefined {
    return this.req.url;
  }

  get body(): unknown {
    return this.req.body;
  }

  get method(): string | undefined {
    return this.req.method;
  }

  get contentType(): string | undefined {
    return this.req.headers['content-type'];
  }
}

export function tokenRequestOf(req: AuthRequest): TokenRequest {
  return new ExpressTokenRequest(req);
}
