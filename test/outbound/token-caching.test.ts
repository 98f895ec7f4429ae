/**
 * Caching and single-flight: one token request for any number of concurrent callers, tokens cached
 * per (endpoint, client, audience, scope, resource), expiry from `expires_in` and the JWT's `exp`
 * (sooner wins), and a documented default lifetime for tokens that say nothing.
 */
import { clientCredentials, MemoryTokenCache } from 'express-m2m';
import type { TokenProvider } from 'express-m2m';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';

const AUDIENCE = 'https://billing.example.test';
let issuer: LocalIssuer;
let clientId: string;
let clientSecret: string;
const providers: TokenProvider[] = [];

function provider(options: Partial<Parameters<typeof clientCredentials>[0]> = {}): TokenProvider {
  const created = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, ...options });
  providers.push(created);
  return created;
}

beforeAll(async () => {
  issuer = await createLocalIssuer();
  ({ clientId, clientSecret } = issuer.registerClient({
    audiences: [AUDIENCE, 'https://ledger.example.test'],
    scopes: ['read', 'write'],
  }) as { clientId: string; clientSecret: string });
});
afterAll(async () => {
  await Promise.all(providers.map((p) => p.close()));
  await issuer.close();
});
beforeEach(() => {
  issuer.clearFaults();
  issuer.resetCounts();
});

describe('single-flight: concurrent callers on a cold cache cause one token request', () => {
  it('500 concurrent getToken() -> exactly 1 request, everyone gets the same token', async () => {
    issuer.setFault('token', { delay: 30 }); // the request is still in flight while callers pile up
    const p = provider();
    const tokens = await Promise.all(Array.from({ length: 500 }, () => p.getToken()));
    expect(issuer.counts.token).toBe(1);
    expect(new Set(tokens).size).toBe(1);
  });

  it('later calls are served from the cache without a request', async () => {
    const p = provider();
    const first = await p.getToken();
    for (let i = 0; i < 20; i += 1) expect(await p.getToken()).toBe(first);
    expect(issuer.counts.token).toBe(1);
  });

  it('500 concurrent forceRefresh calls share one new request', async () => {
    const p = provider();
    const old = await p.getToken();
    issuer.resetCounts();
    issuer.setFault('token', { delay: 30 });
    const tokens = await Promise.all(Array.from({ length: 500 }, () => p.getToken({ forceRefresh: true })));
    expect(issuer.counts.token).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(old);
  });
});

describe('cache key: per (endpoint, client, audience, scope, resource), never the secret', () => {
  it('providers sharing one cache share a token only when they ask for the same thing', async () => {
    const cache = new MemoryTokenCache();
    const a = provider({ cache, scope: ['read', 'write'] });
    const sameInOtherOrder = provider({ cache, scope: 'write read' });
    const otherScope = provider({ cache, scope: 'read' });
    const otherAudience = provider({ cache, audience: 'https://ledger.example.test', scope: ['read', 'write'] });
    const token = await a.getToken();
    expect(await sameInOtherOrder.getToken()).toBe(token);
    expect(issuer.counts.token).toBe(1);
    expect(await otherScope.getToken()).not.toBe(token);
    expect(await otherAudience.getToken()).not.toBe(token);
    expect(issuer.counts.token).toBe(3);
    expect(cache.size).toBe(3);
  });
});

describe('expiry: the sooner of expires_in and the JWT exp; a default lifetime when neither', () => {
  let clock: number;
  const now = () => clock;
  beforeEach(() => {
    clock = Date.now();
  });

  function answer(body: Record<string, unknown>): void {
    issuer.setFault('token', { status: 200, body: JSON.stringify(body), times: 1 });
  }

  it('uses expires_in when it is sooner than the JWT exp', async () => {
    const jwt = await issuer.sign({ exp: Math.floor(clock / 1000) + 7200 });
    answer({ access_token: jwt, token_type: 'Bearer', expires_in: 600 });
    const set = await provider({ now, expiryMargin: 0 }).getTokenSet();
    expect(set.expiresAt).toBe(clock + 600_000);
  });

  it('uses the JWT exp when it is sooner than expires_in', async () => {
    const exp = Math.floor(clock / 1000) + 900;
    const jwt = await issuer.sign({ exp });
    answer({ access_token: jwt, token_type: 'Bearer', expires_in: 86_400 });
    const set = await provider({ now, expiryMargin: 0 }).getTokenSet();
    expect(set.expiresAt).toBe(exp * 1000);
  });

  it('gives an opaque token without expires_in the default lifetime (5 min): cached, then refetched', async () => {
    answer({ access_token: 'opaque-token-1', token_type: 'Bearer' });
    const p = provider({ now, refreshWindow: [1, 1] });
    const set = await p.getTokenSet();
    expect(set.expiresAt).toBe(clock + 300_000);
    for (let i = 0; i < 5; i += 1) expect(await p.getToken()).toBe('opaque-token-1'); // not refetched per call
    expect(issuer.counts.token).toBe(1);
    clock += 300_000 - 60_000 - 1; // one ms before the 60 s margin
    expect(await p.getToken()).toBe('opaque-token-1');
    clock += 1;
    expect(await p.getToken()).not.toBe('opaque-token-1'); // not cached forever either
    expect(issuer.counts.token).toBe(2);
  });

  it('honours a configured defaultLifetime', async () => {
    answer({ access_token: 'opaque-token-2', token_type: 'bearer' });
    expect((await provider({ now, defaultLifetime: 120_000 }).getTokenSet()).expiresAt).toBe(clock + 120_000);
  });

  it('caps the margin at a quarter of the lifetime, so a 60 s token is used for 45 s', async () => {
    answer({ access_token: 'short-lived', token_type: 'Bearer', expires_in: 60 });
    const p = provider({ now, refreshWindow: [1, 1] });
    await p.getToken();
    clock += 44_999;
    expect(await p.getToken()).toBe('short-lived');
    clock += 1;
    expect(await p.getToken()).not.toBe('short-lived');
  });

  it('rejects a token that is already expired on arrival', async () => {
    const jwt = await issuer.sign({ exp: Math.floor(clock / 1000) - 10 });
    issuer.setFault('token', { status: 200, body: JSON.stringify({ access_token: jwt, token_type: 'Bearer', expires_in: 3600 }) });
    await expect(provider({ now, maxRetries: 0 }).getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_RESPONSE_INVALID' });
  });
});
