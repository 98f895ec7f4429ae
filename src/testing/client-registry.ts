/**
 * Internal: the clients registered with the local issuer, validated once at registration.
 */
import { KeyObject, createPublicKey, randomBytes } from 'node:crypto';
import { createLocalJWKSet } from 'jose';
import type { JWK, JWTVerifyGetKey } from 'jose';
import { toTlsRegistration, type TlsRegistration } from './mtls.js';
import type { JsonWebKeySet, LocalClient } from './types.js';

/** A client as the token endpoint uses it. */
export interface RegisteredClient {
  clientId: string;
  clientSecret: string | undefined;
  /** Verification key(s) for private_key_jwt assertions. */
  assertionKey: KeyObject | JWTVerifyGetKey | undefined;
  audiences: string[];
  scopes: string[];
  tokenLifetime: number | undefined;
  /** The token endpoint issues this client opaque tokens. */
  opaqueTokens: boolean;
  /** The client must send a DPoP proof (RFC 9449 section 5.2). */
  dpopBoundAccessTokens: boolean;
  /** Its registration for `tls_client_auth` / `self_signed_tls_client_auth` (RFC 8705), if any. */
  tls?: TlsRegistration | undefined;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function assertionKeyOf(where: string, key: LocalClient['publicKey']): RegisteredClient['assertionKey'] {
  if (key === undefined) return undefined;
  try {
    if (typeof key === 'string') return createPublicKey(key);
    if (key instanceof KeyObject) return key.type === 'private' ? createPublicKey(key) : key;
    if (typeof key === 'object' && key !== null && Array.isArray((key as JsonWebKeySet).keys)) {
      return createLocalJWKSet(key as JsonWebKeySet);
    }
    if (typeof key === 'object' && key !== null && typeof (key as JWK).kty === 'string') {
      return createLocalJWKSet({ keys: [key as JWK] });
    }
  } catch {
    // fall through to the error below (without echoing key material)
  }
  throw new TypeError(`${where}: "publicKey" must be a public JWK, a JWK Set, a PEM string or a KeyObject`);
}

/** Validates a client definition; `generate` fills a missing id (and a secret when no key is given). */
export function toRegisteredClient(
  where: string,
  client: Partial<LocalClient> & { audiences: string[] },
  generate: boolean,
): RegisteredClient {
  if (typeof client !== 'object' || client === null) throw new TypeError(`${where}: a client must be an object`);
  const { clientId, clientSecret, publicKey, jwks, audiences, scopes, tokenLifetime, opaqueTokens, dpopBoundAccessTokens } = client;
  if (clientId !== undefined && (typeof clientId !== 'string' || clientId === '')) {
    throw new TypeError(`${where}: "clientId" must be a non-empty string`);
  }
  if (clientId === undefined && !generate) throw new TypeError(`${where}: "clientId" is required`);
  if (clientSecret !== undefined && (typeof clientSecret !== 'string' || clientSecret === '')) {
    throw new TypeError(`${where}: "clientSecret" must be a non-empty string`);
  }
  if (!isStringArray(audiences) || audiences.length === 0 || audiences.some((audience) => audience === '')) {
    throw new TypeError(`${where}: "audiences" must be a non-empty array of non-empty strings`);
  }
  if (scopes !== undefined && (!isStringArray(scopes) || scopes.some((scope) => scope === '' || /\s/.test(scope)))) {
    throw new TypeError(`${where}: "scopes" must be an array of scope tokens (no spaces)`);
  }
  if (tokenLifetime !== undefined && (!Number.isInteger(tokenLifetime) || tokenLifetime < 1)) {
    throw new TypeError(`${where}: "tokenLifetime" must be a positive integer number of seconds`);
  }
  if (opaqueTokens !== undefined && typeof opaqueTokens !== 'boolean') throw new TypeError(`${where}: "opaqueTokens" must be a boolean`);
  if (dpopBoundAccessTokens !== undefined && typeof dpopBoundAccessTokens !== 'boolean') throw new TypeError(`${where}: "dpopBoundAccessTokens" must be a boolean`);
  if (publicKey !== undefined && jwks !== undefined) {
    throw new TypeError(`${where}: give either "publicKey" or "jwks", not both`);
  }
  const assertionKey = assertionKeyOf(where, publicKey ?? jwks);
  const tls = toTlsRegistration(where, client.tlsClientAuth, client.selfSignedTlsClientAuth);
  const secret = clientSecret ?? (generate && assertionKey === undefined && tls === undefined ? randomBytes(24).toString('base64url') : undefined);
  return {
    clientId: clientId ?? `client-${randomBytes(8).toString('hex')}`,
    clientSecret: secret,
    assertionKey,
    audiences: [...audiences],
    scopes: [...(scopes ?? [])],
    tokenLifetime,
    opaqueTokens: opaqueTokens ?? false,
    dpopBoundAccessTokens: dpopBoundAccessTokens ?? false,
    tls,
  };
}
