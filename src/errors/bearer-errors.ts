/**
 * Errors an inbound request can be rejected with (RFC 6750 section 3), plus the 503 for an
 * unreachable key source. Each carries the HTTP `status`, a stable `code` to branch on, and the
 * response `headers` (`WWW-Authenticate`, `Retry-After`), rendered when they are read, so
 * Express's default error handler already answers with the right status and headers. Messages
 * never contain the token.
 */
import {
  addsNothing, DEFAULT_CHALLENGE_CONTEXT, renderChallenge, type ChallengeAttributes, type ChallengeContext, type ChallengeErrorCode,
} from './challenge.js';
import type { InboundErrorCode } from './error-codes.js';

/**
 * The `error` attribute values of RFC 6750 section 3.1.
 *
 * @example
 * ```ts
 * import { BearerError, type BearerErrorCode } from 'express-m2m';
 *
 * app.use((err, req, res, next) => {
 *   const code: BearerErrorCode | undefined = err instanceof BearerError ? err.error : undefined;
 *   if (code === 'insufficient_scope') metrics.increment('auth.forbidden');
 *   next(err);
 * });
 * ```
 */
export type BearerErrorCode = ChallengeErrorCode;

/**
 * Options every inbound error accepts.
 *
 * @example
 * ```ts
 * import { InvalidTokenError } from 'express-m2m';
 *
 * throw new InvalidTokenError('the token was revoked', 'ERR_TOKEN_REVOKED', { realm: 'orders', cause: lookupError });
 * ```
 */
export interface BearerErrorOptions {
  /** Value of the `realm` attribute of `WWW-Authenticate`, when the application sets one. */
  realm?: string;
  /** The underlying error, kept for logs; never rendered to the client. */
  cause?: unknown;
  /** What the rejection is about, for operators (events, logs); never rendered to the client. */
  detail?: RejectionDetail;
}

/**
 * What a rejection is about, for operators: the client, when the token's claims are authentic
 * (its signature verified), and for a mismatch what was expected and what came. Printable,
 * bounded text; never the token or a secret. Reported in `auth.rejected` events, never sent to
 * the client.
 *
 * @example
 * ```ts
 * import type { RejectionDetail } from 'express-m2m';
 *
 * const detail: RejectionDetail = { client: 'billing', claim: 'aud', expected: 'https://orders.example', received: 'https://billing.example' };
 * ```
 */
export interface RejectionDetail {
  /** The client the verified token was issued to (`client_id`, else `azp`, else `sub`). */
  readonly client?: string;
  /** The claim (or `scope`) that did not match. */
  readonly claim?: string;
  /** What the API expects. */
  readonly expected?: string;
  /** What the token carried. */
  readonly received?: string;
}

/**
 * Base class of every rejection of an inbound request. `message` is the `error_description`
 * sent to the client: it helps a developer (e.g. `unexpected 'aud' claim value`) and never echoes
 * the token or a secret.
 *
 * @example
 * ```ts
 * import { BearerError } from 'express-m2m';
 *
 * app.use((err, req, res, next) => {
 *   if (!(err instanceof BearerError)) return next(err);
 *   res.status(err.status).set(err.headers).json({ ...err.toJSON(), code: err.code });
 * });
 * ```
 */
export class BearerError extends Error {
  /** HTTP status of the response. */
  readonly status: number;
  /** Same as `status`, for libraries that read `statusCode`. */
  readonly statusCode: number;
  /** Stable machine-readable code, e.g. `ERR_JWT_EXPIRED` (see {@link ErrorCode}). */
  readonly code: InboundErrorCode | (string & {});
  /** RFC 6750 `error` attribute; absent when the request carried no credentials at all. */
  readonly error: BearerErrorCode | undefined;
  /** The message is safe to show to the client (read by `http-errors`-aware handlers). */
  readonly expose = true;
  /** What the rejection is about, for operators (see {@link RejectionDetail}); never sent to the client. */
  readonly detail: RejectionDetail | undefined;

  constructor(
    status: number,
    code: string,
    error: BearerErrorCode | undefined,
    description: string,
    options: BearerErrorOptions = {},
  ) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.statusCode = status;
    this.code = code;
    this.error = error;
    this.detail = options.detail;
    if (options.realm !== undefined) contexts.set(this, { realm: options.realm });
  }

  /** The RFC 6750 `error_description` (the same text as `message`). */
  get description(): string {
    return this.message;
  }

  /**
   * Response headers: `WWW-Authenticate` (and `Retry-After` where it applies), rendered now from
   * this rejection and the context of the API that answers it (its `realm`).
   */
  get headers(): Record<string, string> {
    return this.responseHeaders(contexts.get(this) ?? DEFAULT_CHALLENGE_CONTEXT);
  }

  /** Whether the response carries a `WWW-Authenticate` challenge (a 503 does not). */
  get challenges(): boolean {
    return true;
  }

  /** The JSON body a client gets: `{ error, error_description }`. */
  toJSON(): { error: string; error_description: string } {
    return { error: this.error ?? 'unauthorized', error_description: this.message };
  }

  /** What this rejection says in its challenge. */
  protected challengeAttributes(): ChallengeAttributes {
    return { error: this.error, description: this.error === undefined ? undefined : this.message };
  }

  protected responseHeaders(context: ChallengeContext): Record<string, string> {
    return { 'WWW-Authenticate': renderChallenge(this.challengeAttributes(), context) };
  }
}

/** The challenge context each error is answered in, when it is not the default one. */
const contexts = new WeakMap<BearerError, ChallengeContext>();

/**
 * Internal: `error` as answered by an API with `context`: the error itself when the context adds
 * nothing (no realm, no resource metadata), when it has no challenge (a 503), or when it carries a
 * context of its own; else a copy that carries `context` (the original may be shared, or frozen,
 * and stays as it is).
 */
export function inChallengeContext<E extends BearerError>(error: E, context: ChallengeContext): E {
  if (addsNothing(context) || !error.challenges || contexts.has(error)) return error;
  const copy = Object.create(Object.getPrototypeOf(error) as object) as E;
  const descriptors = Object.getOwnPropertyDescriptors(error);
  for (const descriptor of Object.values(descriptors)) {
    descriptor.configurable = true;
    if ('value' in descriptor) descriptor.writable = true;
  }
  Object.defineProperties(copy, descriptors);
  contexts.set(copy, context);
  return copy;
}

/**
 * 401 with a bare `WWW-Authenticate: Bearer` challenge: the request carried no token (RFC 6750 section 3.1).
 *
 * @example
 * ```ts
 * import { MissingTokenError } from 'express-m2m';
 *
 * app.get('/me', (req, res, next) => {
 *   if (req.auth === undefined) return next(new MissingTokenError());
 *   res.json(req.auth.payload);
 * });
 * // 401, WWW-Authenticate: Bearer, body { "error": "unauthorized", "error_description": "no access token in the request" }
 * ```
 */
export class MissingTokenError extends BearerError {
  constructor(description = 'no access token in the request', options: BearerErrorOptions = {}) {
    super(401, 'ERR_TOKEN_MISSING', undefined, description, options);
  }

  override toJSON(): { error: string; error_description: string } {
    return { error: 'unauthorized', error_description: this.message };
  }
}

/**
 * 400 `invalid_request`: malformed request, e.g. a token sent by more than one method.
 *
 * @example
 * ```ts
 * import { InvalidRequestError } from 'express-m2m';
 *
 * const error = new InvalidRequestError('the request has more than one Authorization header', 'ERR_TOKEN_MULTIPLE_HEADERS');
 * // error.status === 400, error.headers['WWW-Authenticate'] === 'Bearer error="invalid_request", error_description="..."'
 * ```
 */
export class InvalidRequestError extends BearerError {
  constructor(description: string, code = 'ERR_INVALID_REQUEST', options: BearerErrorOptions = {}) {
    super(400, code, 'invalid_request', description, options);
  }
}

/**
 * 401 `invalid_token`: expired, revoked, malformed or otherwise invalid access token.
 *
 * @example
 * ```ts
 * import { InvalidTokenError } from 'express-m2m';
 *
 * if (await denylist.has(req.auth.payload.jti)) throw new InvalidTokenError('the token was revoked', 'ERR_TOKEN_REVOKED');
 * // 401, WWW-Authenticate: Bearer error="invalid_token", error_description="the token was revoked"
 * ```
 */
export class InvalidTokenError extends BearerError {
  constructor(description: string, code = 'ERR_INVALID_TOKEN', options: BearerErrorOptions = {}) {
    super(401, code, 'invalid_token', description, options);
  }
}

/**
 * 403 `insufficient_scope`: a valid token without the privileges the route needs.
 *
 * @example
 * ```ts
 * import { InsufficientScopeError } from 'express-m2m';
 *
 * if (!req.auth.scopes.includes('admin')) throw new InsufficientScopeError(['admin'], 'the token needs the scope admin');
 * // 403, WWW-Authenticate: Bearer error="insufficient_scope", error_description="...", scope="admin"
 * ```
 */
export class InsufficientScopeError extends BearerError {
  /** The scopes the route requires (rendered as the `scope` attribute), if any. */
  readonly requiredScopes: readonly string[];

  constructor(
    requiredScopes: readonly string[] = [],
    description = 'insufficient scope',
    code = 'ERR_INSUFFICIENT_SCOPE',
    options: BearerErrorOptions = {},
  ) {
    super(403, code, 'insufficient_scope', description, options);
    this.requiredScopes = requiredScopes;
  }

  protected override challengeAttributes(): ChallengeAttributes {
    return { error: 'insufficient_scope', description: this.message, scope: this.requiredScopes.join(' ') };
  }
}

/**
 * 503 with `Retry-After` and no challenge (RFC 9110 section 15.6.4): something the check of the
 * request depends on is unreachable, so the request is refused rather than admitted unchecked.
 * The client did nothing wrong. The one shape of {@link KeySourceUnavailableError} and
 * `DpopReplayStoreUnavailableError`.
 *
 * @example
 * ```ts
 * import { TemporarilyUnavailableError } from 'express-m2m';
 *
 * app.use((err, req, res, next) => {
 *   if (err instanceof TemporarilyUnavailableError) metrics.increment('auth.unavailable', { code: err.code });
 *   next(err);
 * });
 * ```
 */
export class TemporarilyUnavailableError extends BearerError {
  /** Seconds after which the client may retry (also in the `Retry-After` header). */
  readonly retryAfter: number;

  constructor(code: string, description: string, retryAfter: number, options: BearerErrorOptions = {}) {
    super(503, code, undefined, description, options);
    this.retryAfter = retryAfter;
  }

  override get challenges(): boolean {
    return false;
  }

  protected override responseHeaders(): Record<string, string> {
    return { 'Retry-After': String(this.retryAfter) };
  }

  override toJSON(): { error: string; error_description: string } {
    return { error: 'temporarily_unavailable', error_description: this.message };
  }
}

/**
 * 503 with `Retry-After`: no key could be had to verify the token because the issuer's JWKS or
 * discovery endpoint is unreachable, slow or answers garbage. The client did nothing wrong.
 *
 * @example
 * ```ts
 * import { KeySourceUnavailableError } from 'express-m2m';
 *
 * app.use((err, req, res, next) => {
 *   if (err instanceof KeySourceUnavailableError) logger.warn({ cause: err.cause, retryAfter: err.retryAfter }, 'issuer keys unavailable');
 *   next(err);
 * });
 * ```
 */
export class KeySourceUnavailableError extends TemporarilyUnavailableError {
  constructor(description = 'the token issuer\'s keys are temporarily unavailable', retryAfter = 30, options: BearerErrorOptions = {}) {
    super('ERR_KEY_SOURCE_UNAVAILABLE', description, retryAfter, options);
  }
}
