/** The issuer resolution of an API that trusts one issuer: every token goes to its verifier. */
import type { TokenVerifier } from '../verifiers/token-verifier.js';
import type { IssuerResolver } from './issuer-resolver.js';
import { reportsHealth } from '../../lib/health-registry.js';
import { issuersHealth } from './issuers-health.js';

export function singleIssuer(verifier: TokenVerifier): IssuerResolver {
  const resolver: IssuerResolver = {
    verifierFor: () => verifier,
    warmUp: () => verifier.warmUp(),
    close: () => verifier.close(),
  };
  reportsHealth(resolver, (now) => issuersHealth([verifier], now));
  return resolver;
}
