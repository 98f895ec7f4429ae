/**
 * The outbound side: client-credentials tokens (RFC 6749 section 4.4), cached, refreshed ahead of
 * expiry, shared, and attached to `fetch` calls.
 */
export { clientCredentials } from './client-credentials.js';
export type { ClientCredentialsOptions } from './client-credentials.js';
export { TokenRequestError } from './token-request-error.js';
export type { TokenRequestErrorCode, TokenRequestErrorDetails } from './token-request-error.js';
export type { ClientAuthMethod, ClientPrivateKey } from './client-authentication.js';
export type { GetTokenOptions, OutboundEvent, OutboundEventSubject, TokenProvider, TokenSet } from './types.js';
