/**
 * The seam between the inbound pipeline and what checks a token: the JWT verifier (`jwt/`) and
 * introspection (`introspection/`, RFC 7662). A verifier knows nothing of requests, schemes or bindings:
 * it says whether a token is valid and what it grants.
 */
import type { JWTPayload } from 'jose';
import type { VerifiedToken } from '../verified-token.js';

/**
 * Checks access tokens of one issuer. `verify` answers synchronously when everything it needs is
 * at hand (a cached token or key), otherwise with a promise; it throws (or rejects with) a
 * `BearerError`: `InvalidTokenError` (401) for a bad token, `KeySourceUnavailableError` (503)
 * when the issuer cannot be asked.
 *
 * @example
 * ```ts
 * import type { TokenVerifier } from 'express-m2m/extend';
 *
 * const verifier: TokenVerifier = createVerifier({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example' });
 * const auth = await verifier.verify(token);
 * ```
 */
export interface TokenVerifier {
  verify<Claims = JWTPayload>(token: string): VerifiedToken<Claims> | Promise<VerifiedToken<Claims>>;
  /** Fetches whatever must be fetched (discovery, keys) now, so the first request does not wait. */
  warmUp(): Promise<void>;
  /** Stops background work and drops cached tokens. */
  close(): void;
}
