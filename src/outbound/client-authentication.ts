/**
 * Client authentication at the token endpoint (RFC 6749 section 2.3, RFC 7523 section 2.2):
 * `client_secret_basic`, `client_secret_post` and `private_key_jwt`.
 */
import { createPrivateKey, createPublicKey, randomUUID, type JsonWebKey as NodeJsonWebKey, type KeyObject } from 'node:crypto';
import { SignJWT, type JWK } from 'jose';
import { algorithmsForKey, keyMismatch } from '../keys/algorithms.js';

/**
 * How the client authenticates at the token endpoint.
 *
 * @example
 * ```ts
 * import { clientCredentials, type ClientAuthMethod } from 'express-m2m';
 *
 * const authMethod: ClientAuthMethod = 'client_secret_post';
 * clientCredentials({ tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'svc', clientSecret: 'placeholder', authMethod });
 * ```
 */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

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

/** The headers and body parameters that authenticate one token request. */
export interface ClientAuthentication {
  headers: Record<string, string>;
  params: Record<string, string>;
}

/** Authenticates one token request; a new assertion (new `jti`) on every call. */
export type ClientAuthenticator = (tokenEndpoint: string) => Promise<ClientAuthentication>;

/** RFC 6749 appendix B / section 2.3.1: application/x-www-form-urlencoded encoding of one value. */
export function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/** `Authorization: Basic` value of RFC 6749 section 2.3.1: id and secret form-encoded, then base64. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`, 'utf8').toString('base64')}`;
}

/** RFC 7523 client assertion type. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Imports a private key and picks its JWS algorithm. Throws a TypeError naming the option. */
export function importClientPrivateKey(key: ClientPrivateKey, alg?: string): { key: KeyObject; alg: string } {
  let keyObject: KeyObject;
  try {
    if (typeof key === 'string') keyObject = createPrivateKey(key);
    else if (isKeyObject(key)) keyObject = key;
    else keyObject = createPrivateKey({ key: key as unknown as NodeJsonWebKey, format: 'jwk' });
  } catch {
    throw new TypeError('clientCredentials: "privateKey" must be a PKCS#8 PEM private key, a private JWK or a private KeyObject');
  }
  if (keyObject.type !== 'private') {
    throw new TypeError('clientCredentials: "privateKey" must be a private key (got a public or secret key)');
  }
  const jwkAlg = typeof key === 'object' && !isKeyObject(key) && typeof key.alg === 'string' ? key.alg : undefined;
  // The key/algorithm rules are the verifier's: an assertion our own verifier would refuse is useless.
  const publicKey = createPublicKey(keyObject);
  const chosen = alg ?? jwkAlg ?? algorithmsForKey(publicKey)[0];
  if (chosen === undefined) {
    throw new TypeError('clientCredentials: "privateKey" fits none of the supported algorithms (RSA of 2048 bits or more, EC P-256/384/521, Ed25519)');
  }
  const mismatch = keyMismatch(publicKey, chosen);
  if (mismatch !== undefined) {
    throw new TypeError(`clientCredentials: "privateKeyAlg" ${JSON.stringify(chosen).slice(0, 20)} does not fit the key: ${mismatch}`);
  }
  return { key: keyObject, alg: chosen };
}

function isKeyObject(value: unknown): value is KeyObject {
  return typeof value === 'object' && value !== null && typeof (value as KeyObject).export === 'function' && 'type' in value;
}

/** Options of {@link createClientAuthenticator}. */
export interface ClientAuthenticatorOptions {
  method: ClientAuthMethod;
  clientId: string;
  clientSecret?: string | undefined;
  privateKey?: { key: KeyObject; alg: string } | undefined;
  privateKeyKid?: string | undefined;
  /** Lifetime of a client assertion, in seconds. */
  assertionLifetime: number;
  /** Clock in milliseconds. */
  now: () => number;
}

/** Builds the authenticator for the configured method. */
export function createClientAuthenticator(options: ClientAuthenticatorOptions): ClientAuthenticator {
  const { method, clientId, clientSecret } = options;
  if (method === 'client_secret_basic') {
    const authorization = basicAuthorization(clientId, clientSecret ?? '');
    return async () => ({ headers: { authorization }, params: {} });
  }
  if (method === 'client_secret_post') {
    return async () => ({ headers: {}, params: { client_id: clientId, client_secret: clientSecret ?? '' } });
  }
  const privateKey = options.privateKey;
  if (privateKey === undefined) throw new TypeError('clientCredentials: "privateKey" is required for private_key_jwt');
  return async (tokenEndpoint) => {
    const iat = Math.floor(options.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader(options.privateKeyKid === undefined
        ? { alg: privateKey.alg, typ: 'JWT' }
        : { alg: privateKey.alg, typ: 'JWT', kid: options.privateKeyKid })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(tokenEndpoint)
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(iat + options.assertionLifetime)
      .sign(privateKey.key);
    return {
      headers: {},
      params: { client_id: clientId, client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: assertion },
    };
  };
}
