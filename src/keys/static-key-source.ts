/**
 * Internal: the key source of a static public key (PEM, JWK, JWK Set or `KeyObject`). Keys are
 * imported once, at construction; a key that cannot be used fails there, naming the option.
 */
import { createPublicKey, KeyObject, type JsonWebKey } from 'node:crypto';
import { algorithmsForKey, explanatoryAlgorithm, keyMismatch } from './algorithms.js';
import { importJwk, type KeyEntry } from './import-jwk.js';
import { algNotSupported, keyAlgMismatch, keyIssuerMismatch, multipleMatchingKeys, noMatchingKey } from './key-errors.js';
import { KeySet } from './key-set.js';
import type { JwkSetInput } from './options.js';
import type { KeySelector, KeySource } from './types.js';

const WHERE = 'the configured public key(s)';

export class StaticKeySource implements KeySource {
  readonly algorithms: readonly string[];
  readonly generation = 1;
  readonly freshUntil = Number.POSITIVE_INFINITY;
  private readonly keySet: KeySet;
  private readonly accepted: ReadonlySet<string>;

  constructor(publicKey: string | JsonWebKey | JwkSetInput | KeyObject) {
    this.keySet = new KeySet(importStaticKeys(publicKey), { loneKeyMatchesAnyKid: true });
    this.algorithms = this.keySet.algorithms;
    this.accepted = new Set(this.algorithms);
  }

  getKey({ alg, kid, issuer }: KeySelector): KeyObject {
    if (!this.accepted.has(alg)) throw algNotSupported(alg, this.algorithms, WHERE);
    const lookup = this.keySet.lookup(alg, kid, issuer);
    switch (lookup.status) {
      case 'found': return lookup.key;
      case 'mismatch': throw keyAlgMismatch(kid, alg, lookup.reason);
      case 'other-issuer': throw keyIssuerMismatch(kid, lookup.keyIssuer);
      case 'ambiguous': throw multipleMatchingKeys(alg, WHERE);
      case 'unknown': throw noMatchingKey(kid, alg, WHERE);
    }
  }

  warmUp(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {}
}

function importStaticKeys(publicKey: string | JsonWebKey | JwkSetInput | KeyObject): KeyEntry[] {
  if (publicKey instanceof KeyObject) return [keyObjectEntry(publicKey, 'publicKey')];
  if (typeof publicKey === 'string') {
    const text = publicKey.trim();
    if (text.startsWith('{')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new TypeError('"publicKey" looks like JSON but does not parse as a JWK or JWK Set');
      }
      return importJwkInput(parsed as JsonWebKey | JwkSetInput);
    }
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
      throw new TypeError('"publicKey" is a private key: give the public key (SPKI PEM) or the certificate instead');
    }
    if (!text.startsWith('-----BEGIN ')) {
      throw new TypeError('"publicKey" must be a PEM public key or certificate (starting with "-----BEGIN "), a JWK, a JWK Set or a KeyObject');
    }
    let key: KeyObject;
    try {
      key = createPublicKey(text);
    } catch {
      throw new TypeError('"publicKey" is not a valid PEM public key or certificate');
    }
    return [keyObjectEntry(key, 'publicKey')];
  }
  return importJwkInput(publicKey);
}

function importJwkInput(input: JsonWebKey | JwkSetInput): KeyEntry[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError('"publicKey" must be a PEM string, a JWK, a JWK Set or a KeyObject');
  }
  if ('keys' in input) {
    const { keys } = input as { keys: unknown };
    if (!Array.isArray(keys) || keys.length === 0) throw new TypeError('"publicKey.keys" must be a non-empty array of JWKs');
    return keys.map((jwk, index) => jwkEntry(jwk, `publicKey.keys[${index}]`));
  }
  return [jwkEntry(input, 'publicKey')];
}

function jwkEntry(jwk: unknown, option: string): KeyEntry {
  const imported = importJwk(jwk);
  if (!imported.ok) throw new TypeError(`"${option}" cannot be used to verify tokens: ${imported.reason}`);
  return imported.entry;
}

function keyObjectEntry(key: KeyObject, option: string): KeyEntry {
  if (key.type === 'private') throw new TypeError(`"${option}" is a private key: give the public key instead`);
  if (key.type === 'secret') throw new TypeError(`"${option}" is a secret key: use the "secret" option for HS256/384/512`);
  const algorithms = algorithmsForKey(key);
  if (algorithms.length === 0) {
    throw new TypeError(`"${option}" cannot be used to verify tokens: ${keyMismatch(key, explanatoryAlgorithm(key))}`);
  }
  return { kid: undefined, key, algorithms: new Set(algorithms), declaredAlg: undefined, issuer: undefined };
}
