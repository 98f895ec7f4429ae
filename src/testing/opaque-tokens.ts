/**
 * Internal: the local issuer's memory of the tokens it can introspect: the opaque tokens it
 * minted (a random string standing for a set of claims), and the tokens revoked (opaque or JWT),
 * both by the token's SHA-256.
 */
import { createHash, randomBytes } from 'node:crypto';

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
