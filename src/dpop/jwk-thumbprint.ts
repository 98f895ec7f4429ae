/**
 * JWK thumbprints (RFC 7638), the name of a DPoP key: `cnf.jkt` of a DPoP-bound token (RFC 9449
 * section 6.1) and the `jkt` of an authorization request are the SHA-256 thumbprint of the
 * proof's public key. Written once here for the inbound binding check, the outbound cache key and
 * the local issuer.
 */
import { createHash } from 'node:crypto';

/** RFC 7638 section 3.2: the required members of each key type, in lexicographic order. */
const REQUIRED_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
  oct: ['k', 'kty'],
};

/**
 * The RFC 7638 SHA-256 thumbprint of a JWK, base64url without padding: the hash of the JSON
 * object of the key type's required members, sorted, with no whitespace (section 3). Throws a
 * `TypeError` for a key type it does not know or a missing member (a thumbprint of part of a key
 * would name another key).
 *
 * @example
 * ```ts
 * import { jwkThumbprint } from 'express-m2m';
 *
 * // RFC 7638 section 3.1
 * jwkThumbprint({ kty: 'RSA', e: 'AQAB', n: '0vx7ago...' }); // 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
 * ```
 */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string {
  const kty = jwk.kty;
  const members = typeof kty === 'string' && Object.hasOwn(REQUIRED_MEMBERS, kty) ? REQUIRED_MEMBERS[kty] : undefined;
  if (members === undefined) throw new TypeError(`jwkThumbprint: unsupported key type ${JSON.stringify(String(kty))}`);
  let json = '{';
  for (const member of members) {
    const value = jwk[member];
    if (typeof value !== 'string' || value === '') throw new TypeError(`jwkThumbprint: the ${kty} key has no "${member}"`);
    json += `${json.length > 1 ? ',' : ''}${JSON.stringify(member)}:${JSON.stringify(value)}`;
  }
  return createHash('sha256').update(`${json}}`).digest('base64url');
}
