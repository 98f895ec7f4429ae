/**
 * Internal: the local issuer's memory of the tokens it can introspect: the opaque tokens it
 * minted (a random string standing for a set of claims), and the tokens revoked (opaque or JWT),
 * both by the token's SHA-256.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { LocalOpaqueTokenOptions } from './types.js';

/** Most opaque tokens remembered (the oldest first out): a test never comes near it. */
const MAX_OPAQUE_TOKENS = 100_000;

function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export class OpaqueTokenStore {
  private readonly claims = new Map<string, Readonly<Record<string, unknown>>>();
  private readonly revoked = new Set<string>();

  /** A new opaque token (43 base64url characters, no dots) for `claims`. */
  mint(claims: Record<string, unknown>): string {
    const token = randomBytes(32).toString('base64url');
    this.claims.set(hashOf(token), Object.freeze({ ...claims }));
    while (this.claims.size > MAX_OPAQUE_TOKENS) this.claims.delete(this.claims.keys().next().value as string);
    return token;
  }

  /** An opaque access token with the claims a token of `defaults.issuer` carries (as its JWTs do). */
  mintAccessToken(tokenOptions: LocalOpaqueTokenOptions, defaults: { issuer: string; tokenLifetime: number; nowSeconds: () => number }): string {
    if (typeof tokenOptions !== 'object' || tokenOptions === null) throw new TypeError('mintOpaqueToken: the options must be an object');
    const { clientId = 'test-client', audience, scope = '', claims = {}, expiresIn = defaults.tokenLifetime } = tokenOptions;
    if (typeof audience !== 'string' && !(Array.isArray(audience) && audience.every((item) => typeof item === 'string'))) {
      throw new TypeError('mintOpaqueToken: "audience" must be a string or an array of strings');
    }
    if (!Number.isFinite(expiresIn)) throw new TypeError('mintOpaqueToken: "expiresIn" must be a number of seconds');
    const iat = defaults.nowSeconds();
    return this.mint({
      iss: defaults.issuer,
      sub: `${clientId}@clients`,
      aud: audience,
      scope: Array.isArray(scope) ? scope.join(' ') : scope,
      client_id: clientId,
      token_type: 'Bearer',
      iat,
      exp: iat + expiresIn,
      jti: randomUUID(),
      ...claims,
    });
  }

  /** The claims of an opaque token this issuer minted, or `undefined`. */
  lookup(token: string): Readonly<Record<string, unknown>> | undefined {
    return this.claims.get(hashOf(token));
  }

  revoke(token: string): void {
    this.revoked.add(hashOf(token));
  }

  isRevoked(token: string): boolean {
    return this.revoked.has(hashOf(token));
  }
}
