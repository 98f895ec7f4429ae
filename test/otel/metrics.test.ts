/**
 * docs/observability.md "Metrics": otelEvents() turns the events of requireAuth, the verifier,
 * the key source and clientCredentials into the documented metrics of one meter, `express-m2m`,
 * checked with the real OpenTelemetry SDK (MeterProvider and a reader) against a local issuer.
 */
import request from 'supertest';
import express from 'express';
import { clientCredentials, combineEvents, createAuthenticator, requireAuth, requireScopes, type ObservedEvent } from 'express-m2m';
import { otelEvents } from 'express-m2m/otel';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { outcome } from '../inbound/introspection/support.js';
import { memoryMeter, points } from './support.js';

const AUDIENCE = 'https://api.orders.test';
let issuer: LocalIssuer;
let now = Date.now();

beforeAll(async () => {
  issuer = await createLocalIssuer({ now: () => now, clients: [{ clientId: 'orders-api', clientSecret: 'rs-secret', audiences: [AUDIENCE] }] });
});
afterAll(async () => {
  await issuer.close();
});
beforeEach(() => {
  now = Date.now();
  issuer.clearFaults();
});

describe('inbound: verifications by outcome and code, cache lookups, rejections by status, key fetches', () => {
  test('a request flow is counted once per verification, and every rejection by status and code', async () => {
    const { meterProvider, collect } = memoryMeter();
    const auth = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, now: () => now, onEvent: otelEvents({ meterProvider, now: () => now }) });
    const app = express();
    app.get('/orders', auth, requireScopes('read:orders'), (_req, res) => res.json({ ok: true }));
    const good = await issuer.accessToken({ audience: AUDIENCE, clientId: 'billing', scope: 'read:orders' });
    const noScope = await issuer.accessToken({ audience: AUDIENCE, clientId: 'billing' });
    const otherAudience = await issuer.accessToken({ audience: 'https://elsewhere.test', clientId: 'billing' });
    await request(app).get('/orders').set('Authorization', `Bearer ${good}`).expect(200);
    await request(app).get('/orders').set('Authorization', `Bearer ${good}`).expect(200);
    await request(app).get('/orders').set('Authorization', `Bearer ${noScope}`).expect(403);
    await request(app).get('/orders').set('Authorization', `Bearer ${otherAudience}`).expect(401);
    await request(app).get('/orders').expect(401);
    now += 90_000;
    const metrics = await collect();
    auth.close();

    expect(points(metrics.get('express_m2m.inbound.verifications'))).toEqual([
      { attributes: { 'error.type': 'ERR_JWT_AUDIENCE', 'express_m2m.outcome': 'rejected' }, value: 1 },
      { attributes: { 'express_m2m.outcome': 'accepted', 'express_m2m.verifier': 'jwt' }, value: 3 },
    ]);
    expect(points(metrics.get('express_m2m.inbound.verified_token_cache.lookups'))).toEqual([
      { attributes: { 'express_m2m.cache.result': 'hit', 'express_m2m.verifier': 'jwt' }, value: 1 },
      { attributes: { 'express_m2m.cache.result': 'miss', 'express_m2m.verifier': 'jwt' }, value: 2 },
    ]);
    expect(points(metrics.get('express_m2m.inbound.rejections'))).toEqual([
      { attributes: { 'error.type': 'ERR_INSUFFICIENT_SCOPE', 'http.response.status_code': 403 }, value: 1 },
      { attributes: { 'error.type': 'ERR_JWT_AUDIENCE', 'http.response.status_code': 401 }, value: 1 },
      { attributes: { 'error.type': 'ERR_TOKEN_MISSING', 'http.response.status_code': 401 }, value: 1 },
    ]);
    expect(points(metrics.get('express_m2m.keys.fetches'))).toEqual([
      { attributes: { 'express_m2m.jwks.uri': issuer.jwksUri, 'express_m2m.outcome': 'success' }, value: 1 },
    ]);
    // The gauge: seconds since the last good fetch, by the injected clock.
    expect(points(metrics.get('express_m2m.keys.time_since_fetch'))).toEqual([
      { attributes: { 'express_m2m.jwks.uri': issuer.jwksUri }, value: 90 },
    ]);
    expect(metrics.get('express_m2m.keys.time_since_fetch')?.descriptor.unit).toBe('s');
  });

  test('key fetch failures and stale keys served during an outage', async () => {
    const { meterProvider, collect } = memoryMeter();
    const auth = requireAuth({
      issuerBaseURL: issuer.url, audience: AUDIENCE, now: () => now, verifiedTokenCache: false,
      jwks: { cacheMaxAge: 60_000, maxStale: 600_000 }, onEvent: otelEvents({ meterProvider, now: () => now }),
    });
    await auth.warmUp();
    const app = express();
    app.get('/orders', auth, (_req, res) => res.json({ ok: true }));
    const token = await issuer.accessToken({ audience: AUDIENCE });
    issuer.setFault('jwks', { status: 503 });
    now += 61_000;
    await request(app).get('/orders').set('Authorization', `Bearer ${token}`).expect(200);
    await request(app).get('/orders').set('Authorization', `Bearer ${token}`).expect(200);
    const metrics = await collect();
    auth.close();
    const fetches = points(metrics.get('express_m2m.keys.fetches'));
    expect(fetches).toContainEqual({ attributes: { 'express_m2m.jwks.uri': issuer.jwksUri, 'express_m2m.outcome': 'success' }, value: 1 });
    expect(fetches).toContainEqual({ attributes: { 'express_m2m.jwks.uri': issuer.jwksUri, 'express_m2m.outcome': 'failure' }, value: 1 });
    // Both requests were answered with the stale keys (the refresh failed and cools down).
    expect(points(metrics.get('express_m2m.keys.stale_uses'))).toEqual([{ attributes: { 'express_m2m.jwks.uri': issuer.jwksUri }, value: 2 }]);
  });
});

describe('introspection: calls by outcome, cache hits', () => {
  test('one call per token, then cache hits; an inactive answer is counted as such', async () => {
    const { meterProvider, collect } = memoryMeter();
    const authenticator = createAuthenticator({
      issuerBaseURL: issuer.url, audience: AUDIENCE, now: () => now,
      introspection: { clientId: 'orders-api', clientSecret: 'rs-secret' },
      onEvent: otelEvents({ meterProvider }),
    });
    const active = issuer.mintOpaqueToken({ audience: AUDIENCE });
    const revoked = issuer.mintOpaqueToken({ audience: AUDIENCE });
    issuer.revokeToken(revoked);
    const verify = (token: string) => outcome(authenticator, token).then(({ status }) => (status === 200 ? 'ok' : 'refused'));
    expect(await verify(active)).toBe('ok');
    expect(await verify(active)).toBe('ok');
    expect(await verify(revoked)).toBe('refused');
    const metrics = await collect();
    authenticator.close();
    expect(points(metrics.get('express_m2m.inbound.introspections'))).toEqual([
      { attributes: { 'express_m2m.outcome': 'active' }, value: 1 },
      { attributes: { 'express_m2m.outcome': 'inactive' }, value: 1 },
    ]);
    expect(points(metrics.get('express_m2m.inbound.verified_token_cache.lookups'))).toEqual([
      { attributes: { 'express_m2m.cache.result': 'hit', 'express_m2m.verifier': 'introspection' }, value: 1 },
      { attributes: { 'express_m2m.cache.result': 'miss', 'express_m2m.verifier': 'introspection' }, value: 1 },
    ]);
  });
});

describe('outbound: token requests by outcome, latched failures, seconds to expiry', () => {
  test('a token obtained, its expiry gauge; a refused client fails once and is latched after', async () => {
    const { meterProvider, collect } = memoryMeter();
    const onEvent = otelEvents({ meterProvider, now: () => now });
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] }) as { clientId: string; clientSecret: string };
    const good = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, now: () => now, onEvent });
    const bad = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret: 'wrong', audience: AUDIENCE, now: () => now, onEvent });
    const token = await good.getTokenSet();
    await expect(bad.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_REJECTED' });
    await expect(bad.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_REJECTED' });
    now += 10_000;
    const metrics = await collect();
    await good.close();
    await bad.close();
    const subject = { 'express_m2m.client_id': clientId, 'express_m2m.audience': AUDIENCE };
    expect(points(metrics.get('express_m2m.outbound.token_requests'))).toEqual([
      { attributes: { ...subject, 'error.type': 'ERR_TOKEN_REJECTED', 'express_m2m.outcome': 'failure' }, value: 1 },
      { attributes: { ...subject, 'express_m2m.outcome': 'success' }, value: 1 },
    ]);
    expect(points(metrics.get('express_m2m.outbound.latched_failures'))).toEqual([
      { attributes: { ...subject, 'error.type': 'ERR_TOKEN_REJECTED' }, value: 1 },
    ]);
    expect(points(metrics.get('express_m2m.outbound.token.time_to_expiry'))).toEqual([
      { attributes: subject, value: (token.expiresAt - now) / 1000 },
    ]);
  });
});

describe('every event type with a row is mapped; unknown types are ignored', () => {
  const subject = { clientId: 'orders', audience: undefined, endpoint: 'https://issuer.test/oauth/token' };
  const error = Object.assign(new Error('x'), { code: 'ERR_TOKEN_SERVER_ERROR' }) as never;
  const samples: Array<[ObservedEvent, string, Record<string, unknown>]> = [
    [{ type: 'verification.cache_flushed', reason: 'keys_changed', entries: 3 }, 'express_m2m.inbound.verified_token_cache.flushes', {}],
    [{ type: 'verification.discovery_failed', issuerBaseURL: 'https://issuer.test', error: new Error('down') }, 'express_m2m.inbound.discovery.failures', { 'express_m2m.issuer': 'https://issuer.test' }],
    [{ type: 'auth.unexpected_error', error: new Error('bug') }, 'express_m2m.inbound.unexpected_errors', {}],
    [{ type: 'introspection.failed', endpoint: 'https://issuer.test/introspect', error: new Error('down') }, 'express_m2m.inbound.introspections', { 'express_m2m.outcome': 'failure' }],
    [{ type: 'keys.unknown_kid', uri: 'https://issuer.test/jwks', kid: 'k9', refetched: true }, 'express_m2m.keys.unknown_kids', { 'express_m2m.jwks.uri': 'https://issuer.test/jwks', 'express_m2m.refetched': true }],
    [{ type: 'keys.key_skipped', uri: 'https://issuer.test/jwks', kid: 'k1', reason: 'bad' }, 'express_m2m.keys.skipped_keys', { 'express_m2m.jwks.uri': 'https://issuer.test/jwks' }],
    [{ ...subject, type: 'token.retry', error, attempt: 1, delay: 250 }, 'express_m2m.outbound.token_retries', { 'express_m2m.client_id': 'orders', 'error.type': 'ERR_TOKEN_SERVER_ERROR' }],
    [{ ...subject, type: 'token.refreshed', expiresAt: 0, attempts: 1, background: true }, 'express_m2m.outbound.token_refreshes', { 'express_m2m.client_id': 'orders', 'express_m2m.outcome': 'success', 'express_m2m.background': true }],
    [{ ...subject, type: 'token.served_stale', expiresAt: 0, error }, 'express_m2m.outbound.token_refreshes', { 'express_m2m.client_id': 'orders', 'express_m2m.outcome': 'failure', 'error.type': 'ERR_TOKEN_SERVER_ERROR' }],
    [{ ...subject, type: 'token.cache_hit', expiresAt: 0 }, 'express_m2m.outbound.shared_cache.hits', { 'express_m2m.client_id': 'orders' }],
    [{ ...subject, type: 'token.rejected_downstream', url: 'https://billing.test/x', retried: true }, 'express_m2m.outbound.downstream_rejections', { 'express_m2m.client_id': 'orders', 'express_m2m.retried': true }],
    [{ ...subject, type: 'cache.fallback', error: new Error('redis down') }, 'express_m2m.outbound.shared_cache.fallbacks', { 'express_m2m.client_id': 'orders' }],
    [{ ...subject, type: 'cache.recovered' }, 'express_m2m.outbound.shared_cache.recoveries', { 'express_m2m.client_id': 'orders' }],
    [{ ...subject, type: 'cache.entry_rejected', reason: 'integrity' }, 'express_m2m.outbound.shared_cache.rejected_entries', { 'express_m2m.client_id': 'orders', 'express_m2m.reason': 'integrity' }],
    [{ type: 'dpop.replay_store_failed', error: new Error('redis down') }, 'express_m2m.inbound.dpop.replay_store_failures', {}],
    [{ type: 'auth.rejected', status: 401, code: 'ERR_DPOP_REPLAYED', method: 'GET', path: '/' }, 'express_m2m.inbound.dpop.replays', {}],
    [{ type: 'auth.rejected', status: 401, code: 'ERR_DPOP_NONCE', method: 'GET', path: '/' }, 'express_m2m.inbound.dpop.nonce_challenges', {}],
  ];

  test.each(samples)('%o', async (event, name, attributes) => {
    const { meterProvider, collect } = memoryMeter();
    otelEvents({ meterProvider })(event);
    expect(points((await collect()).get(name))).toEqual([{ attributes, value: 1 }]);
  });

  test('an event type without a row (a later one) and garbage are ignored, and combineEvents still calls the next hook', async () => {
    const { meterProvider, collect } = memoryMeter();
    const seen: unknown[] = [];
    const hook = combineEvents<unknown>(otelEvents({ meterProvider }) as (event: unknown) => void, (event) => seen.push(event));
    hook({ type: 'dpop.some_later_event' });
    hook(null);
    expect(seen).toEqual([{ type: 'dpop.some_later_event' }, null]);
    const metrics = await collect();
    for (const metric of metrics.values()) expect(metric.dataPoints).toEqual([]);
  });
});

describe('options are checked at construction', () => {
  test('a meterProvider that is not one, an unknown option', () => {
    expect(() => otelEvents({ meterProvider: {} as never })).toThrow('otelEvents: "meterProvider" must be an OpenTelemetry MeterProvider (with getMeter)');
    expect(() => otelEvents({ meterprovider: 1 } as never)).toThrow(/otelEvents: unknown option "meterprovider"/);
  });
});
