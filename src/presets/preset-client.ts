/**
 * Internal: the client credentials every outbound preset takes (`clientId`, and `clientSecret` or
 * `privateKey`), checked once here; `clientCredentials` validates their values further.
 */
import type { ClientAuthMethod } from '../outbound/client-auth/client-authenticator.js';
import type { ClientCredentialsOptions } from '../outbound/client-credentials-options.js';
import type { OptionReader } from '../options/option-reader.js';

/**
 * The client's credentials, as every outbound preset takes them: a secret or a private key.
 *
 * @example
 * ```ts
 * import type { PresetClientCredentials } from 'express-m2m';
 *
 * const credentials: PresetClientCredentials = { clientId: 'orders', clientSecret: process.env.SECRET ?? '' };
 * ```
 */
export interface PresetClientCredentials {
  /** The client's id. Required. */
  clientId: string;
  /** The client secret. Give this or `privateKey`. */
  clientSecret?: string;
  /** A private key, for `private_key_jwt`: PKCS#8 PEM, private JWK or `KeyObject`. Give this or `clientSecret`. */
  privateKey?: ClientCredentialsOptions['privateKey'];
  /** `kid` header of the client assertion (with `privateKey`). Default none. */
  privateKeyKid?: string;
  /** JWS algorithm of the client assertion (with `privateKey`). Default: by key type. */
  privateKeyAlg?: string;
}

type Credentials = Pick<ClientCredentialsOptions, 'clientId' | 'clientSecret' | 'privateKey' | 'privateKeyKid' | 'privateKeyAlg' | 'authMethod'>;

/** The credentials, with the method the provider expects for a secret (`private_key_jwt` for a key). */
export function readClientCredentials<T extends PresetClientCredentials>(read: OptionReader<T>, secretMethod: ClientAuthMethod): Credentials {
  const clientId = read.string('clientId') ?? read.required('clientId', "the client's id");
  const clientSecret = read.string('clientSecret');
  const privateKey = read.raw('privateKey') as ClientCredentialsOptions['privateKey'];
  if ((clientSecret === undefined) === (privateKey === undefined)) read.failWith('give exactly one of "clientSecret" and "privateKey"');
  const kid = read.string('privateKeyKid');
  const alg = read.string('privateKeyAlg');
  if (privateKey === undefined) return { clientId, clientSecret, authMethod: secretMethod };
  return {
    clientId, privateKey, authMethod: 'private_key_jwt',
    ...(kid === undefined ? {} : { privateKeyKid: kid }),
    ...(alg === undefined ? {} : { privateKeyAlg: alg }),
  };
}
