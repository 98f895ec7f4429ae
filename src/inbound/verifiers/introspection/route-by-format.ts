/**
 * Internal: an issuer whose opaque tokens are introspected while its JWTs are verified with its
 * keys (`introspection.tokens: 'opaque'`): a token of three dot-separated segments (a JWS in
 * compact serialization) goes to the JWT verifier, any other token to introspection.
 */
import type { TokenVerifier } from '../token-verifier.js';

/** Whether `token` has the shape of a JWS in compact serialization (exactly two dots). */
export function looksLikeJwt(token: string): boolean {
  const first = token.indexOf('.');
  if (first === -1) return false;
  const second = token.indexOf('.', first + 1);
  return second !== -1 && token.indexOf('.', second + 1) === -1;
}

export function routeByFormat(jwt: TokenVerifier, introspection: TokenVerifier): TokenVerifier {
  return {
    verify: ((token: string) => (typeof token === 'string' && looksLikeJwt(token) ? jwt.verify(token) : introspection.verify(token))) as TokenVerifier['verify'],
    async warmUp() {
      await Promise.all([jwt.warmUp(), introspection.warmUp()]);
    },
    close() {
      jwt.close();
      introspection.close();
    },
  };
}
