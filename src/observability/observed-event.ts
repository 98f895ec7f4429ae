/**
 * The one event schema of express-m2m: every event `requireAuth`, `createVerifier`, the key
 * sources, `clientCredentials` and `outboundAuth` report through `onEvent`, as one union. Each
 * event has a `type` (`<area>.<what happened>`, an area being `auth`, `verification`, `keys`,
 * `introspection`, `token` or `cache`) and the fields its row of docs/events.md lists; none carries
 * a token or a secret.
 */
import type { RequireAuthEvent } from '../express/require-auth-options.js';
import type { OutboundEvent } from '../outbound/types.js';

/**
 * Any event the library reports: what `logEvents` and `otelEvents` (express-m2m/otel) take, and
 * what {@link combineEvents} passes on. Switch on `type`.
 *
 * @example
 * ```ts
 * import type { ObservedEvent } from 'express-m2m';
 *
 * const onEvent = (event: ObservedEvent) => {
 *   if (event.type === 'keys.stale_used') console.warn(`stale keys of ${event.uri}, ${event.ageMs} ms old`);
 *   if (event.type === 'token.failed') console.error(`${event.clientId}: ${event.error.code}`);
 * };
 * ```
 */
export type ObservedEvent = RequireAuthEvent | OutboundEvent;

/**
 * The version of the event schema (docs/events.md): raised when a field of an event is removed,
 * renamed or changes its meaning; adding an event type or a field does not raise it. `logEvents`
 * writes it on every line (`schema`).
 *
 * @example
 * ```ts
 * import { EVENT_SCHEMA_VERSION } from 'express-m2m';
 *
 * if (EVENT_SCHEMA_VERSION !== 1) throw new Error('the dashboards expect event schema 1');
 * ```
 */
export const EVENT_SCHEMA_VERSION = 1;
