/**
 * express-m2m: OAuth 2.0 access-token protection for Express APIs, and client-credentials tokens
 * for the calls a service makes to others. This entry holds what an API author uses; the
 * contracts for writing your own key source or token cache are in `express-m2m/extend`, the
 * local authorization server in `express-m2m/testing`, the Redis token cache in `express-m2m/redis`.
 */
/// <reference types="node" preserve="true" />

// Inbound, Express: the middleware, the guards, the error handler.
export { requireAuth } from './express/require-auth.js';
export type { RequireAuthMiddleware } from './express/require-auth.js';
export { REQUIRE_AUTH_ENV } from './express/require-auth-options.js';
export type { AuthRejectedEvent, RequireAuthEvent, RequireAuthOptions } from './express/require-auth-options.js';
export { claimCheck, claimEquals, claimIncludes, requireRoles, requireScopes } from './express/guards.js';
export type { Guard } from './express/guards.js';
export { authErrorHandler } from './express/auth-error-handler.js';
export type { AuthErrorHandlerOptions, RenderedRejection } from './express/auth-error-handler.js';
export { getAuth } from './express/get-auth.js';
export type { AuthErrorRequestHandler, AuthRequest, AuthRequestHandler, NextFunctionLike } from './express/express-types.js';
export type { AuthorizationCheck, GuardedToken } from './inbound/guards/authorization-check.js';
export type { ScopeCheckOptions, ScopeMatch } from './inbound/guards/scope-check.js';
export type { ClaimValue } from './inbound/guards/claim-checks.js';
export type { RoleCheckOptions, RoleSource } from './inbound/guards/role-check.js';

// Provider presets: options for requireAuth and clientCredentials, shaped for each provider's tokens.
export { auth0 } from './presets/auth0.js';
export type { Auth0ClientOptions, Auth0Options } from './presets/auth0.js';
export { cognito } from './presets/cognito.js';
export type { CognitoClientOptions, CognitoOptions } from './presets/cognito.js';
export { entraId } from './presets/entra-id.js';
export type { EntraIdClientOptions, EntraIdOptions, EntraTokenVersion } from './presets/entra-id.js';
export { keycloak } from './presets/keycloak.js';
export type { KeycloakClientOptions, KeycloakOptions } from './presets/keycloak.js';
export { okta } from './presets/okta.js';
export type { OktaClientOptions, OktaOptions } from './presets/okta.js';
export type { PresetClientCredentials } from './presets/preset-client.js';

// Proof of possession: the RFC 7638 thumbprint that names a DPoP key (RFC 9449 cnf.jkt).
export { jwkThumbprint } from './dpop/jwk-thumbprint.js';
// DPoP (RFC 9449) on the API: options, the replay store contract and its memory store.
export { DPOP_DEFAULTS } from './dpop/dpop-options.js';
export type { DpopNonceOptions, InboundDpopOptions } from './dpop/dpop-options.js';
export { memoryReplayStore } from './dpop/replay-store.js';
export type { DpopReplayStore, MemoryReplayStoreOptions } from './dpop/replay-store.js';

// Inbound: protected resource metadata (RFC 9728), with Express and without.
export { protectedResourceMetadata } from './express/protected-resource-metadata.js';
export type { ProtectedResourceMetadataMiddleware, ProtectedResourceMetadataMiddlewareOptions } from './express/protected-resource-metadata.js';
export { createProtectedResourceMetadata } from './metadata/protected-resource-metadata.js';
export type {
  BearerMethod, ProtectedResourceMetadata, ProtectedResourceMetadataDocument, ProtectedResourceMetadataOptions,
} from './metadata/protected-resource-metadata.js';

// Inbound, without Express: the pipeline and the JWT verifier.
export { createAuthenticator } from './inbound/authenticate.js';
export type { Authenticator, AuthenticatorOptions } from './inbound/authenticate.js';
export type { InboundRequest } from './inbound/inbound-request.js';
export type { IssuerOptions, IssuerResolverFunction } from './inbound/issuers/issuer-options.js';
export type { ClaimPredicate, ClaimRule, ClaimRules, ClaimRuleValue } from './inbound/verifiers/claim-rules.js';
export type { RevocationHook, RevocationOptions } from './inbound/revocation/revocation-check.js';
export type { MtlsOptions } from './inbound/bindings/certificate-binding.js';
export type {
  ClientCertificateFunction, ClientCertificateHeader, ClientCertificateOption,
} from './inbound/certificates/client-certificate-source.js';
export type { IntrospectionCacheOptions, IntrospectionOptions } from './inbound/verifiers/introspection/types.js';
export { createVerifier } from './inbound/verifiers/jwt/create-verifier.js';
export type { AudienceRuleVerifierOptions, JwtVerifier, ResolvedVerifierOptions, VerifierEvent, VerifierOptions } from './inbound/verifiers/jwt/types.js';
export type { DeepReadonly, VerifiedToken } from './inbound/verified-token.js';
export { JWKS_DEFAULTS } from './keys/options.js';
export type { DiscoveryTuning } from './discovery/metadata-discovery.js';
export type { JwksOptions } from './keys/options.js';
export type { JwsAlgorithm } from './keys/algorithms.js';
export type { KeySourceEvent } from './keys/types.js';

// Outbound: client-credentials tokens, authenticated fetch, clients for route handlers.
export { clientCredentials } from './outbound/client-credentials.js';
export { CLIENT_CREDENTIALS_DEFAULTS } from './outbound/client-credentials-options.js';
export type { ClientCredentialsOptions } from './outbound/client-credentials-options.js';
export type { ClientCredentialsProvider, GetTokenOptions, OutboundEvent, OutboundEventSubject, TokenProvider, TokenSet } from './outbound/types.js';
export type { ClientAuthMethod } from './outbound/client-auth/client-authenticator.js';
export type { ClientTlsOptions } from './transport/client-certificate-transport.js';
export type { ClientPrivateKey } from './outbound/client-auth/private-key-jwt.js';
export type { DpopAlgorithm, DpopKeyInfo, DpopPrivateKey } from './outbound/dpop/dpop-key.js';
export type { DpopOptions } from './outbound/dpop/dpop-options.js';
export { MemoryTokenCache } from './caches/memory-token-cache.js';
export type { MemoryTokenCacheOptions } from './caches/memory-token-cache.js';
export { getOutbound, outboundAuth } from './express/outbound-auth.js';
export type {
  OutboundAuthMiddleware, OutboundAuthOptions, OutboundClients, OutboundServiceClient, OutboundServiceName,
  OutboundServiceOptions, OutboundServiceRegistry,
} from './express/outbound-auth-types.js';

// The transport seam (every network call).
export type { FetchLike } from './transport/fetch-like.js';

// Observability: one event schema, hooks to combine (OpenTelemetry is in express-m2m/otel).
export { EVENT_SCHEMA_VERSION } from './observability/observed-event.js';
export type { ObservedEvent } from './observability/observed-event.js';
export { combineEvents } from './observability/combine-events.js';
export { logEvents } from './observability/log-events.js';
export type { EventLog, EventLogger, LogEventsOptions } from './observability/log-events.js';
export type { LogLevel } from './observability/log-levels.js';
export type {
  AuthHealth, HealthError, HealthStatus, IntrospectionHealth, IssuerHealth, KeysHealth, TokenProviderHealth,
} from './observability/health.js';

// Errors, and every code they carry.
export {
  BearerError, InsufficientScopeError, InvalidRequestError, InvalidTokenError, KeySourceUnavailableError, MissingTokenError, TemporarilyUnavailableError,
} from './errors/bearer-errors.js';
export type { BearerErrorCode, BearerErrorOptions, RejectionDetail } from './errors/bearer-errors.js';
export { DpopProofError, DpopReplayStoreUnavailableError, UseDpopNonceError } from './errors/dpop-errors.js';
export { InsufficientClaimsError } from './inbound/guards/insufficient-claims-error.js';
export { KEY_ERROR_CODES } from './keys/key-errors.js';
export { TokenRequestError } from './outbound/token-request-error.js';
export type { TokenRequestErrorDetails } from './outbound/token-request-error.js';
export { OutboundTokenError } from './express/outbound-token-error.js';
export type {
  BindingErrorCode, CredentialsErrorCode, DpopErrorCode, ErrorCode, InboundErrorCode, JwtErrorCode, KeyErrorCode, TokenRequestErrorCode,
} from './errors/error-codes.js';
