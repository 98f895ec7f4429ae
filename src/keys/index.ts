/**
 * Key sources: where the keys that verify access tokens come from (a remote JWKS fetched with
 * jwks-rsa, a static public key, or a shared secret for HS256/384/512).
 */
export { createKeySource } from './create-key-source.js';
export { JWKS_DEFAULTS } from './options.js';
export type { JwkSetInput, JwksOptions, KeySourceOptions } from './options.js';
export { KEY_ERROR_CODES } from './key-errors.js';
export type { JwsAlgorithm } from './algorithms.js';
export type { KeySelector, KeySource, KeySourceEvent } from './types.js';
