/** `client_secret_post` (RFC 6749 section 2.3.1): the id and secret in the request body. */
import type { ClientAuthenticator } from './client-authenticator.js';

export function clientSecretPost(clientId: string, clientSecret: string): ClientAuthenticator {
  return async () => ({ headers: {}, params: { client_id: clientId, client_secret: clientSecret } });
}
