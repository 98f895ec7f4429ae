/**
 * Internal: how the resource server authenticates at the introspection endpoint (RFC 7662
 * section 2.1): the outbound side's client authenticators (`client_secret_basic`,
 * `client_secret_post`, `private_key_jwt`), chosen from the `introspection` option.
 */
import type { OptionReader } from '../../../options/option-reader.js';
import type { ClientAuthenticator, ClientAuthMethod } from '../../../outbound/client-auth/client-authenticator.js';
import { clientSecretBasic } from '../../../outbound/client-auth/client-secret-basic.js';
import { clientSecretPost } from '../../../outbound/client-auth/client-secret-post.js';
import { importClientPrivateKey, privateKeyJwt, type ClientPrivateKey } from '../../../outbound/client-auth/private-key-jwt.js';
import type { IntrospectionOptions } from './types.js';

const AUTH_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

/** Lifetime of a `private_key_jwt` client assertion, in seconds (as for token requests). */
const ASSERTION_LIFETIME_SECONDS = 60;

/** The authenticator of the options read by `read`; bad or missing credentials throw a `TypeError` naming the option. */
export function readIntrospectionClient(read: OptionReader<IntrospectionOptions>, now: () => number): { clientId: string; authenticate: ClientAuthenticator } {
  const clientId = read.string('clientId');
  if (clientId === undefined) read.required('clientId', "the resource server's client id, to authenticate at the introspection endpoint");
  const clientSecret = read.string('clientSecret');
  const privateKey = read.raw('privateKey') as ClientPrivateKey | undefined;
  if (clientSecret !== undefined && privateKey !== undefined) read.failWith('give "clientSecret" or "privateKey", not both');
  const authMethod = read.oneOf('authMethod', AUTH_METHODS, privateKey !== undefined ? 'private_key_jwt' : 'client_secret_basic');
  const privateKeyKid = read.string('privateKeyKid');
  const privateKeyAlg = read.string('privateKeyAlg');
  switch (authMethod) {
    case 'private_key_jwt': {
      if (privateKey === undefined) read.fail('privateKey', 'is required for private_key_jwt');
      const imported = importClientPrivateKey(privateKey, privateKeyAlg, (name, message) => read.fail(name, message));
      return { clientId, authenticate: privateKeyJwt({ clientId, privateKey: imported, privateKeyKid, assertionLifetime: ASSERTION_LIFETIME_SECONDS, now }) };
    }
    case 'client_secret_post':
    case 'client_secret_basic':
      if (clientSecret === undefined) read.fail('clientSecret', `is required for ${authMethod}`);
      if (privateKeyKid !== undefined || privateKeyAlg !== undefined) read.failWith(`"privateKeyKid" and "privateKeyAlg" apply only to private_key_jwt`);
      return {
        clientId,
        authenticate: authMethod === 'client_secret_basic' ? clientSecretBasic(clientId, clientSecret) : clientSecretPost(clientId, clientSecret),
      };
  }
}
