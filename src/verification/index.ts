/**
 * JWT access-token verification, transport-neutral: `createVerifier` checks a compact JWS against
 * an issuer's keys (JWKS, discovery, static public key or shared secret) and the RFC 7519 /
 * RFC 9068 claims, with a verified-token cache so a token a client reuses costs almost nothing.
 */
export { createVerifier } from './create-verifier.js';
export type {
  DeepReadonly,
  JwtErrorCode,
  JwtVerifier,
  ResolvedVerifierOptions,
  VerifiedToken,
  VerifierEvent,
  VerifierOptions,
} from './types.js';
