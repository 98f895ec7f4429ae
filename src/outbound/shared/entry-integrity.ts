/**
 * Internal: what makes a shared cache entry believable. Whoever can write to a shared store (a
 * Redis every replica uses) must not be able to hand the replicas a token of its choosing, or a
 * failure marker that stops them all: every entry a provider writes carries a MAC (HMAC-SHA256)
 * keyed from a secret every replica of that client already has (the client secret, or the private
 * key of `private_key_jwt`), bound to the entry's cache key. An entry without a valid MAC is not
 * believed. A JWT access token is also checked against its own `exp` (and `aud`, when the
 * provider asks for one) before it is handed out.
 */
import { createHmac, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { SharedTokenFailure, TokenSet } from '../../caches/token-cache.js';
import { unverifiedJwtClaims } from '../grant/token-lifetime.js';

const INFO = 'express-m2m shared token cache integrity v1';

/** The MAC key of a client's entries, derived from its credentials (never stored). */
export function integrityKey(credential: string | KeyObject): Buffer {
  const material = typeof credential === 'string'
    ? Buffer.from(credential, 'utf8')
    : credential.export({ format: 'der', type: 'pkcs8' });
  return Buffer.from(hkdfSync('sha256', material, 'express-m2m', INFO, 32));
}

function mac(key: Buffer, parts: readonly unknown[]): string {
  return createHmac('sha256', key).update(JSON.stringify(parts)).digest('base64url');
}

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

const tokenParts = (cacheKey: string, token: TokenSet) =>
  ['token', cacheKey, token.accessToken, token.tokenType, token.expiresAt, token.obtainedAt, token.scope ?? null];
const failureParts = (cacheKey: string, failure: SharedTokenFailure) =>
  ['failure', cacheKey, failure.code, failure.until, failure.status ?? null, failure.error ?? null];

/** The token as stored: its fields and their MAC. */
export function sealToken(key: Buffer, cacheKey: string, token: TokenSet): TokenSet {
  const sealed: TokenSet = { accessToken: token.accessToken, tokenType: token.tokenType, expiresAt: token.expiresAt, obtainedAt: token.obtainedAt };
  if (token.scope !== undefined) sealed.scope = token.scope;
  sealed.integrity = mac(key, tokenParts(cacheKey, sealed));
  return sealed;
}

/** The failure marker as stored, with its MAC. */
export function sealFailure(key: Buffer, cacheKey: string, failure: SharedTokenFailure): SharedTokenFailure {
  return { ...failure, integrity: mac(key, failureParts(cacheKey, failure)) };
}

/** Why a stored token is not believed, if it is not: `undefined` means it may be handed out (without its MAC). */
export function tokenProblem(
  key: Buffer,
  cacheKey: string,
  token: TokenSet,
  checks: { now: number; audience: string | undefined },
): 'integrity' | 'expired' | 'audience' | undefined {
  if (typeof token.integrity !== 'string' || !same(token.integrity, mac(key, tokenParts(cacheKey, token)))) return 'integrity';
  const claims = unverifiedJwtClaims(token.accessToken);
  if (claims !== undefined) {
    if (typeof claims.exp === 'number' && claims.exp * 1000 <= checks.now) return 'expired';
    const { aud } = claims;
    if (checks.audience !== undefined && aud !== undefined && !(aud === checks.audience || (Array.isArray(aud) && aud.includes(checks.audience)))) {
      return 'audience';
    }
  }
  return undefined;
}

/** Whether a stored failure marker was written by a holder of the client's credentials. */
export function failureBelieved(key: Buffer, cacheKey: string, failure: SharedTokenFailure): boolean {
  return typeof failure.integrity === 'string' && same(failure.integrity, mac(key, failureParts(cacheKey, failure)));
}

/** The token without its MAC (what callers get). */
export function unsealed(token: TokenSet): TokenSet {
  const { integrity: _integrity, ...rest } = token;
  return rest;
}
