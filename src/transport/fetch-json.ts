/**
 * Internal: one JSON GET with a hard timeout, for metadata and key endpoints, through the
 * transport seam. Every failure becomes an {@link UpstreamError} whose message names the URL and
 * what went wrong (never a response body).
 */
import type { FetchLike } from './fetch-like.js';
import { forOperation, type NetworkOperation } from './operation.js';

/**
 * A metadata or key endpoint could not be used: unreachable, timed out, non-2xx or not JSON. The
 * message names the URL and the cause (the network error's code, the HTTP status), never a body.
 *
 * @example
 * ```ts
 * import { UpstreamError } from 'express-m2m/extend';
 *
 * await auth.warmUp().catch((error) => {
 *   if (error instanceof UpstreamError && error.configuration) throw error; // a wrong URL: do not start
 *   logger.warn(error.message); // the issuer is not up yet: requests retry on their own
 * });
 * ```
 */
export class UpstreamError extends Error {
  /** Stable code of every upstream failure. */
  readonly code = 'ERR_UPSTREAM';
  /** HTTP status when the endpoint answered, otherwise undefined. */
  readonly status: number | undefined;
  /**
   * The failure says the configuration is wrong, not that the issuer is down for a while: the
   * URL answered 404/410, its host name does not resolve, or its answer names another issuer.
   */
  readonly configuration: boolean;

  constructor(message: string, status?: number, cause?: unknown, configuration = status === 404 || status === 410) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'UpstreamError';
    this.status = status;
    this.configuration = configuration;
  }
}

/** The network error under fetch's "fetch failed", e.g. `getaddrinfo ENOTFOUND issuer.example` or `ECONNREFUSED`. */
function networkCause(error: unknown): { text: string; code: string | undefined } {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const message = typeof cause?.message === 'string' ? cause.message : error instanceof Error ? error.message : String(error);
  return { text: message.replace(/[^\x20-\x7e]/g, '?').slice(0, 200), code };
}

/** DNS answers that a name does not exist: a wrong host name, not an outage. */
const UNKNOWN_HOST = new Set(['ENOTFOUND']);

/** Largest metadata or key-set document read, in bytes: real ones are a few KiB. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;

/**
 * A response body as text, or `undefined` when it is larger than `limit` bytes: the declared
 * length is checked first, and an undeclared body is read only up to the limit.
 */
export async function readCappedText(response: Response, limit: number): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/**
 * Whether `error` is fetch's timeout or abort. By name, not `instanceof`: fetch's errors may come
 * from another realm (e.g. under Jest's VM).
 */
export function isAbortError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

/** Fetches `url` with `transport` and parses a JSON object from it, or throws an {@link UpstreamError}. */
export async function fetchJsonObject(
  transport: FetchLike,
  url: string,
  timeoutMs: number,
  operation: NetworkOperation,
  maxBytes = MAX_DOCUMENT_BYTES,
): Promise<{ body: Record<string, unknown>; headers: Headers }> {
  let response: Response;
  try {
    response = await transport(url, forOperation({
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    }, operation));
  } catch (error) {
    if (isAbortError(error)) throw new UpstreamError(`${url} did not answer within ${timeoutMs} ms`, undefined, error);
    const cause = networkCause(error);
    throw new UpstreamError(`${url} is unreachable (${cause.text})`, undefined, error, cause.code !== undefined && UNKNOWN_HOST.has(cause.code));
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new UpstreamError(`${url} answered HTTP ${response.status}`, response.status);
  }
  let body: unknown;
  try {
    const text = await readCappedText(response, maxBytes);
    if (text === undefined) throw new UpstreamError(`${url} answered with more than ${maxBytes} bytes`, response.status);
    body = JSON.parse(text);
  } catch (error) {
    if (error instanceof UpstreamError) throw error;
    throw new UpstreamError(`${url} did not answer with JSON`, response.status, error);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new UpstreamError(`${url} did not answer with a JSON object`, response.status);
  }
  return { body: body as Record<string, unknown>, headers: response.headers };
}
