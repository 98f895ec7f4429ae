/**
 * Issuer resolution, the step between credential extraction and verification: which trusted
 * issuer's verifier checks this token. Today one issuer is configured; an API that trusts several
 * issuers plugs a resolver in here that picks the configuration by the token's (unverified) `iss`.
 */
import type { Credentials } from '../credentials/extract-credentials.js';
import type { InboundRequest } from '../inbound-request.js';
import type { TokenVerifier } from '../verifiers/token-verifier.js';

/**
 * Picks the verifier of the issuer a token claims to come from. The choice is a lookup only:
 * everything is then verified against that issuer's configuration, and an unknown issuer must be
 * refused (`InvalidTokenError`) without any network call.
 *
 * @example
 * ```ts
 * import type { IssuerResolver } from 'express-m2m/extend';
 *
 * const one: IssuerResolver = {
 *   verifierFor: () => verifier,
 *   warmUp: () => verifier.warmUp(),
 *   close: () => verifier.close(),
 * };
 * ```
 */
export interface IssuerResolver {
  /** The verifier for these credentials; synchronous when it can be (the hot path). */
  verifierFor(credentials: Credentials, request: InboundRequest): TokenVerifier | Promise<TokenVerifier>;
  /** Warms every verifier up (discovery, keys). */
  warmUp(): Promise<void>;
  /** Closes every verifier. */
  close(): void;
}
