/**
 * `tracedFetch`: the transport seam with OpenTelemetry spans. Every network call the library
 * makes on its own behalf (discovery, JWKS, token endpoint, introspection) is marked with what it
 * is for; this wrapper opens a client span for each, a child of the active context (the request's
 * span), with the standard HTTP client attributes and nothing of the request's headers or body:
 * no token, no client secret, no assertion. Calls not marked (`provider.fetch()`'s downstream
 * calls) pass through untraced: your HTTP instrumentation sees those.
 */
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type TracerProvider } from '@opentelemetry/api';
import { OptionReader, type KnownOptions } from '../options/option-reader.js';
import { platformFetch, type FetchLike } from '../transport/fetch-like.js';
import { operationOf } from '../transport/operation.js';
import { INSTRUMENTATION_SCOPE } from './otel-events.js';

/**
 * Options of {@link tracedFetch}.
 *
 * @example
 * ```ts
 * import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
 * import { tracedFetch, type TracedFetchOptions } from 'express-m2m/otel';
 *
 * const options: TracedFetchOptions = { tracerProvider: new BasicTracerProvider() };
 * const fetch = tracedFetch(undefined, options);
 * ```
 */
export interface TracedFetchOptions {
  /** Where the tracer comes from. Default: the global one (`trace.getTracerProvider()`, set by the SDK). */
  tracerProvider?: TracerProvider;
}

const OPTION_NAMES: KnownOptions<TracedFetchOptions> = { tracerProvider: true };

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };

/** The URL as a span may show it: no user info, every query value replaced (a query may carry secrets), no fragment. */
export function redactedUrl(url: URL): string {
  const shown = new URL(url.href);
  shown.username = '';
  shown.password = '';
  shown.hash = '';
  if (shown.search !== '') {
    const names = [...new Set([...shown.searchParams.keys()])];
    shown.search = names.map((name) => `${encodeURIComponent(name)}=REDACTED`).join('&');
  }
  return shown.href;
}

/** `error.type` of a failed call: the network error's code, the abort's name, else the error's name. */
function errorType(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name !== '' ? name : '_OTHER';
}

/**
 * Wraps a `fetch` (default: the platform's, read at call time) so that each network call of the
 * library gets an OpenTelemetry client span named `<METHOD> <operation>` (`GET jwks`, `POST token`,
 * `GET discovery`, `POST introspection`) with `http.request.method`, `url.full` (query values
 * redacted), `server.address`, `server.port`, `http.response.status_code`, `error.type` and
 * `express_m2m.operation`. Pass it as the `fetch` option (it must be the outermost wrapper).
 * Without it nothing is traced and nothing costs.
 *
 * @example
 * ```ts
 * import { clientCredentials, requireAuth } from 'express-m2m';
 * import { tracedFetch } from 'express-m2m/otel';
 *
 * const fetch = tracedFetch();
 * app.use(requireAuth({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example', fetch }));
 * const billing = clientCredentials({ tokenEndpoint: 'https://issuer.example/oauth/token', clientId: 'orders', clientSecret: 'placeholder', fetch });
 * ```
 */
export function tracedFetch(inner?: FetchLike, options?: TracedFetchOptions): FetchLike {
  if (inner !== undefined && typeof inner !== 'function') throw new TypeError('tracedFetch: "inner" must be a fetch function');
  const read = new OptionReader<TracedFetchOptions>(options, OPTION_NAMES, { caller: 'tracedFetch' });
  const provider = read.raw('tracerProvider');
  if (provider !== undefined && typeof (provider as { getTracer?: unknown }).getTracer !== 'function') {
    read.fail('tracerProvider', 'must be an OpenTelemetry TracerProvider (with getTracer)');
  }
  const transport = inner ?? platformFetch;
  const tracer = ((provider as TracerProvider | undefined) ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_SCOPE);

  return async (input, init) => {
    const operation = operationOf(init);
    if (operation === undefined || typeof input !== 'string') return transport(input, init);
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      return transport(input, init);
    }
    const method = (init?.method ?? 'GET').toUpperCase();
    const attributes: Attributes = {
      'http.request.method': method,
      'url.full': redactedUrl(url),
      'server.address': url.hostname,
      'server.port': url.port === '' ? (DEFAULT_PORTS[url.protocol] ?? 0) : Number(url.port),
      'express_m2m.operation': operation,
    };
    const parent = context.active();
    const span = tracer.startSpan(`${method} ${operation}`, { kind: SpanKind.CLIENT, attributes }, parent);
    let response: Response;
    try {
      response = await context.with(trace.setSpan(parent, span), () => transport(input, init));
    } catch (error) {
      const type = errorType(error);
      span.setAttribute('error.type', type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      span.end();
      throw error;
    }
    span.setAttribute('http.response.status_code', response.status);
    if (response.status >= 400) {
      span.setAttribute('error.type', String(response.status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
    return response;
  };
}
