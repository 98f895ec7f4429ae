/**
 * RFC 8705 section 5: an authorization server may serve mutual TLS on other endpoints than its
 * regular ones, and names them in its metadata's `mtls_endpoint_aliases`. A client that uses mTLS
 * (to authenticate, or to get certificate-bound tokens) uses the alias when there is one.
 */
import type { AuthorizationServerMetadata } from './metadata.js';

/** The mTLS alias of the token endpoint, when the metadata names one (checked by `validateMetadata`). */
export function mtlsTokenEndpoint(metadata: AuthorizationServerMetadata): string | undefined {
  const aliases = metadata.mtls_endpoint_aliases;
  return typeof aliases === 'object' && aliases !== null && typeof aliases.token_endpoint === 'string' ? aliases.token_endpoint : undefined;
}
