/**
 * `express-m2m/extend`: the contracts for people who plug their own parts in (a key source for
 * `keySource`, a token cache for `cache`), and the building blocks for other frameworks
 * (credential extraction, metadata discovery). An API author does not need this entry.
 */
/// <reference types="node" preserve="true" />
export { createKeySource } from './keys/create-key-source.js';
export type { JwkSetInput, JwksOptions, KeySourceOptions } from './keys/options.js';
export type { KeySelector, KeySource } from './keys/types.js';
export type { SharedTokenFailure, TokenCache, TokenCacheLock } from './caches/token-cache.js';
export { extractCredentials } from './inbound/credentials/extract-credentials.js';
export type { Credentials, CredentialsPolicy } from './inbound/credentials/extract-credentials.js';
export { DISCOVERY_DEFAULTS, MetadataDiscovery } from './discovery/metadata-discovery.js';
export type { DiscoveryOptions } from './discovery/metadata-discovery.js';
export { discoveryUrls, InsecureMetadataError } from './discovery/metadata.js';
export type { AuthorizationServerMetadata } from './discovery/metadata.js';
export { UpstreamError } from './transport/fetch-json.js';
