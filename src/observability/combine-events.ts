/** `combineEvents`: one `onEvent` hook out of several (metrics, logs, your own). */
import type { ObservedEvent } from './observed-event.js';

/**
 * One `onEvent` hook that hands each event to every given hook, in order; an exception of one
 * hook does not keep the others from the event (nor reaches the request). `undefined` entries are
 * skipped, so optional hooks compose without conditionals.
 *
 * @example
 * ```ts
 * import { combineEvents, logEvents, requireAuth } from 'express-m2m';
 * import { otelEvents } from 'express-m2m/otel';
 *
 * app.use(requireAuth({
 *   issuerBaseURL: 'https://issuer.example/',
 *   audience: 'https://api.example',
 *   onEvent: combineEvents(otelEvents(), logEvents(console), (event) => myAudit(event)),
 * }));
 * ```
 */
export function combineEvents<E = ObservedEvent>(...hooks: ReadonlyArray<((event: E) => void) | undefined>): (event: E) => void {
  const list = hooks.filter((hook): hook is (event: E) => void => {
    if (hook !== undefined && typeof hook !== 'function') throw new TypeError('combineEvents: every hook must be a function (or undefined)');
    return hook !== undefined;
  });
  return (event) => {
    for (const hook of list) {
      try {
        hook(event);
      } catch {
        // One observer's failure must not keep the event from the others.
      }
    }
  };
}
