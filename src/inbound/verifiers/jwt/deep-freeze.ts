/** Internal: freezing what the verifier hands out (cached results are shared between requests). */

/**
 * Freezes a parsed JSON object and every object in it; iterative, so no nesting depth can
 * overflow the stack. Only objects are queued: most claims are strings and numbers.
 */
export function deepFreeze<T extends object>(root: T): T {
  const pending: object[] = [root];
  while (pending.length > 0) {
    const value = pending.pop() as Record<string, unknown>;
    Object.freeze(value);
    for (const key in value) {
      const child = value[key];
      if (typeof child === 'object' && child !== null && !Object.isFrozen(child)) pending.push(child);
    }
  }
  return root;
}
