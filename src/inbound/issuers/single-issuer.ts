/** The issuer resolution of an API that trusts one issuer: every token goes to its verifier. */
import type { TokenVerifier } from '../verifiers/token-verifier.js';
import type { IssuerResolver } from './issuer-resolver.js';

export function singleIssuer(verifier: TokenVerifier): IssuerResolver {
  return {
    verifierFor: () => verifier,
    warmUp: () => verifier.warmUp(),
    close: () => verifier.close(),
  };
}
