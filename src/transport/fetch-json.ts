/**
 * Internal: one JSON GET with a hard timeout, for metadata and key endpoints, through the
 * transport seam. Every failure becomes an {@link UpstreamError} whose message names the URL and
 * what went wrong (never a response body).
 */
import type { FetchLike } from './fetch-like.js';

/** A metadata or key endpoint could not be used: unreachable, timed out, non-2xx or not JSON. */
export class UpstreamError extends Error {
  readonly code = 'ERR_UPSTREAM';
  /** HTTP status when the endpoint answered, otherwise undefined. */
  readonly status: number | undefined;

  constructor(message: string, status?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'UpstreamError';
    this.status = status;
  }
}

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
  maxBytes = MAX_DOCUMENT_BYTES,
): Promise<{ body: Record<string, unknown>; headers: Headers }> {
  let response: Response;
  try {
    response = await transport(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new UpstreamError(
      isAbortError(error) ? `${url} did not answer within ${timeoutMs} ms` : `${url} is unreachable`,
      undefined,
      error,
    );
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
