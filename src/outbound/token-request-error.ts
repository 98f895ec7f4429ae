/**
 * The one error a token provider rejects with. It names what went wrong (the OAuth `error`, the
 * HTTP status, a stable `code`) and never carries the client secret, the client assertion or a token.
 */
import type { TokenRequestErrorCode } from '../errors/error-codes.js';

/**
 * Fields of a {@link TokenRequestError}.
 *
 * @example
 * ```ts
 * import { TokenRequestError, type TokenRequestErrorDetails } from 'express-m2m';
 *
 * // e.g. in a custom TokenProvider or a test double
 * const details: TokenRequestErrorDetails = { code: 'ERR_TOKEN_REJECTED', error: 'invalid_client', status: 401 };
 * const error = new TokenRequestError('token endpoint answered HTTP 401 invalid_client', details);
 * ```
 */
export interface TokenRequestErrorDetails {
  code: TokenRequestErrorCode;
  /** OAuth `error` from the response body (RFC 6749 section 5.2), when there was one. */
  error?: string | undefined;
  /** OAuth `error_description` from the response body, when there was one. */
  error_description?: string | undefined;
  /** HTTP status of the token endpoint's answer; undefined when there was no answer. */
  status?: number | undefined;
  /** `Retry-After` of the answer, in milliseconds, when it had one. */
  retryAfter?: number | undefined;
  /** The token endpoint (or issuer) URL. */
  tokenEndpoint?: string | undefined;
  /** The underlying error (network error, JSON parse error), kept for logs. */
  cause?: unknown;
}

const RETRYABLE: ReadonlySet<TokenRequestErrorCode> = new Set([
  'ERR_TOKEN_RATE_LIMITED',
  'ERR_TOKEN_ENDPOINT_FAILED',
  'ERR_TOKEN_TIMEOUT',
  'ERR_TOKEN_ENDPOINT_UNREACHABLE',
  'ERR_TOKEN_RESPONSE_INVALID',
  'ERR_TOKEN_DISCOVERY_FAILED',
]);

/**
 * Keeps at most 200 printable ASCII characters of server-provided text (anything else becomes `?`),
 * so a hostile or broken endpoint can neither forge log lines nor flood logs through an error.
 */
export function printable(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

/**
 * A client-credentials token could not be had. `message` is meant for a developer and names the
 * endpoint, the HTTP status and the OAuth error; it never contains the secret, the assertion or a token.
 *
 * @example
 * ```ts
 * import { clientCredentials, TokenRequestError } from 'express-m2m';
 *
 * const provider = clientCredentials({
 *   tokenEndpoint: 'https://auth.example.com/oauth/token',
 *   clientId: 'my-service',
 *   clientSecret: process.env.CLIENT_SECRET ?? 'placeholder',
 * });
 * try {
 *   await provider.getToken();
 * } catch (error) {
 *   if (error instanceof TokenRequestError && error.error === 'invalid_client') {
 *     console.error('check the client credentials', error.status);
 *   }
 * }
 * ```
 */
export class TokenRequestError extends Error {
  /** Stable machine-readable code. */
  readonly code: TokenRequestErrorCode;
  /** OAuth `error` (e.g. `invalid_client`), when the endpoint sent one. */
  readonly error: string | undefined;
  /** OAuth `error_description`, when the endpoint sent one (printable ASCII, at most 200 characters). */
  readonly error_description: string | undefined;
  /** HTTP status of the token endpoint's answer; undefined when it did not answer. */
  readonly status: number | undefined;
  /** `Retry-After` in milliseconds, when the endpoint sent one. */
  readonly retryAfter: number | undefined;
  /** The token endpoint (or issuer) URL. */
  readonly tokenEndpoint: string | undefined;
  /** Whether the failure is transient (retried with backoff) rather than a rejection. */
  readonly retryable: boolean;

  constructor(message: string, details: TokenRequestErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'TokenRequestError';
    this.code = details.code;
    this.error = printable(details.error);
    this.error_description = printable(details.error_description);
    this.status = details.status;
    this.retryAfter = details.retryAfter;
    this.tokenEndpoint = details.tokenEndpoint;
    this.retryable = RETRYABLE.has(details.code) || (details.status !== undefined && details.status >= 500);
  }

  /** The fields worth logging, without the stack. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      error: this.error,
      error_description: this.error_description,
      status: this.status,
      retryAfter: this.retryAfter,
      tokenEndpoint: this.tokenEndpoint,
    };
  }
}
