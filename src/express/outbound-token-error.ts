/** The error a downstream call gets when no token can be had for it (`outboundAuth`). */
import { TokenRequestError } from '../outbound/token-request-error.js';

/**
 * A downstream call could not get a token. Carries a status meant for the caller of your API
 * (503 with `Retry-After` for a transient failure, 502 when the authorization server rejected the
 * client), not the authorization server's own status; the {@link TokenRequestError} is its `cause`.
 *
 * @example
 * ```ts
 * import type { Request, Response, NextFunction } from 'express';
 * import { OutboundTokenError } from 'express-m2m';
 *
 * export function downstreamErrors(error: unknown, _req: Request, res: Response, next: NextFunction) {
 *   if (!(error instanceof OutboundTokenError)) return next(error);
 *   console.error(error.service, error.cause.code, error.cause.error);
 *   res.status(error.status).set(error.headers).json({ error: 'downstream_unavailable' });
 * }
 * ```
 */
export class OutboundTokenError extends Error {
  /** 502 or 503, for Express's error handler. */
  readonly status: number;
  /** Same as `status`. */
  readonly statusCode: number;
  /** Stable code. */
  readonly code = 'ERR_OUTBOUND_TOKEN_UNAVAILABLE';
  /** The service name. */
  readonly service: string;
  /** Response headers (`Retry-After` on 503). */
  readonly headers: Record<string, string>;
  /** The message names internals (the token endpoint): not for the client. */
  readonly expose = false;
  override readonly cause: TokenRequestError;

  constructor(service: string, cause: TokenRequestError) {
    super(`no token for service "${service}": ${cause.message}`, { cause });
    this.name = 'OutboundTokenError';
    this.service = service;
    this.cause = cause;
    this.status = cause.retryable ? 503 : 502;
    this.statusCode = this.status;
    this.headers = this.status === 503 ? { 'Retry-After': String(Math.max(1, Math.ceil((cause.retryAfter ?? 5000) / 1000))) } : {};
  }
}

