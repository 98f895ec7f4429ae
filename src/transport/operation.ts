/**
 * Internal: what a network call of the library is for, carried on its `RequestInit` under a
 * registered symbol, not enumerable (never sent: `fetch` reads only the fields it knows). The
 * tracing wrapper must be the outermost `fetch` (it is: `tracedFetch(inner)`) to see it. The tracing wrapper of
 * `express-m2m/otel` names its span after it; a call without one (a downstream call of
 * `provider.fetch()`, the user's own) is passed through untraced. Zero cost without the wrapper:
 * one property on the options of a call that goes to the network anyway.
 */

/** The four kinds of call the library makes on its own behalf. */
export type NetworkOperation = 'discovery' | 'jwks' | 'token' | 'introspection';

/** The key of the operation on a `RequestInit` (`Symbol.for`: two copies of the package agree). */
export const NETWORK_OPERATION: unique symbol = Symbol.for('express-m2m.network-operation') as never;

/** `init` marked as a call for `operation`. */
export function forOperation<T extends RequestInit>(init: T, operation: NetworkOperation): T {
  // Not enumerable: invisible to spreads, JSON and the user's own fetch's comparisons.
  return Object.defineProperty(init, NETWORK_OPERATION, { value: operation, enumerable: false });
}

/** The operation a call was marked with, if any. */
export function operationOf(init: RequestInit | undefined): NetworkOperation | undefined {
  return init === undefined ? undefined : (init as Record<symbol, NetworkOperation | undefined>)[NETWORK_OPERATION];
}
