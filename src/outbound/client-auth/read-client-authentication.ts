/**
 * Internal: the client authentication options (`clientSecret`, `privateKey`, `authMethod`,
 * `privateKeyKid`, `privateKeyAlg`, `privateKeyCertificate`) read once for every caller that
 * authenticates as a client: token requests and introspection.
 */
import type { KeyObject } from 'node:crypto';
import type { OptionReader } from '../../options/option-reader.js';
import type { ClientAuthenticator, ClientAuthMethod } from './client-authenticator.js';
import { clientSecretBasic } from './client-secret-basic.js';
import { clientSecretPost } from './client-secret-post.js';
import { tlsClientAuth } from './tls-client-auth.js';
import { certificateThumbprints, importClientPrivateKey, privateKeyJwt, type ClientPrivateKey } from './private-key-jwt.js';

/** The options a client authentication is read from (each caller documents them on its own options type). */
export interface ClientAuthenticationOptions {
  clientSecret?: string;
  privateKey?: ClientPrivateKey;
  privateKeyAlg?: string;
  privateKeyKid?: string;
  privateKeyCertificate?: string;
  authMethod?: ClientAuthMethod;
}

const AUTH_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'];
/** Lifetime of a `private_key_jwt` client assertion, in seconds. */
const ASSERTION_LIFETIME_SECONDS = 60;

/**
 * The client authentication method, and the credential it uses (the shared token cache's
 * integrity key derives from it). Missing, contradictory or misplaced credentials throw a
 * `TypeError` naming the option. `certificateKey`: the private key of the `tls` option's client
 * certificate, when the caller has one (the mTLS methods need it, and it is their credential).
 */
export function readClientAuthentication(
  read: OptionReader<ClientAuthenticationOptions>,
  clientId: string,
  now: () => number,
  certificateKey?: KeyObject,
): { authenticate: ClientAuthenticator; credential: string | KeyObject } {
  const clientSecret = read.string('clientSecret');
  const privateKey = read.raw('privateKey') as ClientPrivateKey | undefined;
  if (clientSecret !== undefined && privateKey !== undefined) read.failWith('give "clientSecret" or "privateKey", not both');
  const authMethod = read.oneOf('authMethod', AUTH_METHODS, privateKey !== undefined ? 'private_key_jwt'
    : clientSecret === undefined && certificateKey !== undefined ? 'tls_client_auth' : 'client_secret_basic');
  const privateKeyKid = read.string('privateKeyKid');
  const privateKeyAlg = read.string('privateKeyAlg');
  const certificate = read.string('privateKeyCertificate');
  switch (authMethod) {
    case 'tls_client_auth':
    case 'self_signed_tls_client_auth':
      if (certificateKey === undefined) read.fail('authMethod', `${authMethod} needs the client certificate of the "tls" option (RFC 8705 section 2)`);
      for (const name of ['clientSecret', 'privateKey', 'privateKeyKid', 'privateKeyAlg', 'privateKeyCertificate'] as const) {
        if (read.has(name)) read.fail(name, `does not apply to ${authMethod} (the client certificate authenticates the client)`);
      }
      return { authenticate: tlsClientAuth(clientId), credential: certificateKey };
    case 'private_key_jwt': {
      if (privateKey === undefined) read.fail('privateKey', 'is required for private_key_jwt');
      const imported = importClientPrivateKey(privateKey, privateKeyAlg, (name, message) => read.fail(name, message));
      const thumbprints = certificate === undefined ? undefined : certificateThumbprints(certificate, imported.key, (message) => read.fail('privateKeyCertificate', message));
      return {
        authenticate: privateKeyJwt({ clientId, privateKey: imported, privateKeyKid, thumbprints, assertionLifetime: ASSERTION_LIFETIME_SECONDS, now }),
        credential: imported.key,
      };
    }
    case 'client_secret_post':
    case 'client_secret_basic':
      if (clientSecret === undefined) read.fail('clientSecret', `is required for ${authMethod}`);
      for (const name of ['privateKeyKid', 'privateKeyAlg', 'privateKeyCertificate'] as const) {
        if (read.has(name)) read.fail(name, 'applies only to private_key_jwt');
      }
      return {
        authenticate: authMethod === 'client_secret_basic' ? clientSecretBasic(clientId, clientSecret) : clientSecretPost(clientId, clientSecret),
        credential: clientSecret,
      };
  }
}
