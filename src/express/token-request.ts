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

/** Builds the view lazily: the query (a getter that parses in Express 5) is read only if needed. */
export function tokenRequestOf(req: AuthRequest): TokenRequest {
  let headers: TokenRequest['headers'] = req.headers;
  if (headers.authorization !== undefined) {
    const lines = authorizationLines(req.rawHeaders);
    if (lines !== undefined && lines.length > 1) headers = { authorization: lines };
  }
  return {
    headers,
    get query(): unknown {
      return req.query;
    },
    body: req.body,
    method: req.method,
    contentType: req.headers['content-type'],
  };
}
