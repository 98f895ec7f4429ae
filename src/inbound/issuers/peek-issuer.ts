/**
 * Internal: the `iss` a JWT claims, read before anything is verified, only to choose which
 * trusted issuer's configuration verifies it (everything is then verified against that one).
 */
import { InvalidTokenError } from '../../errors/bearer-errors.js';
import { withoutStack } from '../../errors/without-stack.js';
import { decodeJsonObject } from '../verifiers/jwt/decode-segments.js';

function refuse(description: string, code: 'ERR_JWT_MALFORMED' | 'ERR_JWT_CLAIM_MISSING' | 'ERR_JWT_CLAIM_INVALID'): never {
  throw withoutStack(() => new InvalidTokenError(description, code));
}

/** The token's unverified `iss`; a token that is not a JWS, or has no string `iss`, is refused (401). */
export function peekIssuer(token: string): string {
  const firstDot = token.indexOf('.');
  const secondDot = firstDot === -1 ? -1 : token.indexOf('.', firstDot + 1);
  if (secondDot === -1) refuse('the token is not a JWS in compact serialization', 'ERR_JWT_MALFORMED');
  const payload = decodeJsonObject(token.slice(firstDot + 1, secondDot));
  if (payload === undefined) refuse('the token payload is not a base64url-encoded JSON object', 'ERR_JWT_MALFORMED');
  const { iss } = payload;
  if (iss === undefined) refuse("missing required 'iss' claim", 'ERR_JWT_CLAIM_MISSING');
  if (typeof iss !== 'string') refuse("'iss' claim must be a string", 'ERR_JWT_CLAIM_INVALID');
  return iss;
}
