/**
 * `express-m2m/otel`: OpenTelemetry metrics from the library's events (`otelEvents`) and spans
 * around its network calls (`tracedFetch`). A separate entry point so that `express-m2m` never
 * loads `@opentelemetry/api` (an optional peer dependency: install it to use this).
 */
/// <reference types="node" preserve="true" />
export { INSTRUMENTATION_SCOPE, otelEvents } from './otel/otel-events.js';
export type { OtelEventsOptions } from './otel/otel-events.js';
export { tracedFetch } from './otel/traced-fetch.js';
export type { TracedFetchOptions } from './otel/traced-fetch.js';
export { otelInstrumentation } from './otel/otel-instrumentation.js';
export type { OtelInstrumentation, OtelInstrumentationOptions } from './otel/otel-instrumentation.js';
