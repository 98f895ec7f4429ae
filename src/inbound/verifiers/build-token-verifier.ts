/**
 * Internal: the verifier of one issuer's options: the JWT verifier, or with the `introspection`
 * option the introspection verifier (for the tokens that are not JWTs, or for every token).
 */
import type { KnownOptions, OptionReader } from '../../options/option-reader.js';
import type { TokenVerifier } from './token-verifier.js';
import { buildIntrospectingVerifier, type IntrospectingVerifierOptions } from './introspection/build-introspection-verifier.js';
import { buildJwtVerifier } from './jwt/create-verifier.js';
import { VERIFIER_OPTION_NAMES, type RequiredOptionVariables } from './jwt/resolve-options.js';

/** Every option of one issuer's verifier: the JWT verifier's, and `introspection`. */
export const TOKEN_VERIFIER_OPTION_NAMES: KnownOptions<IntrospectingVerifierOptions> = { ...VERIFIER_OPTION_NAMES, introspection: true };

/** The verifier of the options read by `read`, the issuer it trusts, and whether it introspects. */
export function buildTokenVerifier(
  read: OptionReader<IntrospectingVerifierOptions>,
  variables?: RequiredOptionVariables,
): { verifier: TokenVerifier; identity: string; introspects: boolean } {
  if (read.has('introspection')) return { ...buildIntrospectingVerifier(read, variables), introspects: true };
  const verifier = buildJwtVerifier(read, variables);
  return { verifier, identity: (verifier.options.issuer ?? verifier.options.issuerBaseURL) as string, introspects: false };
}
