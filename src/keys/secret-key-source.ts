/**
 * Internal: the key source of a shared secret (HS256/384/512). It never serves an asymmetric
 * algorithm, and an asymmetric source never serves an HS one, so HS/RS confusion is impossible.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { HMAC_ALGORITHMS, MIN_HMAC_KEY_BYTES } from './algorithms.js';
import { algNotSupported, keyAlgMismatch } from './key-errors.js';
import type { KeySelector, KeySource } from './types.js';

const MIN_SECRET_BYTES = MIN_HMAC_KEY_BYTES.HS256!;

export class SecretKeySource implements KeySource {
  readonly algorithms: readonly string[];
  readonly generation = 1;
  readonly freshUntil = Number.POSITIVE_INFINITY;
  private readonly key: KeyObject;

  constructor(secret: string | Uint8Array) {
    const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new TypeError(
        `"secret" must be at least ${MIN_SECRET_BYTES} bytes (256 bits) for HS256 (RFC 7518 section 3.2), got ${bytes.length}`,
      );
    }
    this.key = createSecretKey(bytes);
    this.algorithms = HMAC_ALGORITHMS.filter((alg) => bytes.length >= MIN_HMAC_KEY_BYTES[alg]!);
  }

  getKey({ alg }: KeySelector): KeyObject {
    if (this.algorithms.includes(alg)) return this.key;
    const needed = MIN_HMAC_KEY_BYTES[alg];
    if (needed !== undefined) {
      throw keyAlgMismatch(undefined, alg, `the shared secret is shorter than the ${needed} bytes ${alg} needs`);
    }
    throw algNotSupported(alg, this.algorithms, 'the shared secret');
  }

  warmUp(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {}
}
