/**
 * `tls_client_auth` and `self_signed_tls_client_auth` (RFC 8705 section 2): the client
 * authenticates with the certificate of the mutual-TLS connection (made by the transport of the
 * `tls` option). The request carries `client_id` in the body (section 2: it is required) and no
 * secret. The two methods differ only at the authorization server: a certificate from a trusted
 * CA matched by subject or SAN (2.1), or a self-signed one registered with the client (2.2).
 */
import type { ClientAuthenticator } from './client-authenticator.js';

export function tlsClientAuth(clientId: string): ClientAuthenticator {
  return async () => ({ headers: {}, params: { client_id: clientId } });
}
