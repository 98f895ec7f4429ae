/**
 * RFC 9449 section 11.1: a proof is accepted once. The `jti` of each accepted proof is recorded
 * for as long as the proof could be accepted: in memory by default (bounded: a full store refuses
 * with 503, it never drops a live record), or in Redis shared by replicas, so a proof replayed to
 * another process is refused too. A store that cannot answer gets a 503 with Retry-After and a
 * `dpop.replay_store_failed` event: replay protection never silently vanishes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { memoryReplayStore } from 'express-m2m';
import { redisReplayStore } from 'express-m2m/redis';
import { createLocalIssuer, type DpopKeyPair, type LocalIssuer } from 'express-m2m/testing';
import { describeRedis, REDIS_URL } from '../caches/redis-support.js';
import { AUDIENCE, boundToken, createDpopProof, dpopHeaders, generateDpopKey, startApi, type DpopApi } from './support.js';

let issuer: LocalIssuer;
let key: DpopKeyPair;
let token: string;
beforeAll(async () => {
  issuer = await createLocalIssuer();
  key = generateDpopKey();
  token = await boundToken(issuer, key);
});
afterAll(async () => {
  await issuer.close();
});

describe('RFC 9449 section 11.1: a proof replayed to the same process is refused (memory store, the default)', () => {
  let api: DpopApi;
  beforeAll(async () => {
    api = await startApi(issuer);
  });
  afterAll(async () => {
    await api.close();
  });

  test('the same proof twice: 200, then 401 invalid_dpop_proof ERR_DPOP_REPLAYED; a new proof passes', async () => {
    const headers = dpopHeaders(api, key, token);
    expect((await api.call('/orders', headers)).status).toBe(200);
    const replayed = await api.call('/orders', headers);
    expect(replayed.status).toBe(401);
    expect(replayed.challenge).toMatch(/^DPoP error="invalid_dpop_proof", error_description="the DPoP proof was used before[^"]*", algs="/);
    expect(api.events.filter((event) => event.type === 'auth.rejected').map((event) => (event as { code: string }).code)).toEqual(['ERR_DPOP_REPLAYED']);
    expect((await api.call('/orders', dpopHeaders(api, key, token))).status).toBe(200);
  });

  test('another proof with the same jti is a replay too', async () => {
    const jti = 'the-same-jti';
    expect((await api.call('/orders', dpopHeaders(api, key, token, '/orders', { jti }))).status).toBe(200);
    const again = await api.call('/orders', dpopHeaders(api, key, token, '/orders', { jti, iat: Math.floor(Date.now() / 1000) - 1 }));
    expect(again.status).toBe(401);
  });

  test('a refused proof is not recorded: the same jti in a good proof passes after a broken one', async () => {
    const jti = 'first-broken';
    expect((await api.call('/orders', dpopHeaders(api, key, token, '/orders', { jti, claims: { htm: 'POST' } }))).status).toBe(401);
    expect((await api.call('/orders', dpopHeaders(api, key, token, '/orders', { jti }))).status).toBe(200);
  });
});

describe('memoryReplayStore: bounded; a full store refuses (503), it never forgets a live proof', () => {
  test('records a key until it expires', () => {
    const store = memoryReplayStore();
    expect(store.remember('a', 2000, 1000)).toBe(true);
    expect(store.remember('a', 2000, 1500)).toBe(false);
    expect(store.remember('a', 3000, 2000)).toBe(true);
  });

  test('maxEntries live proofs: the next throws (a 503 for the request); expired ones are swept first', () => {
    const store = memoryReplayStore({ maxEntries: 2 });
    expect(store.remember('a', 2000, 1000)).toBe(true);
    expect(store.remember('b', 5000, 1000)).toBe(true);
    expect(() => store.remember('c', 5000, 1000)).toThrow(/the DPoP replay store is full \(2 live proofs\)/);
    expect(store.remember('a', 5000, 1000)).toBe(false);
    expect(store.remember('c', 6000, 2500)).toBe(true); // 'a' expired at 2000 and was swept
  });

  test('through requireAuth: 503 with Retry-After and a dpop.replay_store_failed event', async () => {
    const api = await startApi(issuer, { dpop: { replayStore: memoryReplayStore({ maxEntries: 1 }) } });
    try {
      expect((await api.call('/orders', dpopHeaders(api, key, token))).status).toBe(200);
      const response = await fetch(`${api.url}/orders`, { headers: dpopHeaders(api, key, token) });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(response.headers.get('www-authenticate')).toBeNull();
      const failed = api.events.find((event) => event.type === 'dpop.replay_store_failed') as { error: Error } | undefined;
      expect(failed?.error.message).toMatch(/full/);
    } finally {
      await api.close();
    }
  });

  test('bad options are refused, naming the option', () => {
    expect(() => memoryReplayStore({ maxEntries: 0 })).toThrow('memoryReplayStore: "maxEntries" must be a positive integer');
  });
});

describeRedis('RFC 9449 section 11.1 across replicas: redisReplayStore (SET NX PX, one key per command)', () => {
  const keyPrefix = `test:dpop-replay:${process.pid}:${Date.now()}:`;

  test('a proof accepted by one process is refused by another process sharing Redis', async () => {
    const children: ChildProcess[] = [];
    const ports: number[] = [];
    try {
      for (let i = 0; i < 2; i += 1) {
        const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'replay-api.ts')], {
          cwd: join(__dirname, '..', '..'),
          env: { ...process.env, CHILD_CONFIG: JSON.stringify({ issuer: issuer.url, audience: AUDIENCE, redisUrl: REDIS_URL, keyPrefix, publicBaseUrl: 'https://api.orders.test' }) },
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        children.push(child);
        const [chunk] = await once(child.stdout!, 'data') as [Buffer];
        ports.push(Number(chunk.toString().trim()));
      }
      const proof = createDpopProof({ key, htm: 'GET', htu: 'https://api.orders.test/orders', accessToken: token });
      const headers = { authorization: `DPoP ${token}`, dpop: proof };
      const first = await fetch(`http://127.0.0.1:${ports[0]}/orders`, { headers });
      expect(first.status).toBe(200);
      const replayed = await fetch(`http://127.0.0.1:${ports[1]}/orders`, { headers });
      expect(replayed.status).toBe(401);
      expect(replayed.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof", error_description="the DPoP proof was used before/);
      const fresh = createDpopProof({ key, htm: 'GET', htu: 'https://api.orders.test/orders', accessToken: token });
      expect((await fetch(`http://127.0.0.1:${ports[1]}/orders`, { headers: { authorization: `DPoP ${token}`, dpop: fresh } })).status).toBe(200);
    } finally {
      for (const child of children) {
        child.stdin?.end();
        if (child.exitCode === null) await once(child, 'exit');
      }
    }
  }, 30_000);

  test('the record is one key with the prefix and an expiry within the proof window', async () => {
    const { Redis } = await import('ioredis');
    const client = new Redis(REDIS_URL);
    const store = redisReplayStore({ client, keyPrefix });
    try {
      const now = Date.now();
      expect(await store.remember('k1', now + 60_000, now)).toBe(true);
      expect(await store.remember('k1', now + 60_000, now)).toBe(false);
      const ttl = await client.pttl(`${keyPrefix}k1`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    } finally {
      await client.del(`${keyPrefix}k1`);
      client.disconnect();
    }
  });

  test('Redis unreachable: 503 with Retry-After and a dpop.replay_store_failed event, never an unchecked admission', async () => {
    const replayStore = redisReplayStore({ url: 'redis://127.0.0.1:1', operationTimeout: 300 });
    const api = await startApi(issuer, { dpop: { replayStore } });
    try {
      const response = await fetch(`${api.url}/orders`, { headers: dpopHeaders(api, key, token) });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect((await response.json() as { error: string }).error).toBe('temporarily_unavailable');
      const failed = api.events.find((event) => event.type === 'dpop.replay_store_failed') as { error: Error } | undefined;
      expect(failed?.error.message).toMatch(/^Redis SET (failed|did not answer)/);
      expect(JSON.stringify(api.events)).not.toContain(token);
      // A Bearer request does not need the store.
      const plain = await issuer.accessToken({ audience: AUDIENCE });
      expect((await api.call('/orders', { authorization: `Bearer ${plain}` })).status).toBe(200);
    } finally {
      await api.close();
      await replayStore.close?.();
    }
  });

  test('bad options are refused, naming the option', () => {
    expect(() => redisReplayStore({})).toThrow('redisReplayStore: give exactly one of "client" and "url"');
    expect(() => redisReplayStore({ url: 'http://x' })).toThrow('redisReplayStore: "url" must be a redis:// or rediss:// URL');
  });
});
