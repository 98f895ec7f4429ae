/**
 * One client-credentials request to a token endpoint (RFC 6749 section 4.4) with a hard timeout.
 * Every failure becomes a {@link TokenRequestError} that classifies it (rejected, rate limited,
 * server error, timeout, unreachable, invalid response) and never contains the request body.
 */
import { isAbortError, readCappedText } from '../../transport/fetch-json.js';
import type { FetchLike } from '../../transport/fetch-like.js';
import { printable, TokenRequestError } from '../token-request-error.js';

/** A successful token response (RFC 6749 section 5.1). */
export interface TokenResponse {
  accessToken: string;
  tokenType: string;
  /** `expires_in` in seconds, when present and valid. */
  expiresIn: number | undefined;
  scope: string | undefined;
}

/** Parameters of {@link requestToken}. */
export interface TokenEndpointRequest {
  tokenEndpoint: string;
  /** Body parameters; an array repeats the parameter (form) or becomes a JSON array (json). */
  params: Record<string, string | string[]>;
  headers: Record<string, string>;
  bodyFormat: 'form' | 'json';
  /** Milliseconds the whole exchange (connect, answer, body) may take. */
  timeoutDuration: number;
  /** Clock, to turn an HTTP-date `Retry-After` into a delay. */
  now: () => number;
  /** Aborts the request when the provider closes; it then rejects with `ERR_TOKEN_PROVIDER_CLOSED`. */
  closeSignal?: AbortSignal;
  /** The transport. */
  fetch: FetchLike;
  /** The `token_type`s the presenter of the token can use (case-insensitive, RFC 6749 section 7.1), e.g. `['Bearer']`. */
  tokenTypes: readonly string[];
  /** Sees every answer before its body is read (a sender constraint reads its `DPoP-Nonce`). */
  onResponse?: ((response: Response) => void) | undefined;
}

/** `Retry-After` (delay-seconds or HTTP-date) in milliseconds, or undefined. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function encodeBody(params: Record<string, string | string[]>, format: 'form' | 'json'): string {
  if (format === 'json') {
    const body: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(params)) {
      body[name] = Array.isArray(value) && value.length === 1 ? (value[0] as string) : value;
    }
    return JSON.stringify(body);
  }
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) form.append(name, item);
  }
  return form.toString();
}

/** Largest token endpoint answer read, in bytes; a bigger one is not a token response. */
const MAX_RESPONSE_BYTES = 1_048_576;

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Sends one token request; resolves to the token or rejects with a {@link TokenRequestError}. */
export async function requestToken(request: TokenEndpointRequest): Promise<TokenResponse> {
  const { tokenEndpoint, timeoutDuration } = request;
  const timeout = AbortSignal.timeout(timeoutDuration);
  const signal = request.closeSignal === undefined ? timeout : AbortSignal.any([timeout, request.closeSignal]);
  let response: Response;
  let text: string | undefined;
  try {
    response = await request.fetch(tokenEndpoint, {
      method: 'POST',
      headers: {
        accept: 'application/json',
        'content-type': request.bodyFormat === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
        ...request.headers,
      },
      body: encodeBody(request.params, request.bodyFormat),
      redirect: 'error',
      signal,
    });
    request.onResponse?.(response);
    text = await readCappedText(response, MAX_RESPONSE_BYTES);
  } catch (error) {
    if (request.closeSignal?.aborted === true) {
      throw new TokenRequestError('the token provider is closed', { code: 'ERR_TOKEN_PROVIDER_CLOSED' });
    }
    if (isAbortError(error) || signal.aborted) {
      throw new TokenRequestError(`token endpoint ${tokenEndpoint} did not answer within ${timeoutDuration} ms`, {
        code: 'ERR_TOKEN_TIMEOUT',
        tokenEndpoint,
        cause: error,
      });
    }
    throw new TokenRequestError(`token endpoint ${tokenEndpoint} is unreachable`, {
      code: 'ERR_TOKEN_ENDPOINT_UNREACHABLE',
      tokenEndpoint,
      cause: error,
    });
  }

  const status = response.status;
  if (text === undefined) {
    throw new TokenRequestError(`token endpoint ${tokenEndpoint} answered HTTP ${status} with more than ${MAX_RESPONSE_BYTES} bytes`, {
      code: status >= 500 ? 'ERR_TOKEN_ENDPOINT_FAILED' : 'ERR_TOKEN_RESPONSE_INVALID',
      status,
      tokenEndpoint,
    });
  }
  const body = parseJsonObject(text);
  if (status >= 200 && status < 300) return parseSuccess(tokenEndpoint, status, body, request.tokenTypes);

  const retryAfter = parseRetryAfter(response.headers.get('retry-after'), request.now());
  const error = typeof body?.error === 'string' ? body.error : undefined;
  const description = typeof body?.error_description === 'string' ? body.error_description : undefined;
  // the server's text goes into the message only sanitised and bounded (printable ASCII, 200 characters)
  const detail = error === undefined ? '' : ` ${printable(description === undefined ? error : `${error}: ${description}`) ?? ''}`;
  const code = status === 429 ? 'ERR_TOKEN_RATE_LIMITED'
    : status >= 500 ? 'ERR_TOKEN_ENDPOINT_FAILED'
      : status >= 400 ? 'ERR_TOKEN_REJECTED'
        : 'ERR_TOKEN_RESPONSE_INVALID';
  throw new TokenRequestError(`token endpoint ${tokenEndpoint} answered HTTP ${status}${detail}`, {
    code,
    status,
    error,
    error_description: description,
    retryAfter,
    tokenEndpoint,
  });
}

function parseSuccess(
  tokenEndpoint: string,
  status: number,
  body: Record<string, unknown> | undefined,
  tokenTypes: readonly string[],
): TokenResponse {
  const invalid = (why: string): TokenRequestError => new TokenRequestError(
    `token endpoint ${tokenEndpoint} answered HTTP ${status} ${why}`,
    { code: 'ERR_TOKEN_RESPONSE_INVALID', status, tokenEndpoint },
  );
  if (body === undefined) throw invalid('without a JSON object');
  const { access_token: accessToken, token_type: tokenType, expires_in: expiresIn, scope } = body;
  if (typeof accessToken !== 'string' || accessToken === '' || /[\s]/.test(accessToken)) {
    throw invalid('without a usable "access_token"');
  }
  // RFC 6749 section 5.1 makes token_type required; a missing one is taken as Bearer (what servers
  // that leave it out mean), never as a sender-constrained type: an unbound token is not a DPoP one.
  const accepted = tokenType === undefined
    ? tokenTypes.find((type) => type === 'Bearer')
    : typeof tokenType === 'string' ? tokenTypes.find((type) => type.toLowerCase() === tokenType.toLowerCase()) : undefined;
  if (accepted === undefined) {
    throw invalid(`with "token_type" ${JSON.stringify(String(tokenType)).slice(0, 40)} (only ${tokenTypes.join(', ')} is supported)`);
  }
  const seconds = typeof expiresIn === 'number' ? expiresIn
    : typeof expiresIn === 'string' && /^\d+$/.test(expiresIn) ? Number(expiresIn) : undefined;
  return {
    accessToken,
    tokenType: accepted,
    expiresIn: seconds !== undefined && Number.isFinite(seconds) && seconds > 0 ? seconds : undefined,
    scope: typeof scope === 'string' ? scope : undefined,
  };
}
