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
    Object.entries(identity.extraParams).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  ]);
  return createHash('sha256').update(material).digest('base64url');
}
