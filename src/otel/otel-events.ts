/** `otelEvents`: the library's events as OpenTelemetry metrics, on one meter named `express-m2m`. */
import { metrics, type Attributes, type Counter, type MeterProvider, type ObservableResult } from '@opentelemetry/api';
import type { ObservedEvent } from '../observability/observed-event.js';
import { OptionReader, type KnownOptions } from '../options/option-reader.js';
import { COUNTERS, GAUGES, type CounterName } from './metric-definitions.js';
import { outboundAttributes, recordEvent, type MetricSink, type OutboundSubject } from './event-metrics.js';

/** The name of the meter (and of the tracer of `tracedFetch`). */
export const INSTRUMENTATION_SCOPE = 'express-m2m';

/** A token expired this long ago is no longer reported by the expiry gauge (its provider is likely gone). */
const FORGET_EXPIRED_AFTER_MS = 3_600_000;

/**
 * Options of {@link otelEvents}.
 *
 * @example
 * ```ts
 * import { MeterProvider } from '@opentelemetry/sdk-metrics';
 * import { otelEvents, type OtelEventsOptions } from 'express-m2m/otel';
 *
 * const options: OtelEventsOptions = { meterProvider: new MeterProvider() };
 * const onEvent = otelEvents(options);
 * ```
 */
export interface OtelEventsOptions {
  /** Where the meter comes from. Default: the global one (`metrics.getMeterProvider()` of `@opentelemetry/api`, set by the SDK). */
  meterProvider?: MeterProvider;
  /** The clock of the gauges (epoch milliseconds). Default `Date.now`. */
  now?: () => number;
}

const OPTION_NAMES: KnownOptions<OtelEventsOptions> = { meterProvider: true, now: true };

/**
 * An `onEvent` hook that turns the events of `requireAuth`, `createVerifier`, `clientCredentials`
 * and `outboundAuth` into OpenTelemetry metrics (counters, and two observable gauges: seconds
 * since the last good JWKS fetch per JWKS URI, seconds until the token at hand expires per client
 * and audience). Names and attributes are stable and documented in docs/observability.md. Create
 * one per process, after the OpenTelemetry SDK has started (the meter is taken from the global
 * provider now), and give it to every component (the gauges report what it has seen); combine it
 * with your own hook with `combineEvents`.
 *
 * @example
 * ```ts
 * import { clientCredentials, requireAuth } from 'express-m2m';
 * import { otelEvents } from 'express-m2m/otel';
 *
 * const onEvent = otelEvents();
 * app.use(requireAuth({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example', onEvent }));
 * const billing = clientCredentials({ tokenEndpoint: 'https://issuer.example/oauth/token', clientId: 'orders', clientSecret: 'placeholder', onEvent });
 * ```
 */
export function otelEvents(options?: OtelEventsOptions): (event: ObservedEvent) => void {
  const read = new OptionReader<OtelEventsOptions>(options, OPTION_NAMES, { caller: 'otelEvents' });
  const provider = read.raw('meterProvider');
  if (provider !== undefined && typeof (provider as { getMeter?: unknown }).getMeter !== 'function') {
    read.fail('meterProvider', 'must be an OpenTelemetry MeterProvider (with getMeter)');
  }
  const now = read.func<() => number>('now', 'a function returning milliseconds') ?? Date.now;
  const meter = ((provider as MeterProvider | undefined) ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_SCOPE);

  const counters = new Map<CounterName, Counter>();
  for (const [name, { unit, description }] of Object.entries(COUNTERS)) counters.set(name as CounterName, meter.createCounter(name, { unit, description }));

  const keysFetchedAt = new Map<string, number>();
  const tokens = new Map<string, { subject: OutboundSubject; expiresAt: number }>();

  const keyAge = GAUGES['express_m2m.keys.time_since_fetch'];
  meter.createObservableGauge('express_m2m.keys.time_since_fetch', { unit: keyAge.unit, description: keyAge.description })
    .addCallback((result: ObservableResult<Attributes>) => {
      const at = now();
      for (const [uri, fetchedAt] of keysFetchedAt) result.observe((at - fetchedAt) / 1000, { 'express_m2m.jwks.uri': uri });
    });
  const expiry = GAUGES['express_m2m.outbound.token.time_to_expiry'];
  meter.createObservableGauge('express_m2m.outbound.token.time_to_expiry', { unit: expiry.unit, description: expiry.description })
    .addCallback((result: ObservableResult<Attributes>) => {
      const at = now();
      for (const [key, { subject, expiresAt }] of tokens) {
        if (at - expiresAt > FORGET_EXPIRED_AFTER_MS) tokens.delete(key);
        else result.observe((expiresAt - at) / 1000, outboundAttributes(subject));
      }
    });

  const sink: MetricSink = {
    count: (name, attributes) => counters.get(name)?.add(1, attributes),
    keysFetched: (uri) => keysFetchedAt.set(uri, now()),
    tokenHeld: (subject, expiresAt) => {
      tokens.set(`${subject.clientId}\u0000${subject.audience ?? ''}`, { subject: { clientId: subject.clientId, audience: subject.audience }, expiresAt });
    },
  };
  return (event) => {
    if (typeof event === 'object' && event !== null) recordEvent(event, sink);
  };
}
