/**
 * The issuer resolution of an API that trusts a fixed list of issuers: the token's unverified
 * `iss` picks one, by a map lookup; an issuer not on the list is refused without any network call.
 * A token that is not a JWT (it names no issuer) goes to the one issuer that introspects, if any.
 */
import { looksLikeJwt } from '../verifiers/introspection/route-by-format.js';
import type { TokenVerifier } from '../verifiers/token-verifier.js';
import { issuerKey } from './issuer-key.js';
import { untrustedIssuer } from './issuer-options.js';
import type { IssuerResolver } from './issuer-resolver.js';
import { peekIssuer } from './peek-issuer.js';
import { reportsHealth } from '../../lib/health-registry.js';
import { issuersHealth } from './issuers-health.js';

/** Most spellings of trusted issuers remembered (see `verifierFor`): a few per issuer. */
const MAX_REMEMBERED_SPELLINGS = 64;

export function issuerList(verifiers: ReadonlyMap<string, TokenVerifier>, opaque?: TokenVerifier): IssuerResolver {
  // The `iss` strings already matched to a trusted issuer, so that the common case (every token
  // of an issuer spells its `iss` the same way) is one map lookup instead of parsing a URL. Only
  // matches are remembered, and at most MAX_REMEMBERED_SPELLINGS of them: tokens cannot grow it.
  const matched = new Map<string, TokenVerifier>();
  const resolver: IssuerResolver = {
    verifierFor(credentials) {
      if (opaque !== undefined && !looksLikeJwt(credentials.token)) return opaque;
      const issuer = peekIssuer(credentials.token);
      const known = matched.get(issuer);
      if (known !== undefined) return known;
      const verifier = verifiers.get(issuerKey(issuer));
      if (verifier === undefined) return untrustedIssuer(issuer);
      if (matched.size < MAX_REMEMBERED_SPELLINGS) matched.set(issuer, verifier);
      return verifier;
    },
    async warmUp() {
      await Promise.all([...verifiers.values()].map((verifier) => verifier.warmUp()));
    },
    close() {
      for (const verifier of verifiers.values()) verifier.close();
    },
  };
  reportsHealth(resolver, (now) => issuersHealth(verifiers.values(), now));
  return resolver;
}
