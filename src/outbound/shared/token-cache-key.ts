/** The cache key of a token: a hash of what identifies it, never the client secret. */
import { createHash } from 'node:crypto';

/** What identifies a client-credentials token. */
export interface TokenIdentity {
  /** `tokenEndpoint`, or `issuerBaseURL` when the endpoint is discovered. */
  endpoint: string;
  clientId: string;
  audience: string | undefined;
  scopes: readonly string[];
  resources: readonly string[];
  extraParams: Readonly<Record<string, string>>;
  /**
   * What a sender-constrained token is bound to, as `cnf` names it: `{ jkt }` for a DPoP key
   * (RFC 9449), `{ 'x5t#S256' }` for a client certificate (RFC 8705). A bound token is useless
   * with another key or certificate, so these are part of the key. Absent for bearer tokens (the
   * key of a bearer token is the same as before this component existed).
   */
  confirmation?: Readonly<Record<string, string>> | undefined;
}

function byName([a]: [string, unknown], [b]: [string, unknown]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * SHA-256 (base64url) of the identity with scopes and resources sorted, so equal requests share a
 * key whatever the order they were written in. The secret is not part of it.
 */
export function tokenCacheKey(identity: TokenIdentity): string {
  const material = JSON.stringify([
    'express-m2m/v1',
    identity.endpoint,
    identity.clientId,
    identity.audience ?? null,
    [...identity.scopes].sort(),
    [...identity.resources].sort(),
    Object.entries(identity.extraParams).sort(byName),
    // Only when bound: a bearer token's key stays what it was (shared caches keep working across versions).
    ...(identity.confirmation === undefined ? [] : [Object.entries(identity.confirmation).sort(byName)]),
  ]);
  return createHash('sha256').update(material).digest('base64url');
}
