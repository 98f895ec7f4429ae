/**
 * Internal: whether a `T | PromiseLike<T>` result is the promise (a thenable). The hot paths
 * return a plain value when they can answer synchronously (cached token, cached key) and a promise
 * otherwise; this tells the two apart without awaiting, so the synchronous case stays synchronous.
 *
 * @example
 * ```ts
 * const result = verifier.verify(token);
 * if (isPromiseLike(result)) result.then(accept, reject);
 * else accept(result);
 * ```
 */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
