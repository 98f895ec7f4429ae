/**
 * Takes the Bearer access token out of a request, following RFC 6750 section 2. Transport-neutral:
 * it reads a plain description of the request, so any HTTP framework can use it.
 */
import { InvalidRequestError, MissingTokenError } from '../errors/index.js';
import { withoutStack } from '../errors/without-stack.js';

/**
 * The parts of an HTTP request that may carry a Bearer token (RFC 6750 section 2).
 *
 * @example
 * ```ts
 * import { extractBearerToken, type TokenRequest } from 'express-m2m';
 *
 * // A plain node:http request: headers are all extraction needs for the Authorization header.
 * const request: TokenRequest = { headers: req.headers, url: req.url, method: req.method };
 * const token = extractBearerToken(request);
 * ```
 */
export interface TokenRequest {
  /**
   * Request headers with lower-case names, as node's `IncomingMessage.headers`. When the request
   * carried several `Authorization` header lines, pass them all as an array (node keeps only the
   * first in `headers`; see `req.rawHeaders`), so the request is rejected as malformed.
   */
  headers: Record<string, string | string[] | undefined>;
  /**
   * The parsed query string. Read only when query tokens are allowed (parsing it may cost: Express 5
   * parses the query string on every access of `req.query`).
   */
  query?: unknown;
  /**
   * The request target as received (path and query string, e.g. node's `req.url`). Read only to
   * explain a rejection cheaply: when query tokens are off and no token was found, a plain
   * substring search for `access_token=` tells the client why its query token was ignored,
   * without parsing the query string.
   */
  url?: string;
  /** The parsed request body. Read only when body tokens are allowed, or to explain a rejection. */
  body?: unknown;
  /** HTTP method, e.g. `POST`. Body tokens are never taken from a `GET` request. */
  method?: string;
  /** The `Content-Type` header; body tokens require `application/x-www-form-urlencoded`. */
  contentType?: string;
}

/**
 * Which token transmission methods of RFC 6750 section 2 are accepted.
 *
 * @example
 * ```ts
 * import { extractBearerToken, type ExtractionOptions } from 'express-m2m';
 *
 * const options: ExtractionOptions = { allowBodyToken: true };
 * const token = extractBearerToken(
 *   { headers: req.headers, body: req.body, method: req.method, contentType: req.headers['content-type'] },
 *   options,
 * );
 * ```
 */
export interface ExtractionOptions {
  /**
   * Accept `access_token` in the query string (RFC 6750 section 2.3). The RFC advises against it
   * (tokens end up in logs and browser history). Default: `false`.
   */
  allowQueryToken?: boolean;
  /**
   * Accept `access_token` in an `application/x-www-form-urlencoded` body of a non-GET request
   * (RFC 6750 section 2.2). Needs a body parser (e.g. `express.urlencoded()`) before the middleware.
   * Default: `false`.
   */
  allowBodyToken?: boolean;
}

/** RFC 6750 section 2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const FORM_URLENCODED = 'application/x-www-form-urlencoded';

/**
 * Returns the Bearer token of a request, or throws:
 * - {@link MissingTokenError} (401, bare `WWW-Authenticate: Bearer`) when the request carries no
 *   Bearer credentials, including an `Authorization` header of another scheme such as `Basic`
 *   (RFC 6750 section 3.1: no error code for a request without our credentials);
 * - {@link InvalidRequestError} (400 `invalid_request`) when the request is malformed: the token
 *   sent by more than one method, several `Authorization` headers or `access_token` parameters,
 *   an empty `Bearer` credential, or a credential that is not a single b64token.
 *
 * The `Authorization` header is always read (scheme matched case-insensitively); the query and
 * form-body methods only when enabled in `options`.
 *
 * @example
 * ```ts
 * import { extractBearerToken } from 'express-m2m';
 *
 * const token = extractBearerToken({ headers: { authorization: 'Bearer eyJhbGciOi.eyJzdWIi.c2ln' } });
 * // token === 'eyJhbGciOi.eyJzdWIi.c2ln'
 * ```
 */
export function extractBearerToken(request: TokenRequest, options: ExtractionOptions = {}): string {
  const fromHeader = tokenFromHeader(request.headers.authorization);
  // Query and body are read only when their method is enabled, so a disabled method costs nothing.
  const fromQuery = options.allowQueryToken === true ? parameterToken(request.query, 'query string') : undefined;
  const fromBody = options.allowBodyToken === true && isFormPost(request)
    ? parameterToken(request.body, 'request body')
    : undefined;

  if ((fromHeader !== undefined ? 1 : 0) + (fromQuery !== undefined ? 1 : 0) + (fromBody !== undefined ? 1 : 0) > 1) {
    throw invalidRequest(
      'the access token was sent by more than one method; use exactly one',
      'ERR_TOKEN_MULTIPLE_METHODS',
    );
  }
  const token = fromHeader ?? fromQuery ?? fromBody;
  if (token !== undefined) return token;

  // No token: explain a token sent by a method that is not enabled (still a 401 without error code).
  if (options.allowQueryToken !== true && request.url !== undefined && hasQueryTokenHint(request.url)) {
    throw missingToken('an access_token in the query string is not accepted here; send it in the Authorization header');
  }
  if (hasAccessTokenParameter(request.body)) {
    throw missingToken(
      options.allowBodyToken === true
        ? 'an access_token in the request body is accepted only in an application/x-www-form-urlencoded body of a non-GET request'
        : 'an access_token in the request body is not accepted here; send it in the Authorization header',
    );
  }
  const authorization = request.headers.authorization;
  throw missingToken(
    authorization === undefined || authorization === '' || (Array.isArray(authorization) && authorization.length === 0)
      ? 'no access token in the request'
      : 'the Authorization header does not use the Bearer scheme',
  );
}

/** 400 `invalid_request`: an expected rejection, built without a stack trace (see `withoutStack`). */
function invalidRequest(description: string, code: string): InvalidRequestError {
  return withoutStack(() => new InvalidRequestError(description, code));
}

/**
 * A request without a token is the most common rejection (scanners, health checks, browsers) and
 * an expected outcome, not a fault: its error carries no stack trace (see `withoutStack`).
 */
function missingToken(description: string): MissingTokenError {
  return withoutStack(() => new MissingTokenError(description));
}

/**
 * The token of the `Authorization` header, `undefined` when the header is absent, empty or of
 * another scheme; throws InvalidRequestError when a Bearer credential is malformed.
 */
function tokenFromHeader(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    if (value.length === 0) return undefined;
    if (value.length > 1) {
      throw invalidRequest(
        'the request has more than one Authorization header',
        'ERR_TOKEN_MULTIPLE_HEADERS',
      );
    }
    value = value[0] as string;
  }
  // HTTP strips optional whitespace around field values; do the same for non-node callers.
  const header = value.trim();
  if (header.length < 6) return undefined;
  // credentials = auth-scheme [ 1*SP token68 ]: the scheme ends at the first space.
  if (header.length > 6 && header.charCodeAt(6) !== 32) return undefined;
  if (header.slice(0, 6).toLowerCase() !== 'bearer') return undefined;

  let start = 6;
  while (start < header.length && header.charCodeAt(start) === 32) start++;
  const token = header.slice(start);
  if (token.length === 0) {
    throw invalidRequest('the Bearer credentials are empty', 'ERR_TOKEN_EMPTY');
  }
  if (!B64TOKEN.test(token)) {
    throw invalidRequest(
      'the Bearer credentials must be exactly one token of the b64token syntax (RFC 6750 section 2.1)',
      'ERR_TOKEN_MALFORMED_HEADER',
    );
  }
  return token;
}

/** The `access_token` parameter of a parsed query or form body, `undefined` when absent. */
function parameterToken(container: unknown, where: string): string | undefined {
  if (typeof container !== 'object' || container === null) return undefined;
  if (!Object.prototype.hasOwnProperty.call(container, 'access_token')) return undefined;
  const value = (container as Record<string, unknown>).access_token;
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    if (value.length === 0) {
      throw invalidRequest(`the access_token parameter in the ${where} is empty`, 'ERR_TOKEN_EMPTY');
    }
    if (!B64TOKEN.test(value)) {
      throw invalidRequest(
        `the access_token parameter in the ${where} is not a single b64token`,
        'ERR_TOKEN_MALFORMED_PARAMETER',
      );
    }
    return value;
  }
  if (Array.isArray(value)) {
    throw invalidRequest(
      `the access_token parameter is repeated in the ${where}`,
      'ERR_TOKEN_REPEATED_PARAMETER',
    );
  }
  throw invalidRequest(
    `the access_token parameter in the ${where} must be a string`,
    'ERR_TOKEN_MALFORMED_PARAMETER',
  );
}

/** The query part of `url` seems to hold an `access_token` parameter (a hint for a message, no parsing). */
function hasQueryTokenHint(url: string): boolean {
  const question = url.indexOf('?');
  if (question === -1) return false;
  const at = url.indexOf('access_token=', question + 1);
  if (at === -1) return false;
  const before = url.charCodeAt(at - 1);
  return before === 63 /* ? */ || before === 38 /* & */ || before === 59 /* ; */;
}

function hasAccessTokenParameter(container: unknown): boolean {
  return typeof container === 'object' && container !== null
    && Object.prototype.hasOwnProperty.call(container, 'access_token');
}

/** RFC 6750 section 2.2: a form-encoded body of a method whose body has defined semantics (not GET). */
function isFormPost(request: TokenRequest): boolean {
  if (request.body === undefined || request.body === null) return false;
  const method = request.method?.toUpperCase();
  if (method === undefined || method === 'GET' || method === 'HEAD') return false;
  const contentType = request.contentType;
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return mediaType === FORM_URLENCODED;
}
