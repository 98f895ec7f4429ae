/**
 * Internal: a signing key the user gives (a PEM string, a private JWK, a node `KeyObject` or a
 * WebCrypto `CryptoKey`) imported once, and its JWS algorithm chosen (given, the JWK's own
 * `alg`, or the first the key fits) and checked against it by the verifier's own rules
 * (`keyMismatch`): something our own verifier would refuse is useless to sign. One import for the
 * `private_key_jwt` client assertion and the DPoP key.
 */
import { createPrivateKey, createPublicKey, KeyObject, type JsonWebKey as NodeJsonWebKey, type webcrypto } from 'node:crypto';
import type { JWK } from 'jose';
import { algorithmsForKey, keyMismatch } from './algorithms.js';

/** What a signing key may be given as. */
export type PrivateKeyInput = string | JWK | KeyObject | webcrypto.CryptoKey;

/** Which option a failure is about: the key, or its algorithm. */
export type PrivateKeyOption = 'key' | 'alg';

export interface PrivateKeyRules {
  /** The algorithms the caller can sign with, when it cannot sign with every one a key fits. */
  readonly accepts?: readonly string[];
  /** What the caller signs with, for "fits none of ..." (e.g. 'the DPoP algorithms'). */
  readonly algorithms: string;
  /** Throws a `TypeError` naming the option (the caller's options reader). */
  readonly fail: (option: PrivateKeyOption, message: string) => never;
}

/** Realm-independent (Jest runs tests in another realm): a WebCrypto key, by its tag. */
function isCryptoKey(value: unknown): value is webcrypto.CryptoKey {
  return typeof value === 'object' && value !== null && Object.prototype.toString.call(value) === '[object CryptoKey]';
}

function isKeyObject(value: unknown): value is KeyObject {
  return value instanceof KeyObject
    || (typeof value === 'object' && value !== null && typeof (value as KeyObject).export === 'function' && 'asymmetricKeyType' in value);
}

/** Imports `input` as a private key and picks its algorithm (`alg` when given). */
export function importPrivateKey(input: PrivateKeyInput, alg: string | undefined, rules: PrivateKeyRules): { key: KeyObject; alg: string } {
  let key: KeyObject;
  try {
    if (typeof input === 'string') key = createPrivateKey(input);
    else if (isKeyObject(input)) key = input;
    else if (isCryptoKey(input)) key = KeyObject.from(input);
    else key = createPrivateKey({ key: input as unknown as NodeJsonWebKey, format: 'jwk' });
  } catch {
    // Never the cause: the text of a parse error is no business of a log line next to a key.
    return rules.fail('key', 'must be a private key: a PEM string, a private JWK, a private KeyObject or a CryptoKey');
  }
  if (key.type !== 'private') rules.fail('key', 'must be a private key (got a public or secret key)');
  const publicKey = createPublicKey(key);
  const jwkAlg = typeof input === 'object' && !isKeyObject(input) && !isCryptoKey(input) && typeof input.alg === 'string' ? input.alg : undefined;
  const { accepts } = rules;
  const accepted = (candidate: string): boolean => accepts === undefined || accepts.includes(candidate);
  const chosen = alg ?? jwkAlg ?? algorithmsForKey(publicKey).find(accepted);
  if (chosen === undefined) rules.fail('key', `fits none of ${rules.algorithms} (EC P-256/384/521, Ed25519, RSA of 2048 bits or more)`);
  if (!accepted(chosen)) {
    rules.fail(alg === undefined ? 'key' : 'alg', `${alg === undefined ? 'has an "alg" that is not' : 'must be'} one of ${(accepts ?? []).join(', ')}`);
  }
  const mismatch = keyMismatch(publicKey, chosen);
  if (mismatch !== undefined) rules.fail('alg', `${JSON.stringify(chosen).slice(0, 20)} does not fit the key: ${mismatch}`);
  return { key, alg: chosen };
}
