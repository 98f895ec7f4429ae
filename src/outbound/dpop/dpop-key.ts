/**
 * A provider's DPoP key (RFC 9449): given by the user (PEM, private JWK, `KeyObject`, WebCrypto
 * `CryptoKey`) or generated at start-up, with its JWS algorithm checked against it, its public JWK
 * and its RFC 7638 thumbprint (`jkt`) computed once. The private key stays inside this object:
 * `JSON.stringify` and `util.inspect` show only the algorithm and the thumbprint.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject, type webcrypto } from 'node:crypto';
import { inspect } from 'node:util';
import type { JWK } from 'jose';
import { jwkThumbprint } from '../../dpop/jwk-thumbprint.js';
import { ALGORITHM_SPECS } from '../../keys/algorithms.js';
import { importPrivateKey } from '../../keys/import-private-key.js';
import { jwsSigner, type JwsSigner } from '../../keys/jws-signer.js';

/**
 * A DPoP private key: a PEM string (PKCS#8, or SEC1 / PKCS#1), a private JWK, a node `KeyObject`
 * or a WebCrypto `CryptoKey` (extractable or not).
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { clientCredentials, type DpopPrivateKey } from 'express-m2m';
 *
 * const key: DpopPrivateKey = readFileSync('dpop-key.pem', 'utf8'); // shared by every replica
 * clientCredentials({ tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'svc', clientSecret: 'placeholder', dpop: { key } });
 * ```
 */
export type DpopPrivateKey = string | JWK | KeyObject | webcrypto.CryptoKey;


/**
 * A JWS algorithm for DPoP proofs: ES256 (the default, and what most authorization servers
 * support), ES384, ES512, EdDSA (Ed25519), RS256/384/512, PS256/384/512.
 *
 * @example
 * ```ts
 * import { clientCredentials, type DpopAlgorithm } from 'express-m2m';
 *
 * const alg: DpopAlgorithm = 'EdDSA'; // a generated Ed25519 key
 * clientCredentials({ tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'svc', clientSecret: 'placeholder', dpop: { alg } });
 * ```
 */
export type DpopAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512';

/** The JWS algorithms a DPoP proof can be signed with (asymmetric only, RFC 9449 section 4.2). */
export const DPOP_ALGORITHMS: readonly DpopAlgorithm[] = ['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];

/**
 * What can be shown of a provider's DPoP key: its algorithm, public JWK and thumbprint (never
 * the private key).
 *
 * @example
 * ```ts
 * import { clientCredentials, type DpopKeyInfo } from 'express-m2m';
 *
 * const provider = clientCredentials({ tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'svc', clientSecret: 'placeholder', dpop: true });
 * const info: DpopKeyInfo | undefined = provider.dpop;
 * console.log(info?.alg, info?.jkt); // 'ES256', the cnf.jkt of the tokens the provider gets
 * ```
 */
export interface DpopKeyInfo {
  /** The JWS algorithm of the proofs. */
  readonly alg: DpopAlgorithm;
  /** The RFC 7638 SHA-256 thumbprint of the public key: the `cnf.jkt` of DPoP-bound tokens. */
  readonly jkt: string;
  /** The public key, as it goes into the `jwk` header of every proof. */
  readonly publicJwk: Readonly<JWK>;
}

/** Throws a `TypeError` naming the option (the caller's options reader). */
type OptionFailure = (option: 'key' | 'alg', message: string) => never;

/** A provider's DPoP key. The private key cannot be read back from it. */
export class DpopKey implements DpopKeyInfo {
  readonly alg: DpopAlgorithm;
  readonly jkt: string;
  readonly publicJwk: Readonly<JWK>;
  readonly #signer: JwsSigner;

  private constructor(privateKey: KeyObject, alg: DpopAlgorithm) {
    this.#signer = jwsSigner(privateKey, alg);
    this.alg = alg;
    const exported = createPublicKey(privateKey).export({ format: 'jwk' }) as Record<string, string>;
    // Only the public members, in a fixed order: the JWK every proof carries.
    const members = exported.kty === 'EC' ? ['kty', 'crv', 'x', 'y'] : exported.kty === 'OKP' ? ['kty', 'crv', 'x'] : ['kty', 'n', 'e'];
    this.publicJwk = Object.freeze(Object.fromEntries(members.map((name) => [name, exported[name]]))) as JWK;
    this.jkt = jwkThumbprint(this.publicJwk as Record<string, unknown>);
  }

  /** Imports a given key and checks `alg` (or picks it: the JWK's `alg`, else by key type). Throws through `fail`. */
  static fromKey(key: DpopPrivateKey, alg: DpopAlgorithm | undefined, fail: OptionFailure): DpopKey {
    const imported = importPrivateKey(key, alg, { algorithms: 'the DPoP algorithms', accepts: DPOP_ALGORITHMS, fail });
    return new DpopKey(imported.key, imported.alg as DpopAlgorithm);
  }

  /** A new key for `alg` (default ES256), made at start-up: every process that generates one has its own. */
  static generate(alg: DpopAlgorithm = 'ES256'): DpopKey {
    const spec = ALGORITHM_SPECS.get(alg)!;
    const { privateKey } = spec.family === 'ES' ? generateKeyPairSync('ec', { namedCurve: spec.namedCurve! })
      : spec.family === 'EdDSA' ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
    return new DpopKey(privateKey, alg);
  }

  /** The base64url JWS signature of `signingInput` (RFC 7515 section 5.1). */
  sign(signingInput: string): string {
    return this.#signer(signingInput);
  }

  /** What `JSON.stringify` shows: never the private key. */
  toJSON(): DpopKeyInfo {
    return { alg: this.alg, jkt: this.jkt, publicJwk: this.publicJwk };
  }

  [inspect.custom](): string {
    return `DpopKey { alg: '${this.alg}', jkt: '${this.jkt}' }`;
  }
}

export function isDpopAlgorithm(value: unknown): value is DpopAlgorithm {
  return typeof value === 'string' && (DPOP_ALGORITHMS as readonly string[]).includes(value);
}

