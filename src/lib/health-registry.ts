/**
 * Internal: which object can tell its health, without a member on the public contracts
 * (`TokenVerifier`, `IssuerResolver`, `KeySource`, `Authenticator`): each layer that keeps state
 * registers a function for the object it hands out; the layer above asks for it by object. Read
 * only when a health view is asked for, never on a request's path.
 */
const reporters = new WeakMap<object, (now: number) => unknown>();

/** `owner` tells its health with `report`. */
export function reportsHealth<T>(owner: object, report: (now: number) => T): void {
  reporters.set(owner, report);
}

/** The health of `owner` at `now`, if it registered a way to tell it. */
export function healthOf<T>(owner: object, now: number): T | undefined {
  return reporters.get(owner)?.(now) as T | undefined;
}

/** `copy` tells the health `original` tells (a wrapper made of the original's parts). */
export function sameHealth(copy: object, original: object): void {
  const report = reporters.get(original);
  if (report !== undefined) reporters.set(copy, report);
}
