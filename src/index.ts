/**
 * express-m2m: OAuth 2.0 access-token protection for Express APIs, and client-credentials tokens
 * for the calls a service makes to others.
 *
 * The core (extraction, verification, keys, guards, outbound, caches) knows nothing of Express;
 * `express/` holds the thin adapters.
 */
export * from './errors/index.js';
export * from './discovery/index.js';
export * from './extraction/index.js';
export * from './keys/index.js';
export * from './verification/index.js';
export * from './guards/index.js';
export * from './outbound/index.js';
export * from './caches/index.js';
export * from './express/index.js';
