/**
 * Credential extraction, the first step of the inbound pipeline: the access token out of a
 * request, following RFC 6750 section 2 (the `Authorization` header with the `Bearer` scheme;
 * the query string and the form body only when enabled) and RFC 9449 section 7.1 (the `DPoP`
 * scheme with exactly one `DPoP` header, when DPoP is on). Transport-neutral: it reads an
 * {@link InboundRequest}.
 */
import { InvalidRequestError, MissingTokenError } from '../../errors/bearer-errors.js';
import { DpopProofError } from '../../errors/dpop-errors.js';
import { withoutStack } from '../../errors/without-stack.js';
import type { InboundRequest } from '../inbound-request.js';

/**
 * The credentials of a request: the scheme, the token, and how it was sent.
 *
 * @example
 * ```ts
 * import type { Credentials } from 'express-m2m/extend';
 *
 * const credentials: Credentials = { scheme: 'Bearer', token: 'eyJ...', via: 'header' };
 * ```
 */
export interface Credentials {
  /** The authorization scheme the token was presented with: `DPoP` (RFC 9449) only when DPoP is on. */
  readonly scheme: 'Bearer' | 'DPoP';
  /** The access token. A secret: never log it. */
  readonly token: string;
  /** How the token was sent (RFC 6750 section 2.1, 2.2, 2.3); `header` for DPoP. */
  readonly via: 'header' | 'body' | 'query';
  /** With the `DPoP` scheme: the proof, the one `DPoP` header (not yet checked). */
  readonly proof?: string;
}

/**
 * Which token transmission methods of RFC 6750 section 2 are accepted.
 *
 * @example
 * ```ts
 * import type { CredentialsPolicy } from 'express-m2m/extend';
 *
 * const policy: CredentialsPolicy = { allowQueryToken: false, allowBodyToken: true };
 * ```
 */
export interface CredentialsPolicy {
  /**
   * Accept `access_token` in the query string (RFC 6750 section 2.3). The RFC advises against it
   * (tokens end up in logs and browser history). Default: `false`.
   */
  readonly allowQueryToken?: boolean;
  /**
   * Accept `access_token` in an `application/x-www-form-urlencoded` body of a non-GET request
   * (RFC 6750 section 2.2). Needs a body parser (e.g. `express.urlencoded()`) before the middleware.
   * Default: `false`.
   */
  readonly allowBodyToken?: boolean;
  /**
   * Accept the `DPoP` scheme with its `DPoP` header (RFC 9449 section 7.1): `'allowed'` besides
   * Bearer, `'required'` instead of it. Default: not accepted (DPoP is off).
   */
  readonly dpopScheme?: 'allowed' | 'required' | undefined;
}

/** RFC 6750 section 2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const FORM_URLENCODED = 'application/x-www-form-urlencoded';
/** `Bearer` followed by a tab (or another control character) instead of a space. */
const BEARER_WRONG_SEPARATOR = /^\s*bearer[\x00-\x1f]/i;

/**
 * Returns the credentials of a request, or throws:
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
 * import { extractCredentials } from 'express-m2m/extend';
 *
 * const credentials = extractCredentials({ method: 'GET', target: '/', headerLines: () => ['Bearer eyJhbGciOi.eyJzdWIi.c2ln'] });
 * // credentials.token === 'eyJhbGciOi.eyJzdWIi.c2ln'
 * ```
 */
export function extractCredentials(request: InboundRequest, policy: CredentialsPolicy = {}): Credentials {
  const credentials = extractAny(request, policy);
  if (policy.dpopScheme === 'required' && credentials.scheme === 'Bearer') {
    throw missingToken('this API accepts only DPoP-bound access tokens: use the DPoP scheme with a DPoP proof (RFC 9449)');
  }
  return credentials;
}

/** The scheme of the request's `Authorization` header when it is `Bearer` or `DPoP` (for the challenge of a rejection). */
export function presentedScheme(request: InboundRequest): 'Bearer' | 'DPoP' | undefined {
  const header = request.headerLines('authorization')[0]?.trimStart();
  if (header === undefined) return undefined;
  const scheme = header.slice(0, 6).toLowerCase();
  return scheme === 'bearer' ? 'Bearer' : scheme.startsWith('dpop ') ? 'DPoP' : undefined;
}

function extractAny(request: InboundRequest, policy: CredentialsPolicy): Credentials {
  const authorization = request.headerLines('authorization');
  const dpopToken = policy.dpopScheme === undefined ? undefined : dpopFromHeader(authorization);
  const fromHeader = dpopToken ?? tokenFromHeader(authorization);
  // Query and body are read only when their method is enabled, so a disabled method costs nothing.
  const fromQuery = policy.allowQueryToken === true ? parameterToken(request.query, 'query string') : undefined;
  const fromBody = policy.allowBodyToken === true && hasAccessTokenParameter(request.body) && isFormPost(request)
    ? parameterToken(request.body, 'request body')
    : undefined;

  if ((fromHeader !== undefined ? 1 : 0) + (fromQuery !== undefined ? 1 : 0) + (fromBody !== undefined ? 1 : 0) > 1) {
    throw invalidRequest('the access token was sent by more than one method; use exactly one', 'ERR_TOKEN_MULTIPLE_METHODS');
  }
  if (fromHeader !== undefined) {
    // RFC 6750 section 2: a client must not use more than one method, whether or not the other is
    // accepted here (a token in the URL has leaked to logs either way).
    if ((policy.allowQueryToken !== true && hasQueryTokenHint(request.target))
      || (policy.allowBodyToken !== true && hasAccessTokenParameter(request.body) && isFormPost(request))) {
      throw invalidRequest('the access token was sent by more than one method; use exactly one', 'ERR_TOKEN_MULTIPLE_METHODS');
    }
    if (dpopToken !== undefined) return { scheme: 'DPoP', token: dpopToken, via: 'header', proof: proofOf(request) };
    return { scheme: 'Bearer', token: fromHeader, via: 'header' };
  }
  if (fromQuery !== undefined) return { scheme: 'Bearer', token: fromQuery, via: 'query' };
  if (fromBody !== undefined) return { scheme: 'Bearer', token: fromBody, via: 'body' };

  // No token: explain a token sent by a method that is not enabled (still a 401 without error code).
  if (policy.allowQueryToken !== true && hasQueryTokenHint(request.target)) {
    throw missingToken('an access_token in the query string is not accepted here; send it in the Authorization header');
  }
  if (hasAccessTokenParameter(request.body)) {
    throw missingToken(
      policy.allowBodyToken === true
        ? 'an access_token in the request body is accepted only in an application/x-www-form-urlencoded body of a non-GET request'
        : 'an access_token in the request body is not accepted here; send it in the Authorization header',
    );
  }
  throw missingToken(
    authorization.length === 0 || authorization[0] === ''
      ? 'no access token in the request'
      : BEARER_WRONG_SEPARATOR.test(authorization[0] as string)
        ? "the Authorization header separates 'Bearer' from the token with a tab or another control character; use a space (RFC 7235 section 2.1)"
        : policy.dpopScheme === undefined ? 'the Authorization header does not use the Bearer scheme' : 'the Authorization header uses neither the Bearer nor the DPoP scheme',
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

/** The one `DPoP` header of a request with the DPoP scheme (RFC 9449 section 4.3 point 1). */
function proofOf(request: InboundRequest): string {
  const lines = request.headerLines('dpop');
  if (lines.length === 0) throw withoutStack(() => new DpopProofError('the DPoP scheme needs a DPoP header with the proof', 'ERR_DPOP_PROOF_MISSING'));
  if (lines.length > 1) throw withoutStack(() => new DpopProofError('the request has more than one DPoP header', 'ERR_DPOP_PROOF_MULTIPLE'));
  return (lines[0] as string).trim();
}

/** The token of an `Authorization: DPoP <token>` header, `undefined` for another scheme (several headers: left to tokenFromHeader). */
function dpopFromHeader(lines: readonly string[]): string | undefined {
  if (lines.length !== 1) return undefined;
  const header = (lines[0] as string).trim();
  if (header.slice(0, 4).toLowerCase() !== 'dpop' || (header.length > 4 && header.charCodeAt(4) !== 32)) return undefined;
  // The header is trimmed: the spaces after the scheme end before the end of the header.
  let start = 4;
  while (header.charCodeAt(start) === 32) start++;
  const token = header.slice(start);
  if (token.length === 0) throw invalidRequest('the DPoP credentials are empty', 'ERR_TOKEN_EMPTY');
  if (!B64TOKEN.test(token)) {
    throw invalidRequest('the DPoP credentials must be exactly one token of the token68 syntax (RFC 9449 section 7.1)', 'ERR_TOKEN_MALFORMED_HEADER');
  }
  return token;
}

/**
 * The token of the `Authorization` header, `undefined` when the header is absent, empty or of
 * another scheme; throws InvalidRequestError when a Bearer credential is malformed.
 */
function tokenFromHeader(lines: readonly string[]): string | undefined {
  if (lines.length === 0) return undefined;
  if (lines.length > 1) {
    throw invalidRequest(
      'the request has more than one Authorization header',
      'ERR_TOKEN_MULTIPLE_HEADERS',
    );
  }
  const value = lines[0] as string;
  // HTTP strips optional whitespace around field values; do the same for non-node callers.
  const header = value.trim();
  // credentials = auth-scheme [ 1*SP token68 ]: the scheme ends at the first space.
  if (header.length > 6 && header.charCodeAt(6) !== 32) return undefined;
  if (header.slice(0, 6).toLowerCase() !== 'bearer') return undefined;

  // The header is trimmed: the spaces after the scheme end before the end of the header.
  let start = 6;
  while (header.charCodeAt(start) === 32) start++;
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

/**
 * The query part of `url` seems to hold an `access_token` parameter: an `access_token=` right after
 * the `?`, a `&` or a `;` (a hint, without parsing; every occurrence is looked at, so
 * `?my_access_token=1&access_token=...` is seen).
 */
function hasQueryTokenHint(url: string): boolean {
  const question = url.indexOf('?');
  if (question === -1) return false;
  for (let at = url.indexOf('access_token=', question); at !== -1; at = url.indexOf('access_token=', at + 1)) {
    const before = url.charCodeAt(at - 1);
    if (before === 63 /* ? */ || before === 38 /* & */ || before === 59 /* ; */) return true;
  }
  return false;
}

function hasAccessTokenParameter(container: unknown): boolean {
  return typeof container === 'object' && container !== null
    && Object.prototype.hasOwnProperty.call(container, 'access_token');
}

/**
 * RFC 6750 section 2.2: a form-encoded body of a method whose body has defined semantics (not GET).
 * Whether there is a body at all is left to the caller (`parameterToken`, `hasAccessTokenParameter`).
 */
function isFormPost(request: InboundRequest): boolean {
  const method = request.method.toUpperCase();
  if (method === 'GET' || method === 'HEAD') return false;
  const contentType = request.headerLines('content-type')[0];
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return mediaType === FORM_URLENCODED;
}
