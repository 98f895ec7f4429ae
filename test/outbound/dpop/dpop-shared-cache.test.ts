/**
 * Shared caches and DPoP (documented promise: a DPoP-bound token is only usable with its key, so
 * the key's thumbprint is part of the cache key): providers with different DPoP keys sharing one
 * cache (in memory, in Redis, and real processes sharing Redis) keep separate tokens, each usable
 * with its own key; providers configured with the same key share one token.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID, generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { clientCredentials, MemoryTokenCache, type TokenProvider } from 'express-m2m';
import type { TokenCache } from 'express-m2m/extend';
import { redisTokenCache } from 'express-m2m/redis';
import { describeRedis, REDIS_URL } from '../../caches/redis-support.js';
import {
  CLIENT_ID, CLIENT_SECRET, startAuthorizationServer, startResourceServer, type TestAuthorizationServer, type TestResourceServer,
} from './dpop-servers.js';

const RUN_PREFIX = `express-m2m-test:dpop:${process.pid}:${randomUUID()}:`;
const keyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
let as: TestAuthorizationServer;
let rs: TestResourceServer;
const providers: TokenProvider[] = [];

beforeAll(async () => {
  as = await startAuthorizationServer();
  rs = await startResourceServer(as);
});
afterAll(async () => {
  await Promise.all([as.close(), rs.close()]);
});
beforeEach(() => {
  as.reset();
  rs.reset();
});
afterEach(async () => {
  await Promise.all(providers.splice(0).map((provider) => provider.close()));
});

function provider(cache: TokenCache, dpop: unknown): TokenProvider {
  const made = clientCredentials({
    tokenEndpoint: as.tokenEndpoint, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, audience: 'https://api.example', cache, dpop: dpop as never,
  });
  providers.push(made);
  return made;
}

function sharing(makeCache: () => { cache: TokenCache; done: () => Promise<void> }): void {
  it('gives providers with different (generated) keys separate tokens, each bound to its own key and usable', async () => {
    const { cache, done } = makeCache();
    const one = provider(cache, true);
    const two = provider(cache, true);
    const [a, b] = [await one.getToken(), await two.getToken()];
    expect(a).not.toBe(b);
    expect(as.requests).toHaveLength(2);
    expect(decodeJwt(a).cnf).toEqual({ jkt: one.dpop!.jkt });
    expect(decodeJwt(b).cnf).toEqual({ jkt: two.dpop!.jkt });
    expect((await one.fetch(`${rs.url}/a`)).status).toBe(200);
    expect((await two.fetch(`${rs.url}/a`)).status).toBe(200);
    await done();
  });

  it('lets providers configured with the same key share one token', async () => {
    const { cache, done } = makeCache();
    const one = provider(cache, { key: keyPem });
    const two = provider(cache, { key: keyPem });
    expect(await two.getToken()).toBe(await one.getToken());
    expect(as.requests).toHaveLength(1);
    expect((await two.fetch(`${rs.url}/a`)).status).toBe(200);
    await done();
  });

  it('keeps a DPoP provider and a Bearer provider of the same client apart', async () => {
    const { cache, done } = makeCache();
    const bound = provider(cache, { key: keyPem });
    const bearer = provider(cache, undefined);
    const [a, b] = [await bound.getTokenSet(), await bearer.getTokenSet()];
    expect([a.tokenType, b.tokenType]).toEqual(['DPoP', 'Bearer']);
    expect(a.accessToken).not.toBe(b.accessToken);
    await done();
  });
}

describe('a shared MemoryTokenCache: the DPoP key\'s thumbprint is part of the cache key', () => {
  sharing(() => ({ cache: new MemoryTokenCache(), done: async () => undefined }));
});

describeRedis('a shared redisTokenCache: the DPoP key\'s thumbprint is part of the cache key (REDIS_URL)', () => {
  let redis: Redis;
  let testNumber = 0;
  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await redis.ping();
  });
  afterAll(async () => {
    const leftovers = await redis.keys(`${RUN_PREFIX}*`);
    if (leftovers.length > 0) await redis.del(...leftovers);
    redis.disconnect();
  });

  sharing(() => {
    testNumber += 1;
    const cache = redisTokenCache({ url: REDIS_URL, keyPrefix: `${RUN_PREFIX}${testNumber}:` });
    return { cache, done: () => cache.close() };
  });

  describe('processes sharing Redis', () => {
    interface ChildResult { token: string; jkt: string; status: number }

    async function runChildren(count: number, config: Record<string, unknown>): Promise<ChildResult[]> {
      const fixture = join(__dirname, 'fixtures', 'dpop-redis-child.ts');
      const children: ChildProcess[] = [];
      try {
        const results = Array.from({ length: count }, () => {
          const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
            cwd: join(__dirname, '..', '..', '..'),
            env: { ...process.env, CHILD_CONFIG: JSON.stringify(config) },
            stdio: ['pipe', 'pipe', 'inherit'],
          });
          children.push(child);
          let text = '';
          child.stdout?.setEncoding('utf8');
          const lines = new Promise<string[]>((resolve, reject) => {
            child.stdout?.on('data', (chunk: string) => {
              text += chunk;
              if (text.split('\n').length >= 3) resolve(text.split('\n'));
            });
            child.once('exit', (code) => reject(new Error(`child exited with ${code}: ${text}`)));
          });
          const ready = new Promise<void>((resolve, reject) => {
            child.stdout?.on('data', () => { if (text.startsWith('ready\n')) resolve(); });
            child.once('exit', (code) => reject(new Error(`child exited with ${code}: ${text}`)));
          });
          return { child, ready, lines };
        });
        await Promise.all(results.map((result) => result.ready));
        for (const { child } of results) child.stdin?.end('go\n');
        const outputs = await Promise.all(results.map((result) => result.lines));
        await Promise.all(children.map((child) => (child.exitCode === null ? once(child, 'exit') : undefined)));
        return outputs.map((lines) => JSON.parse(lines[1]!) as ChildResult);
      } finally {
        for (const child of children) if (child.exitCode === null) child.kill();
      }
    }

    const config = (prefix: string, extra: Record<string, unknown> = {}) => ({
      tokenEndpoint: as.tokenEndpoint, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redisUrl: REDIS_URL,
      keyPrefix: `${RUN_PREFIX}${prefix}:`, resourceUrl: rs.url, ...extra,
    });

    it('with keys generated per process: separate entries, each token bound to its process\'s key and usable', async () => {
      const results = await runChildren(2, config('generated'));
      expect(new Set(results.map((result) => result.jkt)).size).toBe(2);
      expect(new Set(results.map((result) => result.token)).size).toBe(2);
      for (const result of results) {
        expect(decodeJwt(result.token).cnf).toEqual({ jkt: result.jkt });
        expect(result.status).toBe(200);
      }
      expect(as.requests).toHaveLength(2);
    }, 30_000);

    it('with one configured key: one token request, the token shared and usable by both', async () => {
      const results = await runChildren(2, config('shared', { keyPem }));
      expect(new Set(results.map((result) => result.jkt)).size).toBe(1);
      expect(new Set(results.map((result) => result.token)).size).toBe(1);
      expect(results.map((result) => result.status)).toEqual([200, 200]);
      expect(as.requests).toHaveLength(1);
    }, 30_000);
  });
});
