/**
 * docs/observability.md "Logs": logEvents(logger) writes each event as one structured line at the
 * level of its type, for pino (object first), winston and console (message first), rate-limited
 * per event type and code with a "N events suppressed" line, and never a token or a secret.
 * Real loggers writing to streams: pino, winston (Stream transport), node:console's Console.
 */
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import request from 'supertest';
import winston from 'winston';
import { clientCredentials, EVENT_SCHEMA_VERSION, logEvents, requireAuth, type ObservedEvent } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';

const AUDIENCE = 'https://api.orders.test';
let issuer: LocalIssuer;

beforeAll(async () => {
  issuer = await createLocalIssuer();
});
afterAll(async () => {
  await issuer.close();
});

/** A stream that keeps what is written to it. */
function sink(): { stream: Writable; text: () => string; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const text = () => chunks.join('');
  return { stream, text, lines: () => text().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/** Every form a secret could leak in: as is, URL-encoded, in a Basic credential. */
function leaks(text: string, clientId: string, secret: string): string[] {
  const forms = [secret, encodeURIComponent(secret), Buffer.from(`${clientId}:${secret}`).toString('base64'), Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')];
  return forms.filter((form) => text.includes(form));
}

describe('pino (the reference): one JSON line per event, at its level, object first', () => {
  test('a rejected token is info, with route, code and the schema version; the accepted one debug', async () => {
    const out = sink();
    const logger = pino({ level: 'debug' }, out.stream);
    const auth = requireAuth({ issuerBaseURL: issuer.url, audience: AUDIENCE, onEvent: logEvents(logger) });
    const app = express();
    app.get('/orders', auth, (_req, res) => res.json({ ok: true }));
    const good = await issuer.accessToken({ audience: AUDIENCE, clientId: 'billing' });
    const expired = await issuer.sign({ aud: AUDIENCE, sub: 'billing@clients', exp: Math.floor(Date.now() / 1000) - 3600 });
    await request(app).get('/orders').set('Authorization', `Bearer ${good}`).expect(200);
    await request(app).get('/orders?page=2').set('Authorization', `Bearer ${expired}`).expect(401);
    auth.close();
    const lines = out.lines();
    const rejected = lines.find((line) => line.type === 'auth.rejected');
    expect(rejected).toMatchObject({
      level: 30, msg: 'express-m2m auth.rejected 401 ERR_JWT_EXPIRED GET /orders', schema: EVENT_SCHEMA_VERSION,
      status: 401, code: 'ERR_JWT_EXPIRED', method: 'GET', path: '/orders', client: 'billing@clients',
    });
    expect(lines.find((line) => line.type === 'verification.succeeded')).toMatchObject({ level: 20, verifier: 'jwt', cached: false });
    expect(lines.find((line) => line.type === 'keys.fetched')).toMatchObject({ level: 20, uri: issuer.jwksUri });
    expect(out.text()).not.toContain(good);
    expect(out.text()).not.toContain(expired.split('.')[2]);
  });

  test('an issuer outage is an error, with the error\'s name, code and message (never its cause or stack)', async () => {
    const out = sink();
    issuer.setFault('jwks', { status: 503 });
    const auth = requireAuth({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE, onEvent: logEvents(pino(out.stream)) });
    await expect(auth.warmUp()).rejects.toThrow();
    auth.close();
    issuer.clearFaults();
    const [line] = out.lines();
    expect(line).toMatchObject({ level: 50, type: 'keys.fetch_failed', uri: issuer.jwksUri, error: { name: 'UpstreamError', code: 'ERR_UPSTREAM', status: 503 } });
    expect(out.text()).not.toContain('"stack"');
  });

  test('outbound: a refused client is an error line, and no form of the client secret appears anywhere', async () => {
    const out = sink();
    const logger = pino({ level: 'debug' }, out.stream);
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] }) as { clientId: string; clientSecret: string };
    const wrong = 'wrong-secret-value-!@#';
    for (const [secret, authMethod] of [[clientSecret, 'client_secret_basic'], [wrong, 'client_secret_basic'], [wrong, 'client_secret_post']] as const) {
      const provider = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret: secret, audience: AUDIENCE, authMethod, onEvent: logEvents(logger) });
      const token = await provider.getToken().catch(() => undefined);
      await provider.close();
      if (token !== undefined) expect(out.text()).not.toContain(token);
    }
    expect(out.lines().filter((line) => line.type === 'token.failed')).toEqual([
      expect.objectContaining({ level: 50, error: expect.objectContaining({ code: 'ERR_TOKEN_REJECTED' }), clientId }),
      expect.objectContaining({ level: 50, error: expect.objectContaining({ code: 'ERR_TOKEN_REJECTED' }), clientId }),
    ]);
    expect(out.lines().find((line) => line.type === 'token.fetched')).toMatchObject({ level: 20, clientId, audience: AUDIENCE });
    expect(leaks(out.text(), clientId, clientSecret)).toEqual([]);
    expect(leaks(out.text(), clientId, wrong)).toEqual([]);
  });
});

describe('winston and console: message first', () => {
  test('winston: the level per event type, the fields as meta', async () => {
    const out = sink();
    const logger = winston.createLogger({ level: 'debug', format: winston.format.json(), transports: [new winston.transports.Stream({ stream: out.stream })] });
    const log = logEvents(logger);
    log({ type: 'keys.stale_used', uri: 'https://issuer.test/jwks', ageMs: 120_000 });
    log({ type: 'auth.rejected', status: 403, code: 'ERR_INSUFFICIENT_SCOPE', method: 'GET', path: '/orders', client: 'billing', claim: 'scope', expected: 'write', received: 'read' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.lines()).toEqual([
      { level: 'warn', message: 'express-m2m keys.stale_used', schema: 1, type: 'keys.stale_used', uri: 'https://issuer.test/jwks', ageMs: 120_000 },
      {
        level: 'info', message: 'express-m2m auth.rejected 403 ERR_INSUFFICIENT_SCOPE GET /orders', schema: 1, type: 'auth.rejected',
        status: 403, code: 'ERR_INSUFFICIENT_SCOPE', method: 'GET', path: '/orders', client: 'billing', claim: 'scope', expected: 'write', received: 'read',
      },
    ]);
  });

  test('console: console.warn(message, fields)', () => {
    const out = sink();
    const errors = sink();
    const log = logEvents(new Console({ stdout: out.stream, stderr: errors.stream }));
    log({ type: 'cache.recovered', clientId: 'orders', audience: undefined, endpoint: 'https://issuer.test/oauth/token' });
    log({ type: 'keys.stale_used', uri: 'https://issuer.test/jwks', ageMs: 5 });
    expect(out.text()).toMatch(/^express-m2m cache\.recovered \{.*clientId: 'orders'/s);
    expect(errors.text()).toMatch(/^express-m2m keys\.stale_used \{.*ageMs: 5/s);
  });

  test('levels can be changed or turned off per event type', () => {
    const out = sink();
    const log = logEvents(pino({ level: 'debug' }, out.stream), { levels: { 'auth.rejected': 'debug', 'keys.fetched': 'off' } });
    log({ type: 'auth.rejected', status: 401, code: 'ERR_JWT_EXPIRED', method: 'GET', path: '/' });
    log({ type: 'keys.fetched', uri: 'https://issuer.test/jwks', keyCount: 1 });
    log({ type: 'dpop.later_event' } as unknown as ObservedEvent);
    expect(out.lines().map((line) => [line.type, line.level])).toEqual([['auth.rejected', 20], ['dpop.later_event', 30]]);
  });
});

describe('rate limit: 10 lines at once per event type and code, 60 a minute, the rest counted in one line', () => {
  test('a flood of one rejection code: 10 lines, then "90 events suppressed" at the first event a minute later', () => {
    const out = sink();
    let now = 1_000_000;
    const log = logEvents(pino(out.stream), { now: () => now });
    const rejected = (code: string): ObservedEvent => ({ type: 'auth.rejected', status: 401, code, method: 'GET', path: '/orders' });
    for (let i = 0; i < 100; i += 1) log(rejected('ERR_JWT_SIGNATURE_INVALID'));
    log(rejected('ERR_JWT_EXPIRED')); // another code has its own bucket
    expect(out.lines()).toHaveLength(11);
    now += 60_000;
    log(rejected('ERR_JWT_SIGNATURE_INVALID'));
    const [summary, next] = out.lines().slice(11);
    expect(summary).toMatchObject({
      level: 40, msg: 'express-m2m 90 events suppressed (log rate limit)', type: 'log.suppressed', total: 90,
      suppressed: { 'auth.rejected ERR_JWT_SIGNATURE_INVALID': 90 },
    });
    expect(next).toMatchObject({ code: 'ERR_JWT_SIGNATURE_INVALID' });
  });

  test('flush() writes the pending summary now; rateLimit: false writes everything', () => {
    const out = sink();
    const log = logEvents(pino(out.stream), { rateLimit: { burst: 1 }, now: () => 0 });
    log({ type: 'keys.stale_used', uri: 'u', ageMs: 1 });
    log({ type: 'keys.stale_used', uri: 'u', ageMs: 2 });
    log.flush();
    log.flush();
    expect(out.lines().map((line) => line.msg)).toEqual(['express-m2m keys.stale_used', 'express-m2m 1 events suppressed (log rate limit)']);
    const all = sink();
    const unlimited = logEvents(pino(all.stream), { rateLimit: false });
    for (let i = 0; i < 50; i += 1) unlimited({ type: 'keys.stale_used', uri: 'u', ageMs: i });
    expect(all.lines()).toHaveLength(50);
  });
});

describe('bad arguments fail at construction, naming what is wrong', () => {
  test('logger, style, levels', () => {
    expect(() => logEvents({} as never)).toThrow('logEvents: "logger" must have debug, info, warn and error methods (pino, winston, console)');
    expect(() => logEvents(console, { style: 'json' as never })).toThrow(/logEvents: "style" must be 'object-first' or 'message-first'/);
    expect(() => logEvents(console, { levels: { 'auth.rejected': 'loud' as never } })).toThrow('logEvents: "levels" "auth.rejected" must be one of debug, info, warn, error, off');
    expect(() => logEvents(console, { rateLimit: { burst: 0 } })).toThrow(/logEvents: "rateLimit.burst"/);
  });

  test('a logger that throws changes nothing', () => {
    const broken = { debug: () => { throw new Error('x'); }, info: () => { throw new Error('x'); }, warn: () => { throw new Error('x'); }, error: () => { throw new Error('x'); } };
    expect(() => logEvents(broken)({ type: 'keys.stale_used', uri: 'u', ageMs: 1 })).not.toThrow();
  });
});
