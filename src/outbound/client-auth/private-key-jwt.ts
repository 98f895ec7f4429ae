/**
 * `private_key_jwt` (RFC 7523 section 2.2, OpenID Connect Core section 9): a JWT signed with the
 * client's private key, new for every token request.
 */
import { createHash, createPublicKey, randomUUID, X509Certificate, type KeyObject, type webcrypto } from 'node:crypto';
import type { JWK } from 'jose';
import { importPrivateKey } from '../../keys/import-private-key.js';
import { jwsSigner, signCompact } from '../../keys/jws-signer.js';
import type { ClientAuthenticator } from './client-authenticator.js';

/**
 * A private key for `private_key_jwt`: a PEM string (PKCS#8, or SEC1 / PKCS#1), a private JWK, a
 * node `KeyObject` or a WebCrypto `CryptoKey`.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { clientCredentials, type ClientPrivateKey } from 'express-m2m';
 *
 * const privateKey: ClientPrivateKey = readFileSync('client-key.pem', 'utf8'); // PKCS#8 PEM
 * clientCredentials({ tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'svc', privateKey, privateKeyKid: 'key-1' });
 * ```
 */
export type ClientPrivateKey = string | JWK | KeyObject | webcrypto.CryptoKey;

/** RFC 7523 client assertion type. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Throws a `TypeError` naming the option (the caller's options reader). */
type OptionFailure = (option: 'privateKey' | 'privateKeyAlg', message: string) => never;

/** Imports a private key and picks its JWS algorithm. Throws (through `fail`) a TypeError naming the option. */
export function importClientPrivateKey(key: ClientPrivateKey, alg: string | undefined, fail: OptionFailure): { key: KeyObject; alg: string } {
  return importPrivateKey(key, alg, {
    algorithms: 'the supported algorithms',
    fail: (option, message) => fail(option === 'key' ? 'privateKey' : 'privateKeyAlg', message),
  });
}

/**
 * The `x5t#S256` and `x5t` header values (RFC 7515 sections 4.1.8 and 4.1.7: base64url of the
 * SHA-256 and SHA-1 digests of the certificate's DER) of a PEM certificate, which must hold the
 * public key of `privateKey`. Throws (through `fail`) otherwise.
 */
export function certificateThumbprints(pem: string, privateKey: KeyObject, fail: (message: string) => never): { 'x5t#S256': string; x5t: string } {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch {
    return fail('must be an X.509 certificate in PEM');
  }
  if (!certificate.publicKey.equals(createPublicKey(privateKey))) fail('must be the certificate of "privateKey" (its public key differs)');
  const der = certificate.raw;
  return {
    'x5t#S256': createHash('sha256').update(der).digest('base64url'),
    x5t: createHash('sha1').update(der).digest('base64url'),
  };
}

/** What a `private_key_jwt` authenticator needs. */
export interface PrivateKeyJwtSettings {
  clientId: string;
  privateKey: { key: KeyObject; alg: string };
  privateKeyKid: string | undefined;
  /** The `x5t#S256` and `x5t` headers (thumbprints of the key's certificate), if any. */
  thumbprints?: { 'x5t#S256': string; x5t: string } | undefined;
  /** Lifetime of a client assertion, in seconds. */
  assertionLifetime: number;
  /** Clock in milliseconds. */
  now: () => number;
}

export function privateKeyJwt(settings: PrivateKeyJwtSettings): ClientAuthenticator {
  const { clientId, privateKey } = settings;
  const signer = jwsSigner(privateKey.key, privateKey.alg);
  const header = Object.freeze({
    alg: privateKey.alg,
    typ: 'JWT',
    ...(settings.privateKeyKid === undefined ? {} : { kid: settings.privateKeyKid }),
    ...settings.thumbprints,
  });
  return async (tokenEndpoint) => {
    const iat = Math.floor(settings.now() / 1000);
    const claims = { iss: clientId, sub: clientId, aud: tokenEndpoint, jti: randomUUID(), iat, exp: iat + settings.assertionLifetime };
    const assertion = signCompact(header, claims, signer);
    return {
      headers: {},
      params: { client_id: clientId, client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: assertion },
    };
  };
}
