/**
 * Every stable `code` an express-m2m error carries, in one place: one union to switch on
 * ({@link ErrorCode}), and one per side (inbound rejections, outbound token failures).
 */

/**
 * Codes of the 401 `invalid_token` rejections of JWT verification.
 *
 * @example
 * ```ts
 * import { InvalidTokenError, type JwtErrorCode } from 'express-m2m';
 *
 * const retryWithNewToken: JwtErrorCode[] = ['ERR_JWT_EXPIRED', 'ERR_JWT_TOO_OLD'];
 * function shouldRefresh(error: unknown): boolean {
 *   return error instanceof InvalidTokenError && (retryWithNewToken as string[]).includes(error.code);
 * }
 * ```
 */
export type JwtErrorCode =
  | 'ERR_TOKEN_TOO_LARGE'
  | 'ERR_JWT_MALFORMED'
  | 'ERR_JWT_ALG_NOT_ALLOWED'
  | 'ERR_JWT_CRIT'
  | 'ERR_JWT_TYP'
  | 'ERR_JWT_KEY_MISMATCH'
  | 'ERR_JWT_SIGNATURE_INVALID'
  | 'ERR_JWT_CLAIM_MISSING'
  | 'ERR_JWT_CLAIM_INVALID'
  | 'ERR_JWT_ISSUER'
  | 'ERR_JWT_AUDIENCE'
  | 'ERR_JWT_EXPIRED'
  | 'ERR_JWT_NOT_YET_VALID'
  | 'ERR_JWT_IAT_FUTURE'
  | 'ERR_JWT_TOO_OLD';

/** Codes of the 401 `invalid_token` rejections of key selection (see `KEY_ERROR_CODES`). */
export type KeyErrorCode =
  | 'ERR_KEY_ALG_NOT_SUPPORTED'
  | 'ERR_JWKS_NO_MATCHING_KEY'
  | 'ERR_JWKS_MULTIPLE_MATCHING_KEYS'
  | 'ERR_KEY_ALG_MISMATCH'
  | 'ERR_KEY_ISSUER_MISMATCH';

/** Codes of the rejections of how the credentials were sent (RFC 6750 section 2). */
export type CredentialsErrorCode =
  /** 401 without error code: no credentials of an accepted scheme. */
  | 'ERR_TOKEN_MISSING'
  | 'ERR_TOKEN_MULTIPLE_METHODS'
  | 'ERR_TOKEN_MULTIPLE_HEADERS'
  | 'ERR_TOKEN_EMPTY'
  | 'ERR_TOKEN_MALFORMED_HEADER'
  | 'ERR_TOKEN_MALFORMED_PARAMETER'
  | 'ERR_TOKEN_REPEATED_PARAMETER'
  | 'ERR_INVALID_REQUEST';

/** Codes of the 401 `invalid_token` rejections of binding checks (sender-constrained tokens). */
export type BindingErrorCode =
  /** A token with a confirmation claim (`cnf`) presented without the proof it needs. */
  | 'ERR_TOKEN_SENDER_CONSTRAINED'
  /** mTLS (RFC 8705): a certificate-bound token from a request without a client certificate. */
  | 'ERR_TOKEN_CERTIFICATE_MISSING'
  /** mTLS: the client certificate's thumbprint is not the token's `cnf["x5t#S256"]`. */
  | 'ERR_TOKEN_CERTIFICATE_MISMATCH'
  /** mTLS: the client certificate (a proxy's header, or the user's function) cannot be read. */
  | 'ERR_CLIENT_CERTIFICATE_MALFORMED'
  /** mTLS `mode: 'required'`: a token that is not certificate-bound. */
  | 'ERR_TOKEN_NOT_CERTIFICATE_BOUND';

/**
 * Codes of the DPoP rejections (RFC 9449): 401 `invalid_dpop_proof` unless noted.
 *
 * @example
 * ```ts
 * import { DpopProofError, type DpopErrorCode } from 'express-m2m';
 *
 * const clockProblems: DpopErrorCode[] = ['ERR_DPOP_IAT'];
 * const isClockProblem = (error: unknown) => error instanceof DpopProofError && (clockProblems as string[]).includes(error.code);
 * ```
 */
export type DpopErrorCode =
  /** The DPoP scheme without a `DPoP` header. */
  | 'ERR_DPOP_PROOF_MISSING'
  /** More than one `DPoP` header. */
  | 'ERR_DPOP_PROOF_MULTIPLE'
  /** A proof longer than `dpop.maxProofSize`. */
  | 'ERR_DPOP_PROOF_TOO_LARGE'
  /** Not a compact JWS of JSON objects, or a claim of the wrong type. */
  | 'ERR_DPOP_PROOF_MALFORMED'
  /** `typ` is not `dpop+jwt`. */
  | 'ERR_DPOP_TYP'
  /** `alg` is not one of `dpop.algorithms`, or does not fit the key. */
  | 'ERR_DPOP_ALG'
  /** The `jwk` header is missing, not a public asymmetric key, or holds private members. */
  | 'ERR_DPOP_JWK'
  /** The signature does not verify with the `jwk`. */
  | 'ERR_DPOP_SIGNATURE'
  /** A required claim (`jti`, `htm`, `htu`, `iat`, `ath`) is missing. */
  | 'ERR_DPOP_CLAIM_MISSING'
  /** `htm` is not the request method. */
  | 'ERR_DPOP_HTM'
  /** `htu` is not the request URL (without query and fragment). */
  | 'ERR_DPOP_HTU'
  /** `iat` is outside the accepted window. */
  | 'ERR_DPOP_IAT'
  /** `ath` is not the hash of the access token. */
  | 'ERR_DPOP_ATH'
  /** The proof's key is not the one the token is bound to (`cnf.jkt`). */
  | 'ERR_DPOP_KEY_MISMATCH'
  /** The proof was used before (its `jti` was seen within its window). */
  | 'ERR_DPOP_REPLAYED'
  /** 401 `use_dpop_nonce`: the proof lacks the current nonce. */
  | 'ERR_DPOP_NONCE'
  /** 401 `invalid_token`: the DPoP scheme with a token that is not DPoP-bound (no `cnf.jkt`). */
  | 'ERR_DPOP_TOKEN_NOT_BOUND'
  /** 503: the replay store could not be asked. */
  | 'ERR_DPOP_REPLAY_STORE_UNAVAILABLE'
  /** 400 `invalid_request`: the request's URL cannot be known (no or a malformed `Host`). */
  | 'ERR_REQUEST_HOST_INVALID';

/**
 * Every code an inbound rejection (`BearerError`) carries.
 *
 * @example
 * ```ts
 * import { BearerError, type InboundErrorCode } from 'express-m2m';
 *
 * app.use((err, req, res, next) => {
 *   const code: InboundErrorCode | undefined = err instanceof BearerError ? err.code as InboundErrorCode : undefined;
 *   if (code === 'ERR_JWT_EXPIRED') metrics.increment('auth.expired');
 *   next(err);
 * });
 * ```
 */
export type InboundErrorCode =
  | CredentialsErrorCode
  | JwtErrorCode
  | KeyErrorCode
  | BindingErrorCode
  | DpopErrorCode
  /** 401: the introspection endpoint said the token is not active (RFC 7662 `active: false`). */
  | 'ERR_TOKEN_INACTIVE'
  /** 401: the `isRevoked` hook said the token is revoked. */
  | 'ERR_TOKEN_REVOKED'
  /** A custom key source or validator failed in a way that is not a rejection (a bug): 401. */
  | 'ERR_TOKEN_UNVERIFIABLE'
  | 'ERR_INVALID_TOKEN'
  /** 503: what the token is checked with cannot be asked now (the issuer's keys or metadata, the issuer resolver, the revocation check). */
  | 'ERR_KEY_SOURCE_UNAVAILABLE'
  /** 403 from `requireScopes`. */
  | 'ERR_INSUFFICIENT_SCOPE'
  /** 403 from the claim guards. */
  | 'ERR_INSUFFICIENT_CLAIMS';

/**
 * Stable codes of `TokenRequestError`, to branch on.
 *
 * @example
 * ```ts
 * import { TokenRequestError } from 'express-m2m';
 *
 * function isRetryLater(error: unknown): boolean {
 *   return error instanceof TokenRequestError
 *     && (error.code === 'ERR_TOKEN_RATE_LIMITED' || error.code === 'ERR_TOKEN_ENDPOINT_FAILED' || error.code === 'ERR_TOKEN_TIMEOUT');
 * }
 * ```
 */
export type TokenRequestErrorCode =
  /** The authorization server answered 4xx with an OAuth error (e.g. `invalid_client`). Not retried. */
  | 'ERR_TOKEN_REJECTED'
  /** The authorization server answered 429 Too Many Requests. */
  | 'ERR_TOKEN_RATE_LIMITED'
  /** The authorization server answered 5xx. */
  | 'ERR_TOKEN_ENDPOINT_FAILED'
  /** The token endpoint did not answer within `timeoutDuration`, or no token came within `deadlineDuration`. */
  | 'ERR_TOKEN_TIMEOUT'
  /** The token endpoint could not be reached (connection refused, reset, DNS). */
  | 'ERR_TOKEN_ENDPOINT_UNREACHABLE'
  /** The answer was not a usable token response (not JSON, no `access_token`, ...). */
  | 'ERR_TOKEN_RESPONSE_INVALID'
  /** `issuerBaseURL` discovery failed or named no `token_endpoint`. */
  | 'ERR_TOKEN_DISCOVERY_FAILED'
  /**
   * The discovered `token_endpoint` is not an http(s) URL, or is http while `issuerBaseURL` is https
   * (the client secret would travel in clear). Not retried.
   */
  | 'ERR_TOKEN_ENDPOINT_INSECURE'
  /** The provider was closed. */
  | 'ERR_TOKEN_PROVIDER_CLOSED'
  /** A DPoP proof was sent but the token came back as Bearer (`dpop.allowBearerDowngrade` not set). Not retried. */
  | 'ERR_TOKEN_NOT_BOUND';

/**
 * Every stable `code` of express-m2m's errors: inbound rejections, outbound token failures, and
 * `OutboundTokenError`'s `ERR_OUTBOUND_TOKEN_UNAVAILABLE`.
 *
 * @example
 * ```ts
 * import type { ErrorCode } from 'express-m2m';
 *
 * function severity(code: ErrorCode): 'warn' | 'info' {
 *   switch (code) {
 *     case 'ERR_KEY_SOURCE_UNAVAILABLE':
 *     case 'ERR_TOKEN_ENDPOINT_UNREACHABLE':
 *       return 'warn';
 *     default:
 *       return 'info';
 *   }
 * }
 * ```
 */
export type ErrorCode = InboundErrorCode | TokenRequestErrorCode | 'ERR_OUTBOUND_TOKEN_UNAVAILABLE';
