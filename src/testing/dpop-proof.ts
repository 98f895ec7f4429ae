/**
 * DPoP proofs for tests (RFC 9449 section 4): `generateDpopKey()` makes a key pair, and
 * `createDpopProof()` makes a valid proof for a request, or a deliberately broken one (`header`
 * and `claims` override or, with `undefined`, remove any member; `signingKey` signs with another
 * key). Signed with `signCompactJws`, which validates nothing, so every broken shape can be made.
 */
import { KeyObject, randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
import { jwkThumbprint } from '../dpop/jwk-thumbprint.js';
import { accessTokenHash } from '../dpop/verify-proof.js';
import { generateRingKey } from './key-generation.js';
import { defaultAlgorithmForKey, signCompactJws } from './sign-jwt.js';
import type { LocalIssuerAlgorithm } from './types.js';

/**
 * A DPoP key pair made by {@link generateDpopKey}.
 *
 * @example
 * ```ts
 * import { generateDpopKey, type DpopKeyPair } from 'express-m2m/testing';
 *
 * const key: DpopKeyPair = generateDpopKey('ES256');
 * console.log(key.jkt); // the cnf.jkt of tokens bound to it
 * ```
 */
export interface DpopKeyPair {
  /** The signature algorithm of the proofs. */
  readonly alg: LocalIssuerAlgorithm;
  /** The private key (a secret: never log it). */
  readonly privateKey: KeyObject;
  /** The public key. */
  readonly publicKey: KeyObject;
  /** The public key as a JWK (public members only): the proofs' `jwk` header. */
  readonly publicJwk: JWK;
  /** The RFC 7638 thumbprint of the public key: the `cnf.jkt` of tokens bound to it. */
  readonly jkt: string;
}

/**
 * What {@link createDpopProof} makes a proof for, and how to break it.
 *
 * @example
 * ```ts
 * import { createDpopProof, generateDpopKey, type CreateDpopProofOptions } from 'express-m2m/testing';
 *
 * const options: CreateDpopProofOptions = { key: generateDpopKey(), htm: 'GET', htu: 'https://api.example/orders', accessToken: token };
 * const proof = createDpopProof(options);
 * ```
 */
export interface CreateDpopProofOptions {
  /** The key the proof is made with: its public key goes in the `jwk` header. */
  key: DpopKeyPair;
  /** The request method. */
  htm: string;
  /** The request URL (the query and fragment are dropped, as RFC 9449 section 4.2 says). */
  htu: string;
  /** The access token the proof is sent with: its hash becomes `ath`. None at a token endpoint. */
  accessToken?: string;
  /** The server's nonce (`nonce` claim). */
  nonce?: string;
  /** `iat`, in seconds. Default: now. */
  iat?: number;
  /** `jti`. Default: a random UUID. */
  jti?: string;
  /** Header members to set (or, with `undefined`, to remove), e.g. `{ typ: 'JWT' }` or `{ jwk: undefined }`. */
  header?: Record<string, unknown>;
  /** Claims to set (or, with `undefined`, to remove), e.g. `{ htm: 'get' }` or `{ ath: undefined }`. */
  claims?: Record<string, unknown>;
  /** The algorithm the signature is made with (may differ from the `alg` header, on purpose; `'none'`: no signature). Default: the key's. */
  signingAlg?: string;
  /** Another key to sign with (the proof's `jwk` stays the `key`'s): a signature that does not verify. */
  signingKey?: KeyObject | string;
}

/** Public JWK members per key type (what a proof's `jwk` header carries). */
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;

/**
 * A new DPoP key pair: ES256 by default; ES384, ES512, EdDSA and the RSA algorithms (RS*, PS*)
 * too.
 *
 * @example
 * ```ts
 * import { generateDpopKey } from 'express-m2m/testing';
 *
 * const key = generateDpopKey('EdDSA');
 * ```
 */
export function generateDpopKey(alg: LocalIssuerAlgorithm = 'ES256'): DpopKeyPair {
  const ring = generateRingKey(alg);
  const publicJwk: Record<string, unknown> = {};
  for (const member of PUBLIC_MEMBERS) if (ring.publicJwk[member] !== undefined) publicJwk[member] = ring.publicJwk[member];
  return Object.freeze({ alg, privateKey: ring.privateKey, publicKey: ring.publicKey, publicJwk: publicJwk as JWK, jkt: jwkThumbprint(publicJwk) });
}

function applyOverrides(target: Record<string, unknown>, overrides: Record<string, unknown> | undefined): Record<string, unknown> {
  if (overrides === undefined) return target;
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete target[name];
    else target[name] = value;
  }
  return target;
}

/**
 * A DPoP proof (compact JWS) for one request: `typ: dpop+jwt`, the key's `alg` and public `jwk`;
 * `jti`, `htm`, `htu` (without query and fragment), `iat`, and `ath` and `nonce` when given. The
 * overrides make it broken on purpose.
 *
 * @example
 * ```ts
 * import { createDpopProof, generateDpopKey } from 'express-m2m/testing';
 *
 * const key = generateDpopKey();
 * const proof = createDpopProof({ key, htm: 'GET', htu: `${api}/orders`, accessToken: token });
 * await fetch(`${api}/orders`, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
 * const replayedElsewhere = createDpopProof({ key, htm: 'GET', htu: `${api}/orders`, accessToken: token, claims: { htm: 'get' } });
 * ```
 */
export function createDpopProof(options: CreateDpopProofOptions): string {
  const { key } = options;
  if (typeof key !== 'object' || key === null || !(key.privateKey instanceof KeyObject)) {
    throw new TypeError('createDpopProof: "key" must be a DpopKeyPair (see generateDpopKey())');
  }
  const url = new URL(options.htu);
  const header = applyOverrides({ typ: 'dpop+jwt', alg: key.alg, jwk: { ...key.publicJwk } }, options.header);
  const claims = applyOverrides({
    jti: options.jti ?? randomUUID(),
    htm: options.htm,
    htu: `${url.origin}${url.pathname}`,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
    ...(options.accessToken === undefined ? {} : { ath: accessTokenHash(options.accessToken) }),
    ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
  }, options.claims);
  const signingKey = options.signingKey ?? key.privateKey;
  const signingAlg = options.signingAlg ?? (options.signingKey === undefined ? key.alg : defaultAlgorithmForKey(signingKey));
  return signCompactJws(header, claims, signingAlg, signingKey);
}
