/**
 * docs/observability.md "Traces": tracedFetch() opens one client span per network call of the
 * library (discovery, JWKS, token endpoint, introspection), a child of the active context (the
 * request's span), with the standard HTTP client attributes, and never a token or a secret.
 * Checked with the real SDK (BasicTracerProvider, InMemorySpanExporter) and the async-hooks
 * context manager, against a local issuer.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { clientCredentials, createAuthenticator, requireAuth } from 'express-m2m';
import { otelInstrumentation, tracedFetch } from 'express-m2m/otel';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { outcome } from '../inbound/introspection/support.js';
import { memoryTracer } from './support.js';

const AUDIENCE = 'https://api.orders.test';
const RS_SECRET = 'rs-secret-do-not-trace';
let issuer: LocalIssuer;
const contextManager = new AsyncLocalStorageContextManager();
const { tracerProvider, exporter } = memoryTracer();
const fetch = tracedFetch(undefined, { tracerProvider });

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  issuer = await createLocalIssuer({ clients: [{ clientId: 'orders-api', clientSecret: RS_SECRET, audiences: [AUDIENCE] }] });
});
afterAll(async () => {
  context.disable();
  await issuer.close();
});
beforeEach(() => {
  exporter.reset();
  issuer.clearFaults();
});

const spans = (): ReadableSpan[] => exporter.getFinishedSpans().filter((span) => span.name !== 'request');

/** Everything a span carries, as text: name, attributes, status, events. */
const spanText = (span: ReadableSpan): string => JSON.stringify({ name: span.name, attributes: span.attributes, status: span.status, events: span.events });

function port(url: string): number {
  return Number(new URL(url).port);
}

describe('one client span per network call, a child of the request span', () => {
  test('discovery and JWKS, fetched for the first request, hang under that request\'s span', async () => {
    const tracer = tracerProvider.getTracer('test');
    const auth = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, fetch });
    const app = express();
    // What HTTP instrumentation does: the request runs in the context of its server span.
    app.use((_req, res, next) => {
      const span = tracer.startSpan('request');
      res.on('finish', () => span.end());
      context.with(trace.setSpan(context.active(), span), next);
    });
    app.get('/orders', auth, (_req, res) => res.json({ ok: true }));
    const token = await issuer.accessToken({ audience: AUDIENCE });
    await request(app).get('/orders').set('Authorization', `Bearer ${token}`).expect(200);
    auth.close();

    const requestSpan = exporter.getFinishedSpans().find((span) => span.name === 'request') as ReadableSpan;
    const [discovery, jwks] = spans();
    expect(spans().map((span) => span.name)).toEqual(['GET discovery', 'GET jwks']);
    for (const span of [discovery, jwks] as ReadableSpan[]) {
      expect(span.parentSpanContext?.spanId).toBe(requestSpan.spanContext().spanId);
      expect(span.spanContext().traceId).toBe(requestSpan.spanContext().traceId);
      expect(span.kind).toBe(2); // SpanKind.CLIENT
      expect(span.instrumentationScope.name).toBe('express-m2m');
    }
    expect(jwks?.attributes).toEqual({
      'http.request.method': 'GET',
      'url.full': issuer.jwksUri,
      'server.address': '127.0.0.1',
      'server.port': port(issuer.url),
      'http.response.status_code': 200,
      'express_m2m.operation': 'jwks',
    });
    expect(jwks?.status.code).toBe(SpanStatusCode.UNSET);
  });

  test('the token endpoint: POST token, and neither the client secret nor the token anywhere in the span', async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] }) as { clientId: string; clientSecret: string };
    for (const authMethod of ['client_secret_basic', 'client_secret_post'] as const) {
      exporter.reset();
      const provider = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, authMethod, fetch });
      const token = await provider.getToken();
      await provider.close();
      const [span] = spans();
      expect(spans()).toHaveLength(1);
      expect(span?.name).toBe('POST token');
      expect(span?.attributes).toMatchObject({ 'http.request.method': 'POST', 'url.full': issuer.tokenEndpoint, 'http.response.status_code': 200, 'express_m2m.operation': 'token' });
      const text = spanText(span as ReadableSpan);
      expect(text).not.toContain(clientSecret);
      expect(text).not.toContain(token);
      expect(text).not.toContain(Buffer.from(`${clientId}:${clientSecret}`).toString('base64'));
    }
  });

  test('introspection: POST introspection, without the opaque token or the resource server\'s secret', async () => {
    const authenticator = createAuthenticator({
      issuerBaseURL: issuer.url, audience: AUDIENCE, fetch,
      introspection: { clientId: 'orders-api', clientSecret: RS_SECRET },
    });
    const opaque = issuer.mintOpaqueToken({ audience: AUDIENCE });
    expect(await outcome(authenticator, opaque)).toEqual({ status: 200 });
    authenticator.close();
    expect(spans().map((span) => span.name)).toEqual(['GET discovery', 'POST introspection']);
    for (const span of spans()) {
      expect(spanText(span)).not.toContain(opaque);
      expect(spanText(span)).not.toContain(RS_SECRET);
    }
  });
});

describe('failures: error.type and an error status, per the HTTP client conventions', () => {
  test('an error status: error.type is the status code', async () => {
    issuer.setFault('jwks', { status: 503 });
    const auth = requireAuth({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE, fetch });
    await expect(auth.warmUp()).rejects.toThrow();
    auth.close();
    const [span] = spans();
    expect(span?.attributes).toMatchObject({ 'http.response.status_code': 503, 'error.type': '503' });
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
  });

  test('nothing listening: error.type is the network error\'s code', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const closedPort = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const auth = requireAuth({ issuer: 'https://issuer.test/', jwksUri: `http://127.0.0.1:${closedPort}/jwks`, allowInsecureHttp: true, audience: AUDIENCE, fetch } as never);
    await expect(auth.warmUp()).rejects.toThrow();
    auth.close();
    const [span] = spans();
    expect(span?.attributes).toMatchObject({ 'error.type': 'ECONNREFUSED', 'server.port': closedPort });
    expect(span?.attributes['http.response.status_code']).toBeUndefined();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe('what is not traced, and what a span never shows', () => {
  test('a downstream call of provider.fetch() is the user\'s call: no span of ours', async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] }) as { clientId: string; clientSecret: string };
    const otel = otelInstrumentation({ tracerProvider });
    const provider = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, ...otel });
    const downstream = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
    const response = await provider.fetch(`http://127.0.0.1:${(downstream.address() as AddressInfo).port}/invoices`);
    expect(await response.text()).toBe('ok');
    await provider.close();
    await new Promise<void>((resolve) => downstream.close(() => resolve()));
    expect(spans().map((span) => span.name)).toEqual(['POST token']);
  });

  test('url.full: no user info, every query value redacted', async () => {
    const seen: string[] = [];
    const traced = tracedFetch(async (input) => {
      seen.push(String(input));
      return new Response('{}', { status: 200 });
    }, { tracerProvider });
    const { forOperation } = await import('../../src/transport/operation.js');
    await traced('https://user:pw@issuer.test:8443/jwks?api_key=s3cret&v=1#frag', forOperation({}, 'jwks'));
    expect(seen).toEqual(['https://user:pw@issuer.test:8443/jwks?api_key=s3cret&v=1#frag']);
    const [span] = spans();
    expect(span?.attributes).toMatchObject({ 'url.full': 'https://issuer.test:8443/jwks?api_key=REDACTED&v=REDACTED', 'server.address': 'issuer.test', 'server.port': 8443 });
    expect(spanText(span as ReadableSpan)).not.toMatch(/s3cret|pw@|user:/);
  });

  test('options are checked: a tracerProvider that is not one, an inner fetch that is not a function', () => {
    expect(() => tracedFetch(undefined, { tracerProvider: {} as never })).toThrow('tracedFetch: "tracerProvider" must be an OpenTelemetry TracerProvider (with getTracer)');
    expect(() => tracedFetch('fetch' as never)).toThrow('tracedFetch: "inner" must be a fetch function');
  });
});
