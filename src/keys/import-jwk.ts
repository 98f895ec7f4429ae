/**
 * Internal: turns one JWK into a `KeyObject` plus the algorithms it may verify, honouring what the
 * JWK says about itself (`use`, `key_ops`, `alg`). Parsed once per fetch, never per request.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { ASYMMETRIC_ALGORITHMS, algorithmsForKey, explanatoryAlgorithm, keyMismatch } from './algorithms.js';

/** A usable verification key. */
export interface KeyEntry {
  /** The JWK's `kid`, if it has one. */
  readonly kid: string | undefined;
  /** The imported public key. */
  readonly key: KeyObject;
  /** The algorithms this key may verify (its type allows them, and its JWK `alg` if any names one). */
  readonly algorithms: ReadonlySet<string>;
  /** The JWK's own `alg`, if declared. */
  readonly declaredAlg: string | undefined;
  /**
   * The issuer the key belongs to, when the JWK says so with an `issuer` member (not in RFC 7517;
   * Microsoft Entra ID publishes one on each key, a `{tenantid}` template on its common keys).
   */
  readonly issuer: string | undefined;
}

/** The outcome of importing one JWK: a usable key, or why it is left out. */
export type JwkImport =
  | { ok: true; entry: KeyEntry }
  | { ok: false; kid: string | undefined; reason: string };

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const SUPPORTED = new Set<string>(ASYMMETRIC_ALGORITHMS);

/** Imports a JWK for signature verification, or says why it cannot be used. */
export function importJwk(jwk: unknown): JwkImport {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    return { ok: false, kid: undefined, reason: 'not a JSON object' };
  }
  const fields = jwk as Record<string, unknown>;
  const rawKid = fields.kid;
  if (rawKid !== undefined && typeof rawKid !== 'string') return { ok: false, kid: undefined, reason: '"kid" is not a string' };
  const kid = rawKid;
  const fail = (reason: string): JwkImport => ({ ok: false, kid, reason });

  if (typeof fields.kty !== 'string') return fail('"kty" is missing');
  if (fields.kty === 'oct') return fail('a symmetric key (kty "oct") is never used from a public key set');
  if (PRIVATE_MEMBERS.some((member) => fields[member] !== undefined)) return fail('it contains private key material');
  if (fields.use !== undefined && fields.use !== 'sig') return fail('"use" is not "sig"');
  if (fields.key_ops !== undefined) {
    if (!Array.isArray(fields.key_ops)) return fail('"key_ops" is not an array');
    if (!fields.key_ops.includes('verify')) return fail('"key_ops" does not include "verify"');
  }
  const declaredAlg = fields.alg;
  if (declaredAlg !== undefined) {
    if (typeof declaredAlg !== 'string') return fail('"alg" is not a string');
    if (!SUPPORTED.has(declaredAlg)) return fail(`"alg" ${JSON.stringify(declaredAlg.slice(0, 20))} is not a signature algorithm express-m2m verifies`);
  }

  const issuer = fields.issuer;
  if (issuer !== undefined && typeof issuer !== 'string') return fail('"issuer" is not a string');

  let key: KeyObject;
  try {
    key = createPublicKey({ key: fields as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    return fail(`it is not a valid ${fields.kty.slice(0, 10)} public key`);
  }
  const algorithms = declaredAlg === undefined ? algorithmsForKey(key) : [declaredAlg];
  if (declaredAlg !== undefined) {
    const mismatch = keyMismatch(key, declaredAlg);
    if (mismatch !== undefined) return fail(`its "alg" ${declaredAlg} does not fit the key: ${mismatch}`);
  } else if (algorithms.length === 0) {
    return fail(`it fits no supported algorithm: ${keyMismatch(key, explanatoryAlgorithm(key))}`);
  }
  return { ok: true, entry: { kid, key, algorithms: new Set(algorithms), declaredAlg, issuer } };
}
