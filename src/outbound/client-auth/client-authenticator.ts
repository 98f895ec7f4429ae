/**
 * Client authentication at the token endpoint (RFC 6749 section 2.3): the contract every method
 * implements. Each method is a file of this folder; `methods.ts` lists them.
 */

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
export type ClientAuthMethod =
  | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'
  /** RFC 8705 section 2.1 and 2.2: the client certificate of the `tls` option (mutual TLS). */
  | 'tls_client_auth' | 'self_signed_tls_client_auth';

/** The headers and body parameters that authenticate one token request. */
export interface ClientAuthentication {
  headers: Record<string, string>;
  params: Record<string, string>;
}

/** Authenticates one token request to `tokenEndpoint` (a client assertion is new on every call). */
export type ClientAuthenticator = (tokenEndpoint: string) => Promise<ClientAuthentication>;

/** RFC 6749 appendix B / section 2.3.1: application/x-www-form-urlencoded encoding of one value. */
export function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}
