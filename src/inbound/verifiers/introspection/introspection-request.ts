/**
 * Internal: one introspection request (RFC 7662 section 2.1): `token` and `token_type_hint`
 * form-encoded, POSTed with the resource server's client authentication, with a hard timeout.
 * Every failure becomes an {@link UpstreamError} that names the endpoint and what went wrong,
 * never the token or a response body.
 */
import type { ClientAuthenticator } from '../../../outbound/client-auth/client-authenticator.js';
import { parseRetryAfter } from '../../../outbound/grant/token-endpoint-request.js';
import { isAbortError, readCappedText, UpstreamError } from '../../../transport/fetch-json.js';
import type { FetchLike } from '../../../transport/fetch-like.js';
import { forOperation } from '../../../transport/operation.js';

/** RFC 9701 section 4: the media type of a signed introspection answer. */
export const INTROSPECTION_JWT_MEDIA_TYPE = 'application/token-introspection+jwt';

/** Largest answer read, in bytes: real ones are well under a KiB. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** The endpoint answered 429 or 503 with a `Retry-After`: how long it asks to be left alone. */
export class BusyEndpointError extends UpstreamError {
  constructor(message: string, status: number, readonly retryAfterMs: number) {
    super(message, status);
    this.name = 'BusyEndpointError';
  }
}

/** What one request needs. */
export interface IntrospectionRequest {
  endpoint: string;
  token: string;
  authenticate: ClientAuthenticator;
  /** Ask for (and accept only) a signed answer. */
  jwtResponse: boolean;
  timeoutDuration: number;
  fetch: FetchLike;
  /** Clock, to read an HTTP-date `Retry-After`. */
  now: () => number;
}

/** The answer: a JSON object (RFC 7662 section 2.2), or the compact JWT of RFC 9701. */
export type IntrospectionAnswer = { kind: 'json'; body: Record<string, unknown> } | { kind: 'jwt'; jwt: string };

function mediaType(response: Response): string {
  return (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Sends one request; resolves to the answer or rejects with an {@link UpstreamError}. */
export async function requestIntrospection(request: IntrospectionRequest): Promise<IntrospectionAnswer> {
  const { endpoint, timeoutDuration } = request;
  const auth = await request.authenticate(endpoint);
  const body = new URLSearchParams({ ...auth.params, token: request.token, token_type_hint: 'access_token' });
  let response: Response;
  try {
    response = await request.fetch(endpoint, forOperation({
      method: 'POST',
      headers: {
        ...auth.headers,
        'content-type': 'application/x-www-form-urlencoded',
        accept: request.jwtResponse ? INTROSPECTION_JWT_MEDIA_TYPE : 'application/json',
      },
      body: body.toString(),
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutDuration),
    }, 'introspection'));
  } catch (error) {
    if (isAbortError(error)) throw new UpstreamError(`${endpoint} did not answer within ${timeoutDuration} ms`, undefined, error);
    throw new UpstreamError(`${endpoint} is unreachable`, undefined, error);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    const retryAfter = response.status === 429 || response.status === 503 ? parseRetryAfter(response.headers.get('retry-after'), request.now()) : undefined;
    if (retryAfter !== undefined) throw new BusyEndpointError(`${endpoint} answered HTTP ${response.status} (Retry-After ${Math.ceil(retryAfter / 1000)} s)`, response.status, retryAfter);
    // 401/403: the authorization server refused this resource server's credentials (a configuration error).
    const configuration = response.status === 401 || response.status === 403 || response.status === 404;
    throw new UpstreamError(`${endpoint} answered HTTP ${response.status}`, response.status, undefined, configuration);
  }
  let text: string | undefined;
  try {
    text = await readCappedText(response, MAX_ANSWER_BYTES);
  } catch (error) {
    if (isAbortError(error)) throw new UpstreamError(`${endpoint} did not answer within ${timeoutDuration} ms`, undefined, error);
    throw new UpstreamError(`${endpoint} broke off its answer`, response.status, error);
  }
  if (text === undefined) throw new UpstreamError(`${endpoint} answered with more than ${MAX_ANSWER_BYTES} bytes`, response.status);
  const type = mediaType(response);
  if (request.jwtResponse) {
    // Asked for a signed answer: a plain JSON one (a downgrade, or a server without RFC 9701) is refused.
    if (type !== INTROSPECTION_JWT_MEDIA_TYPE) {
      throw new UpstreamError(`${endpoint} did not answer with ${INTROSPECTION_JWT_MEDIA_TYPE} (got ${JSON.stringify(type.slice(0, 60))})`, response.status);
    }
    return { kind: 'jwt', jwt: text.trim() };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UpstreamError(`${endpoint} did not answer with JSON`, response.status, error);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UpstreamError(`${endpoint} did not answer with a JSON object`, response.status);
  }
  return { kind: 'json', body: parsed as Record<string, unknown> };
}
