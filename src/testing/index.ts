/**
 * `express-m2m/testing`: a real, small OAuth 2.0 authorization server on loopback, for your own
 * test suites and for demos. See {@link createLocalIssuer}.
 */
/// <reference types="node" preserve="true" />
export { createLocalIssuer } from './local-issuer.js';
export { LOCAL_ISSUER_ALGORITHMS } from './key-ring.js';
export { createSelfSignedCertificate, createTestCertificateAuthority } from './certificates.js';
export type { TestCertificate, TestCertificateAuthority, TestCertificateOptions } from './certificates.js';
export type { LocalIssuerTls, LocalIssuerTlsOptions, LocalSelfSignedTlsClientAuth, LocalTlsClientAuth } from './mtls.js';
export type {
  Fault,
  JsonWebKeySet,
  LocalAccessTokenOptions,
  LocalClient,
  LocalDpopCounts,
  LocalIssuer,
  LocalIssuerAlgorithm,
  LocalIssuerEndpoint,
  LocalIssuerOptions,
  LocalOpaqueTokenOptions,
  LocalSignOptions,
  RecordedTokenRequest,
  RotateKeysOptions,
} from './types.js';
export { createDpopProof, generateDpopKey } from './dpop-proof.js';
export type { CreateDpopProofOptions, DpopKeyPair } from './dpop-proof.js';
