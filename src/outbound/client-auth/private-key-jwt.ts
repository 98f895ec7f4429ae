/**
 * `private_key_jwt` (RFC 7523 section 2.2, OpenID Connect Core section 9): a JWT signed with the
 * client's private key, new for every token request.
 */
import { createHash, createPrivateKey, createPublicKey, randomUUID, X509Certificate, type JsonWebKey as NodeJsonWebKey, type KeyObject } from 'node:crypto';
import { SignJWT, type JWK } from 'jose';
import { algorithmsForKey, keyMismatch } from '../../keys/algorithms.js';
import type { ClientAuthenticator } from './client-authenticator.js';

/**
 * A private key for `private_key_jwt`: a PKCS#8 PEM string, a private JWK or a node `KeyObject`.
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
export type ClientPrivateKey = string | JWK | KeyObject;

/** RFC 7523 client assertion type. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Throws a `TypeError` naming the option (the caller's options reader). */
type OptionFailure = (option: 'privateKey' | 'privateKeyAlg', message: string) => never;

/** Imports a private key and picks its JWS algorithm. Throws (through `fail`) a TypeError naming the option. */
export function importClientPrivateKey(key: ClientPrivateKey, alg: string | undefined, fail: OptionFailure): { key: KeyObject; alg: string } {
  let keyObject: KeyObject;
  try {
    if (typeof key === 'string') keyObject = createPrivateKey(key);
    else if (isKeyObject(key)) keyObject = key;
    else keyObject = createPrivateKey({ key: key as unknown as NodeJsonWebKey, format: 'jwk' });
  } catch {
    fail('privateKey', 'must be a PKCS#8 PEM private key, a private JWK or a private KeyObject');
  }
  if (keyObject.type !== 'private') {
    fail('privateKey', 'must be a private key (got a public or secret key)');
  }
  const jwkAlg = typeof key === 'object' && !isKeyObject(key) && typeof key.alg === 'string' ? key.alg : undefined;
  // The key/algorithm rules are the verifier's: an assertion our own verifier would refuse is useless.
  const publicKey = createPublicKey(keyObject);
  const chosen = alg ?? jwkAlg ?? algorithmsForKey(publicKey)[0];
  if (chosen === undefined) {
    fail('privateKey', 'fits none of the supported algorithms (RSA of 2048 bits or more, EC P-256/384/521, Ed25519)');
  }
  const mismatch = keyMismatch(publicKey, chosen);
  if (mismatch !== undefined) {
    fail('privateKeyAlg', `${JSON.stringify(chosen).slice(0, 20)} does not fit the key: ${mismatch}`);
  }
  return { key: keyObject, alg: chosen };
}

function isKeyObject(value: unknown): value is KeyObject {
  return typeof value === 'object' && value !== null && typeof (value as KeyObject).export === 'function' && 'type' in value;
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
  return async (tokenEndpoint) => {
    const iat = Math.floor(settings.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({
        alg: privateKey.alg,
        typ: 'JWT',
        ...(settings.privateKeyKid === undefined ? {} : { kid: settings.privateKeyKid }),
        ...settings.thumbprints,
      })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(tokenEndpoint)
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(iat + settings.assertionLifetime)
      .sign(privateKey.key);
    return {
      headers: {},
      params: { client_id: clientId, client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: assertion },
    };
  };
}
