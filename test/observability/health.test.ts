/**
 * docs/observability.md "Health": auth.health() and provider.health() are plain objects derived
 * from the components' own state (key set phases, failure cooldowns, the shared cache's
 * fallback): per issuer keys fresh, stale or missing with ages and the last error; per token
 * source the token at hand, seconds to expiry, the last error, the latch, the shared cache.
 * None carries a secret or a token. A fake clock drives the ages; a local issuer the outages.
 */
import { clientCredentials, createVerifier, requireAuth, type TokenSet } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';

const AUDIENCE = 'https://api.orders.test';
const RS_SECRET = 'rs-secret-not-in-health';
let issuer: LocalIssuer;
let now = Date.now();

beforeAll(async () => {
  issuer = await createLocalIssuer({ now: () => now, clients: [{ clientId: 'orders-api', clientSecret: RS_SECRET, audiences: [AUDIENCE] }] });
});
afterAll(async () => {
  await issuer.close();
});
beforeEach(() => {
  now = Date.now();
  issuer.clearFaults();
});

describe('auth.health(): per issuer, keys fresh / stale / missing, their age, the last error', () => {
  test('missing before the first fetch, fresh after it, stale (degraded) during an outage past their max age', async () => {
    const auth = requireAuth({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE, now: () => now, jwks: { cacheMaxAge: 60_000, maxStale: 600_000 } });
    expect(auth.health()).toEqual({ status: 'ok', issuers: [{ issuer: issuer.issuer, keys: { source: 'jwks', uri: issuer.jwksUri, state: 'missing' } }] });
    await auth.warmUp();
    now += 30_000;
    expect(auth.health()).toEqual({ status: 'ok', issuers: [{ issuer: issuer.issuer, keys: { source: 'jwks', uri: issuer.jwksUri, state: 'fresh', ageSeconds: 30 } }] });

    issuer.setFault('jwks', { status: 503 });
    now += 40_000;
    const token = await issuer.accessToken({ audience: AUDIENCE });
    await new Promise<void>((resolve) => {
      // A request past the keys' max age: answered with the stale keys, the refetch fails.
      auth({ headers: { authorization: `Bearer ${token}` }, method: 'GET', url: '/', get: () => undefined } as never, {} as never, () => resolve());
    });
    await new Promise((resolve) => setImmediate(resolve));
    const health = auth.health();
    auth.close();
    expect(health.status).toBe('degraded');
    expect(health.issuers[0]?.keys).toEqual({
      source: 'jwks', uri: issuer.jwksUri, state: 'stale', ageSeconds: 70,
      lastError: { name: 'UpstreamError', code: 'ERR_UPSTREAM', status: 503, message: `${issuer.jwksUri} answered HTTP 503`, ageSeconds: 0 },
      retryInSeconds: 1,
    });
  });

  test('down: no keys and the last fetch failed', async () => {
    issuer.setFault('jwks', { status: 500 });
    const auth = requireAuth({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE, now: () => now });
    await expect(auth.warmUp()).rejects.toThrow();
    now += 2000;
    const health = auth.health();
    auth.close();
    expect(health).toEqual({
      status: 'down',
      issuers: [{ issuer: issuer.issuer, keys: expect.objectContaining({ state: 'missing', lastError: expect.objectContaining({ status: 500, ageSeconds: 2 }) }) }],
    });
  });

  test('several issuers, a shared secret (always fresh), introspection failures; no secret in the view', async () => {
    const secret = 'a-shared-hs256-secret-of-32-bytes!!';
    const auth = requireAuth({
      audience: AUDIENCE, now: () => now,
      issuers: [
        { issuer: 'https://hs.example/', secret },
        { issuerBaseURL: issuer.url, introspection: { clientId: 'orders-api', clientSecret: RS_SECRET } },
      ],
    });
    issuer.setFault('introspection', { status: 500 });
    const opaque = issuer.mintOpaqueToken({ audience: AUDIENCE });
    await new Promise<void>((resolve) => {
      auth({ headers: { authorization: `Bearer ${opaque}` }, method: 'GET', url: '/', get: () => undefined } as never, {} as never, () => resolve());
    });
    const health = auth.health();
    auth.close();
    expect(health.status).toBe('degraded');
    expect(health.issuers).toEqual([
      { issuer: 'https://hs.example/', keys: { source: 'static', state: 'fresh' } },
      expect.objectContaining({ issuer: issuer.url, introspection: { consecutiveFailures: 1, retryInSeconds: 1 } }),
    ]);
    const text = JSON.stringify(health);
    for (const hidden of [secret, RS_SECRET, opaque, Buffer.from(`orders-api:${RS_SECRET}`).toString('base64')]) expect(text).not.toContain(hidden);
  });

  test('createVerifier on its own keeps the view of its parts (the health registry follows the copy)', async () => {
    const verifier = createVerifier({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE });
    await verifier.warmUp();
    const { healthOf } = await import('../../src/lib/health-registry.js');
    expect(healthOf(verifier, Date.now())).toMatchObject({ issuer: issuer.issuer, keys: { state: 'fresh' } });
    verifier.close();
  });
});

describe('provider.health(): the token at hand, the last error, the latch, the shared cache', () => {
  test('no token yet; a token with its seconds to expiry; never the token or the secret', async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] }) as { clientId: string; clientSecret: string };
    const provider = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, now: () => now });
    expect(provider.health()).toEqual({
      status: 'ok', clientId, audience: AUDIENCE, endpoint: issuer.tokenEndpoint, tokenPresent: false, refreshing: false, latched: false, sharedCache: 'memory',
    });
    const token: TokenSet = await provider.getTokenSet();
    now += 10_000;
    const health = provider.health();
    await provider.close();
    // Usable until its expiry less the 60 s margin.
    expect(health).toMatchObject({ status: 'ok', tokenPresent: true, expiresInSeconds: Math.floor((token.expiresAt - 60_000 - now) / 1000), latched: false });
    const text = JSON.stringify(health);
    expect(text).not.toContain(token.accessToken);
    expect(text).not.toContain(clientSecret);
  });

  test('a refused client: down, latched, the error named by its code', async () => {
    const { clientId } = issuer.registerClient({ audiences: [AUDIENCE] });
    const provider = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret: 'wrong-secret-value', audience: AUDIENCE, now: () => now });
    await expect(provider.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_REJECTED' });
    now += 1000;
    const health = provider.health();
    await provider.close();
    expect(health).toMatchObject({
      status: 'down', tokenPresent: false, latched: true, retryInSeconds: 4,
      lastError: { name: 'TokenRequestError', code: 'ERR_TOKEN_REJECTED', ageSeconds: 1 },
    });
    expect(JSON.stringify(health)).not.toContain('wrong-secret-value');
  });

  test('a shared cache that fails: fallback (degraded), the provider still works from memory', async () => {
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] }) as { clientId: string; clientSecret: string };
    const down = () => Promise.reject(new Error('connection refused'));
    const provider = clientCredentials({
      tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, now: () => now,
      cache: { get: down, set: down, delete: down },
    });
    await provider.getToken();
    const health = provider.health();
    await provider.close();
    expect(health).toMatchObject({ status: 'degraded', tokenPresent: true, sharedCache: 'fallback' });
  });
});
