/** When a freshly issued token expires, when it stops being handed out, and when to refresh it. */
import type { TokenSet } from '../../caches/token-cache.js';
import { decodeJsonObject } from '../../inbound/verifiers/jwt/decode-segments.js';
import type { TokenResponse } from './token-endpoint-request.js';

/**
 * Expiry of a token: the sooner of `expires_in` and the JWT's `exp` (decoded, not verified); when
 * neither is known, `obtainedAt + defaultLifetime`.
 */
export function tokenExpiry(response: TokenResponse, obtainedAt: number, defaultLifetime: number): number {
  const candidates: number[] = [];
  if (response.expiresIn !== undefined) candidates.push(obtainedAt + response.expiresIn * 1000);
  const exp = jwtExpiry(response.accessToken);
  if (exp !== undefined) candidates.push(exp);
  return candidates.length === 0 ? obtainedAt + defaultLifetime : Math.min(...candidates);
}

/** The JWT's `exp` in milliseconds, or undefined when the token is not a JWT or has no numeric `exp`. */
export function jwtExpiry(token: string): number | undefined {
  const exp = unverifiedJwtClaims(token)?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
}

/**
 * The claims of a JWS-shaped token (three dot-separated segments, the middle one a base64url JSON
 * object), decoded and not verified: a client reads them only as hints about its own token. Any
 * other token (opaque, JWE, malformed) gives undefined.
 */
export function unverifiedJwtClaims(token: string): Record<string, unknown> | undefined {
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  if (second === -1 || token.includes('.', second + 1)) return undefined;
  return decodeJsonObject(token.slice(first + 1, second));
}

/**
 * How long before expiry a token stops being handed out: `expiryMargin`, but at most a quarter
 * of the token's lifetime so that short-lived tokens stay usable for most of their life.
 */
export function effectiveMargin(token: TokenSet, expiryMargin: number): number {
  return Math.min(expiryMargin, Math.max(0, token.expiresAt - token.obtainedAt) / 4);
}

/** Whether `token` may be handed to a caller at `now`. */
export function isUsable(token: TokenSet, now: number, expiryMargin: number): boolean {
  return now < token.expiresAt - effectiveMargin(token, expiryMargin);
}

/**
 * The moment a background refresh should start: a random point between `window[0]` and `window[1]`
 * of the token's usable life (from `obtainedAt` to `expiresAt - margin`), so replicas spread out.
 */
export function refreshPoint(
  token: TokenSet,
  expiryMargin: number,
  window: readonly [number, number],
  random: () => number,
): number {
  const usableUntil = token.expiresAt - effectiveMargin(token, expiryMargin);
  const start = Math.min(token.obtainedAt, usableUntil);
  const fraction = window[0] + (window[1] - window[0]) * random();
  return start + (usableUntil - start) * fraction;
}

/** Checks that a value read from a shared cache has the shape of a {@link TokenSet}. */
export function isTokenSet(value: unknown): value is TokenSet {
  if (typeof value !== 'object' || value === null) return false;
  const token = value as Record<string, unknown>;
  return typeof token.accessToken === 'string' && token.accessToken !== ''
    && typeof token.tokenType === 'string'
    && typeof token.expiresAt === 'number' && Number.isFinite(token.expiresAt)
    && typeof token.obtainedAt === 'number' && Number.isFinite(token.obtainedAt)
    && (token.scope === undefined || typeof token.scope === 'string');
}
