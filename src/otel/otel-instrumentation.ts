/** `otelInstrumentation`: `otelEvents` and `tracedFetch` together, to spread into a component's options. */
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import type { ObservedEvent } from '../observability/observed-event.js';
import { OptionReader, type KnownOptions } from '../options/option-reader.js';
import type { FetchLike } from '../transport/fetch-like.js';
import { otelEvents } from './otel-events.js';
import { tracedFetch } from './traced-fetch.js';

/**
 * Options of {@link otelInstrumentation}.
 *
 * @example
 * ```ts
 * import { otelInstrumentation, type OtelInstrumentationOptions } from 'express-m2m/otel';
 *
 * const options: OtelInstrumentationOptions = { fetch: (input, init) => fetch(input, init) };
 * const otel = otelInstrumentation(options);
 * ```
 */
export interface OtelInstrumentationOptions {
  /** Default: the global meter provider. */
  meterProvider?: MeterProvider;
  /** Default: the global tracer provider. */
  tracerProvider?: TracerProvider;
  /** The `fetch` to trace (a proxy's, a client certificate's). Default: the platform's. */
  fetch?: FetchLike;
  /** The clock of the gauges (epoch milliseconds). Default `Date.now`. */
  now?: () => number;
}

/**
 * What {@link otelInstrumentation} returns: spread it into `requireAuth`, `createVerifier`,
 * `clientCredentials` or `outboundAuth` options.
 *
 * @example
 * ```ts
 * import { requireAuth } from 'express-m2m';
 * import { otelInstrumentation, type OtelInstrumentation } from 'express-m2m/otel';
 *
 * const otel: OtelInstrumentation = otelInstrumentation();
 * app.use(requireAuth({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example', ...otel }));
 * ```
 */
export interface OtelInstrumentation {
  /** The metrics hook ({@link otelEvents}). */
  readonly onEvent: (event: ObservedEvent) => void;
  /** The traced transport ({@link tracedFetch}). */
  readonly fetch: FetchLike;
}

const OPTION_NAMES: KnownOptions<OtelInstrumentationOptions> = { meterProvider: true, tracerProvider: true, fetch: true, now: true };

/**
 * Metrics and spans in one: `{ onEvent, fetch }` to spread into a component's options. With your
 * own `onEvent`, combine the two: `onEvent: combineEvents(otel.onEvent, mine)`.
 *
 * @example
 * ```ts
 * import { clientCredentials, combineEvents, requireAuth } from 'express-m2m';
 * import { otelInstrumentation } from 'express-m2m/otel';
 *
 * const otel = otelInstrumentation();
 * app.use(requireAuth({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example', ...otel }));
 * const billing = clientCredentials({
 *   tokenEndpoint: 'https://issuer.example/oauth/token', clientId: 'orders', clientSecret: 'placeholder',
 *   ...otel, onEvent: combineEvents(otel.onEvent, (event) => console.log(event.type)),
 * });
 * ```
 */
export function otelInstrumentation(options?: OtelInstrumentationOptions): OtelInstrumentation {
  const read = new OptionReader<OtelInstrumentationOptions>(options, OPTION_NAMES, { caller: 'otelInstrumentation' });
  const fetch = read.func<FetchLike>('fetch', 'a fetch function');
  const meterProvider = read.raw('meterProvider') as MeterProvider | undefined;
  const tracerProvider = read.raw('tracerProvider') as TracerProvider | undefined;
  const now = read.func<() => number>('now', 'a function returning milliseconds');
  return Object.freeze({
    onEvent: otelEvents({ ...(meterProvider === undefined ? {} : { meterProvider }), ...(now === undefined ? {} : { now }) }),
    fetch: tracedFetch(fetch, tracerProvider === undefined ? {} : { tracerProvider }),
  });
}
