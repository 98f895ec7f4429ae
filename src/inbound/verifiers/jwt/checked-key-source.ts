/**
 * Internal: a user-supplied `keySource` wrapped once, at construction, so every key it hands over
 * is checked to fit the token's `alg` (key type, curve, size). The built-in sources pick keys
 * with the same rule (`keyMismatch`), so they are used as they are and the hot path skips this.
 */
import type { KeyObject } from 'node:crypto';
import { keyMismatch } from '../../../keys/algorithms.js';
import type { KeySelector, KeySource } from '../../../keys/types.js';
import { invalidToken } from './invalid-token.js';

/** `source` with a fit check on every key it returns (memoised per key and `alg`). */
export function checkedKeySource(source: KeySource): KeySource {
  const fits = new WeakMap<KeyObject, Set<string>>();
  const check = (alg: string, key: KeyObject): KeyObject => {
    const known = fits.get(key);
    if (known?.has(alg)) return key;
    const reason = keyMismatch(key, alg);
    if (reason !== undefined) throw invalidToken('ERR_JWT_KEY_MISMATCH', `the key for this token cannot verify it: ${reason}`);
    if (known === undefined) fits.set(key, new Set([alg]));
    else known.add(alg);
    return key;
  };
  return {
    get algorithms() {
      return source.algorithms;
    },
    get generation() {
      return source.generation;
    },
    get freshUntil() {
      return source.freshUntil ?? Number.POSITIVE_INFINITY;
    },
    getKey(selector: KeySelector, now?: number) {
      const key = source.getKey(selector, now);
      const { alg } = selector;
      return typeof (key as { then?: unknown }).then === 'function'
        ? (key as Promise<KeyObject>).then((value) => check(alg, value))
        : check(alg, key as KeyObject);
    },
    warmUp: () => source.warmUp(),
    close: () => source.close?.(),
  };
}
