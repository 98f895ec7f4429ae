/**
 * Internal: how the resource server authenticates at the introspection endpoint (RFC 7662
 * section 2.1): the outbound side's client authenticators (`client_secret_basic`,
 * `client_secret_post`, `private_key_jwt`), read from the `introspection` option.
 */
import type { OptionReader } from '../../../options/option-reader.js';
import type { ClientAuthenticator } from '../../../outbound/client-auth/client-authenticator.js';
import { readClientAuthentication } from '../../../outbound/client-auth/read-client-authentication.js';
import type { IntrospectionOptions } from './types.js';

/** The authenticator of the options read by `read`; bad or missing credentials throw a `TypeError` naming the option. */
export function readIntrospectionClient(read: OptionReader<IntrospectionOptions>, now: () => number): { clientId: string; authenticate: ClientAuthenticator } {
  const clientId = read.string('clientId');
  if (clientId === undefined) read.required('clientId', "the resource server's client id, to authenticate at the introspection endpoint");
  return { clientId, authenticate: readClientAuthentication(read, clientId, now).authenticate };
}
