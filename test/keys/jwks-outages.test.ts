/**
 * Outages of the JWKS endpoint: a bounded stale window for keys already fetched, 503 with
 * Retry-After when no usable key can be had (500, HTML, garbage, hang, dropped connection),
 * a timeout on every fetch, bad keys skipped, events for operators, warmUp.
 */
import { KeyObject } from 'node:crypto';
import { KeySourceUnavailableError, KEY_ERROR_CODES, type JwksOptions } from 'express-m2m';
import { createKeySource, type KeySource } from 'express-m2m/extend';
import { createLocalIssuer, type Fault, type LocalIssuer } from 'express-m2m/testing';
import { eventLog, fakeClock, settle } from './support.js';

let issuer: LocalIssuer;
const sources: KeySource[] = [];

beforeAll(async () => {
  issuer = await createLocalIssuer({ alg: 'ES256' });
});
beforeEach(() => {
  issuer.clearFaults();
  issuer.resetCounts();
});
afterEach(() => {
  for (const source of sources.splice(0)) source.close?.();
});
afterAll(async () => {
  await issuer.close();
});

function jwksSource(jwks: JwksOptions = {}, jwksUri: string | (() => Promise<string>) = issuer.jwksUri) {
  const clock = fakeClock();
  const events = eventLog();
  const source = createKeySource({ jwksUri, jwks, now: clock.now, onEvent: events.onEvent });
  sources.push(source);
  return { source, clock, events };
}

const selector = () => ({ alg: 'ES256', kid: issuer.currentKid() });

describe('outage: keys already fetched keep working for the bounded stale window (maxStale)', () => {
  test('served stale past their lifetime while the JWKS fails, then 503 once the window ends', async () => {
    const { source, clock, events } = jwksSource({ cacheMaxAge: 600_000, maxStale: 3_600_000, cooldownDuration: 30_000 });
    const key = await source.getKey(selector());
    const generation = source.generation;
    issuer.setFault('jwks', { status: 500 });

    // Expired, no outage known yet: this request checks the JWKS, which fails, and gets the stale key.
    clock.advance(600_000);
    expect(await source.getKey(selector())).toBe(key);
    expect(issuer.counts.jwks).toBe(2);
    expect(events.of('keys.fetch_failed')).toHaveLength(1);
    expect(events.of('keys.stale_used')).toEqual([{ type: 'keys.stale_used', uri: issuer.jwksUri, ageMs: 600_000 }]);

    // During the cooldown: synchronously stale, no request.
    clock.advance(10_000);
    expect(source.getKey(selector())).toBe(key);
    expect(issuer.counts.jwks).toBe(2);

    // After the cooldown: still answered at once, with one retry in the background.
    clock.advance(20_000);
    expect(source.getKey(selector())).toBe(key);
    await source.warmUp().catch(() => undefined);
    expect(issuer.counts.jwks).toBe(3);
    expect(events.of('keys.fetch_failed')).toHaveLength(2);

    // The end of the stale window: keys no longer trusted (caches were told so by freshUntil),
    // the lookup that finds them so drops them: generation changes, 503.
    clock.advance(600_000 + 3_600_000 - 630_000);
    expect(source.freshUntil).toBeLessThanOrEqual(clock.now());
    const { error } = await settle(source, selector());
    expect(error).toBeInstanceOf(KeySourceUnavailableError);
    expect(error?.status).toBe(503);
    expect(source.generation).toBeGreaterThan(generation);

    // Recovery: after the cooldown the next request fetches again.
    issuer.clearFaults();
    clock.advance(30_000);
    expect(await source.getKey(selector())).toBeInstanceOf(KeyObject);
  });

  test('maxStale: 0 means no stale keys at all', async () => {
    const { source, clock, events } = jwksSource({ maxStale: 0 });
    await source.getKey(selector());
    issuer.setFault('jwks', { status: 502 });
    clock.advance(600_000);
    expect((await settle(source, selector())).error).toBeInstanceOf(KeySourceUnavailableError);
    expect(events.of('keys.stale_used')).toHaveLength(0);
  });

  test('a failed refresh inside the lifetime is reported but the key is not stale yet', async () => {
    const { source, clock, events } = jwksSource({ cacheMaxAge: 600_000, refreshAheadDuration: 60_000 });
    const key = await source.getKey(selector());
    issuer.setFault('jwks', { status: 500 });
    clock.advance(550_000);
    expect(source.getKey(selector())).toBe(key);
    await source.warmUp().catch(() => undefined);
    expect(events.of('keys.fetch_failed')).toHaveLength(1);
    expect(events.of('keys.stale_used')).toHaveLength(0);
  });

  test('an unknown kid during an outage is a 503 (the issuer could not be asked), not a 401', async () => {
    const { source, clock } = jwksSource();
    await source.getKey(selector());
    issuer.setFault('jwks', { status: 503 });
    clock.advance(30_000);
    const first = await settle(source, { alg: 'ES256', kid: 'new-key-maybe' });
    expect(first.error).toBeInstanceOf(KeySourceUnavailableError);
    expect(() => source.getKey({ alg: 'ES256', kid: 'another' })).toThrow(KeySourceUnavailableError);
    expect(issuer.counts.jwks).toBe(2);
    // Known keys still work.
    expect(source.getKey(selector())).toBeInstanceOf(KeyObject);
  });
});

describe('503 with Retry-After when no usable key can be had (500, HTML, garbage, hang, dropped connection)', () => {
  const faults: [string, Fault][] = [
    ['HTTP 500', { status: 500 }],
    ['HTTP 404', { status: 404 }],
    ['an HTML page with 200', { html: true }],
    ['a body that is not JSON', { body: 'definitely not json' }],
    ['a JSON array', { body: '[1, 2, 3]' }],
    ['JSON without "keys"', { body: '{"issuer":"x"}' }],
    ['"keys" not an array', { body: '{"keys":"nope"}' }],
    ['only unusable keys', { body: '{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"RSA","n":"bad"}]}' }],
    ['a dropped connection', { destroy: true }],
    ['a hang (timeout)', { hang: true }],
  ];
  test.each(faults)('%s', async (_name, fault) => {
    issuer.setFault('jwks', fault);
    const { source, clock, events } = jwksSource({ timeoutDuration: 300, cooldownDuration: 30_000 });
    const { error } = await settle(source, selector());
    expect(error).toBeInstanceOf(KeySourceUnavailableError);
    expect(error?.status).toBe(503);
    // The first failure cools down for 1 s: Retry-After is the true time until the next attempt.
    expect(error?.headers).toEqual({ 'Retry-After': '1' });
    expect(error?.message).toBe("the token issuer's keys are temporarily unavailable");
    expect(events.of('keys.fetch_failed')).toHaveLength(1);
    expect(issuer.counts.jwks).toBe(1);

    // Within the cooldown: answered at once, no new request.
    clock.advance(500);
    expect(() => source.getKey(selector())).toThrow(expect.objectContaining({ retryAfter: 1 }));
    expect(issuer.counts.jwks).toBe(1);
    clock.advance(500);
    // Each consecutive failure doubles the cooldown, up to cooldownDuration (30 s); one attempt each.
    for (const [attempt, cooldown] of [[2, 2], [3, 4], [4, 8], [5, 16], [6, 30], [7, 30]] as const) {
      const next = await settle(source, selector());
      expect(next.error).toBeInstanceOf(KeySourceUnavailableError);
      expect(next.error?.headers).toEqual({ 'Retry-After': String(cooldown) });
      expect(issuer.counts.jwks).toBe(attempt);
      clock.advance(cooldown * 1000 - 400);
      expect(() => source.getKey(selector())).toThrow(expect.objectContaining({ retryAfter: 1 }));
      expect(issuer.counts.jwks).toBe(attempt);
      clock.advance(400);
    }
  });

  test('concurrent requests during a hang share one request and all get 503', async () => {
    issuer.setFault('jwks', { hang: true });
    const { source } = jwksSource({ timeoutDuration: 200 });
    const results = await Promise.all(Array.from({ length: 20 }, () => settle(source, selector())));
    expect(results.every((result) => result.error instanceof KeySourceUnavailableError)).toBe(true);
    expect(issuer.counts.jwks).toBe(1);
  });

  test('an empty key set is the issuer\'s word: 401, not 503', async () => {
    issuer.setFault('jwks', { body: '{"keys":[]}' });
    const { source, events } = jwksSource();
    expect((await settle(source, selector())).error?.code).toBe(KEY_ERROR_CODES.noMatchingKey);
    expect(events.of('keys.fetched')).toEqual([{ type: 'keys.fetched', uri: issuer.jwksUri, keyCount: 0 }]);
  });
});

describe('every fetch has a timeout (timeoutDuration, default 5 s)', () => {
  test('a slow JWKS fails after timeoutDuration with a message naming the URL', async () => {
    issuer.setFault('jwks', { delay: 2000 });
    const { source, events } = jwksSource({ timeoutDuration: 100 });
    await expect(source.warmUp()).rejects.toThrow(`${issuer.jwksUri} did not answer within 100 ms`);
    expect(events.of('keys.fetch_failed')[0]?.error.message).toBe(`${issuer.jwksUri} did not answer within 100 ms`);
  });

  test('the default is 5000 ms', async () => {
    const { JWKS_DEFAULTS } = await import('express-m2m');
    expect(JWKS_DEFAULTS.timeoutDuration).toBe(5000);
    expect(JWKS_DEFAULTS.cooldownDuration).toBe(30_000);
  });
});

describe('a JWKS with some invalid keys: the bad ones are skipped, the good ones used', () => {
  test('private, symmetric, encryption, malformed, weak and unsupported keys are skipped with a reason', async () => {
    const good = issuer.publicJwks().keys[0]!;
    const privateJwk = { ...(issuer.privateKey().export({ format: 'jwk' }) as Record<string, unknown>), kid: 'private' };
    const weakRsa = { kty: 'RSA', kid: 'weak', e: 'AQAB', n: Buffer.alloc(128, 0xff).toString('base64url') };
    const body = {
      keys: [
        'not-an-object',
        { kty: 'oct', kid: 'hmac', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0' },
        privateJwk,
        { ...good, kid: 'enc', use: 'enc' },
        { ...good, kid: 'decrypt-only', key_ops: ['decrypt'] },
        { kty: 'EC', kid: 'broken', crv: 'P-256', x: 'AAAA', y: 'AAAA' },
        weakRsa,
        { ...good, kid: 'declared-rs256', alg: 'RS256' },
        { kty: 'OKP', kid: 'x25519', crv: 'X25519', x: 'hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo' },
        good,
      ],
    };
    issuer.setFault('jwks', { body: JSON.stringify(body) });
    const { source, events } = jwksSource();
    expect(await source.getKey(selector())).toBeInstanceOf(KeyObject);
    expect(events.of('keys.fetched')[0]?.keyCount).toBe(1);
    const skipped = Object.fromEntries(events.of('keys.key_skipped').map((event) => [event.kid ?? '(none)', event.reason]));
    expect(skipped).toEqual({
      '(none)': 'not a JSON object',
      hmac: 'a symmetric key (kty "oct") is never used from a public key set',
      private: 'it contains private key material',
      enc: '"use" is not "sig"',
      'decrypt-only': '"key_ops" does not include "verify"',
      broken: 'it is not a valid EC public key',
      weak: 'it fits no supported algorithm: the RSA key has 1024 bits, fewer than 2048',
      'declared-rs256': 'its "alg" RS256 does not fit the key: RS256 needs an RSA key, the key is EC P-256',
      x25519: 'it fits no supported algorithm: EdDSA needs an Ed25519 key, the key is x25519',
    });
    expect((await settle(source, { alg: 'ES256', kid: 'private' })).error?.code).toBe(KEY_ERROR_CODES.noMatchingKey);
  });
});

describe('events let operators see fetches, failures, stale keys and unknown kids', () => {
  test('a throwing listener never breaks key lookups', async () => {
    const source = createKeySource({ jwksUri: issuer.jwksUri, onEvent: () => { throw new Error('listener bug'); } });
    sources.push(source);
    expect(await source.getKey(selector())).toBeInstanceOf(KeyObject);
  });

  test('the event sequence of a normal start, an unknown kid and a failure', async () => {
    const { source, clock, events } = jwksSource();
    await source.getKey(selector());
    clock.advance(30_000);
    await settle(source, { alg: 'ES256', kid: 'nope' });
    await settle(source, { alg: 'ES256', kid: 'nope' });
    issuer.setFault('jwks', { status: 500 });
    clock.advance(600_000);
    await settle(source, selector());
    expect(events.all.map((event) => event.type)).toEqual([
      'keys.fetched',
      'keys.unknown_kid',
      'keys.fetched',
      'keys.unknown_kid',
      'keys.fetch_failed',
      'keys.stale_used',
    ]);
    expect(events.of('keys.unknown_kid')).toEqual([
      { type: 'keys.unknown_kid', uri: issuer.jwksUri, kid: 'nope', refetched: true },
      { type: 'keys.unknown_kid', uri: issuer.jwksUri, kid: 'nope', refetched: false },
    ]);
    const failed = events.of('keys.fetch_failed')[0]!;
    expect(failed.uri).toBe(issuer.jwksUri);
    expect(failed.error.message).toBe(`${issuer.jwksUri} answered HTTP 500`);
  });
});

describe('warmUp() fetches the keys now', () => {
  test('after warmUp the first request answers synchronously', async () => {
    const { source } = jwksSource();
    await source.warmUp();
    expect(issuer.counts.jwks).toBe(1);
    expect(source.getKey(selector())).toBeInstanceOf(KeyObject);
    await source.warmUp();
    expect(issuer.counts.jwks).toBe(1);
  });

  test('warmUp rejects with the reason, so an application can refuse to start', async () => {
    issuer.setFault('jwks', { html: true });
    const { source } = jwksSource();
    await expect(source.warmUp()).rejects.toThrow(`${issuer.jwksUri} did not answer with JSON`);
    // An explicit warmUp tries again even within the cooldown.
    issuer.clearFaults();
    await expect(source.warmUp()).resolves.toBeUndefined();
    expect(issuer.counts.jwks).toBe(2);
  });

  test('static and secret sources warm up at once', async () => {
    await expect(createKeySource({ secret: 's'.repeat(32) }).warmUp()).resolves.toBeUndefined();
    await expect(createKeySource({ publicKey: issuer.publicKeyPem() }).warmUp()).resolves.toBeUndefined();
  });
});

describe('jwksUri as a function (the jwks_uri found by discovery)', () => {
  test('is called per fetch, not per request', async () => {
    let calls = 0;
    const { source } = jwksSource({}, async () => {
      calls += 1;
      return issuer.jwksUri;
    });
    await source.getKey(selector());
    source.getKey(selector());
    expect(calls).toBe(1);
  });

  test('when it throws, the issuer counts as unreachable: 503 with the error as cause', async () => {
    const failure = new Error('discovery failed');
    const { source, events } = jwksSource({}, async () => { throw failure; });
    const { error } = await settle(source, selector());
    expect(error).toBeInstanceOf(KeySourceUnavailableError);
    expect((error?.cause as Error).message).toBe('the jwks_uri could not be discovered');
    expect(events.of('keys.fetch_failed')[0]?.uri).toBe('(jwks_uri from discovery)');
  });

  test('a non-http(s) answer is a failure too', async () => {
    const { source } = jwksSource({}, async () => 'file:///etc/passwd');
    expect((await settle(source, selector())).error).toBeInstanceOf(KeySourceUnavailableError);
  });
});
