/**
 * Cross-process single-flight against slow and failing token endpoints (issue 3: "N processes on a
 * cold cache cause one token request"). Each replica is its own provider with its own Redis
 * connection, sharing one real Redis (REDIS_URL), so they coordinate only through Redis:
 * - the lock lives at least as long as its holder's worst case, so a slow endpoint is not a herd;
 * - the holder shares a short failure marker (code, status, OAuth error, until; no secret, no
 *   token), so N replicas against a 500 or invalid_client endpoint make the requests of one.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { clientCredentials, TokenRequestError } from 'express-m2m';
import type { ClientCredentialsOptions, OutboundEvent, TokenProvider } from 'express-m2m';
import { redisTokenCache } from 'express-m2m/redis';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';
import { describeRedis, REDIS_URL } from './redis-support.js';

const AUDIENCE = 'https://billing.example.test';
const RUN_PREFIX = `express-m2m-test:${process.pid}:${randomUUID()}:`;
const REPLICAS = 8;
let issuer: LocalIssuer;
let clientId: string;
let clientSecret: string;
let redis: Redis;
const closers: (() => Promise<void>)[] = [];
let prefix: string;
let testNumber = 0;

/** `count` replicas: separate providers and Redis connections on one key prefix. */
function replicas(count: number, options: Partial<ClientCredentialsOptions> = {}) {
  const events: OutboundEvent[][] = [];
  const providers: TokenProvider[] = [];
  for (let i = 0; i < count; i += 1) {
    const cache = redisTokenCache({ url: REDIS_URL, keyPrefix: prefix });
    const own: OutboundEvent[] = [];
    const provider = clientCredentials({
      tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, cache,
      onEvent: (event) => own.push(event),
      ...options,
    });
    closers.push(() => provider.close(), () => cache.close());
    events.push(own);
    providers.push(provider);
  }
  return { providers, events };
}

/** Every replica asks for a token at once; the outcomes (token or error code). */
async function herd(providers: TokenProvider[]): Promise<string[]> {
  return Promise.all(providers.map((p) => p.getToken().then(
    (token) => `token:${token.slice(-12)}`,
    (error: unknown) => (error instanceof TokenRequestError ? `error:${error.code}:${error.status ?? ''}:${error.error ?? ''}` : `other:${String(error)}`),
  )));
}

describeRedis('cross-process single-flight holds for slow and failing token endpoints (REDIS_URL)', () => {
  beforeAll(async () => {
    issuer = await createLocalIssuer();
    ({ clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] }) as { clientId: string; clientSecret: string });
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await Promise.all(closers.map((close) => close()));
    const leftovers = await redis.keys(`${RUN_PREFIX}*`);
    if (leftovers.length > 0) await redis.del(...leftovers);
    redis.disconnect();
    await issuer.close();
  });
  beforeEach(() => {
    issuer.clearFaults();
    issuer.resetCounts();
    testNumber += 1;
    prefix = `${RUN_PREFIX}${testNumber}:`;
  });

  describe('a slow endpoint: the lock outlives the holder\'s request, so waiters wait instead of fetching', () => {
    it(`${REPLICAS} replicas, an endpoint answering after 1.5 s, lockDuration 500 -> 1 token request`, async () => {
      issuer.setFault('token', { delay: 1500 });
      // lockDuration shorter than the answer: the lock must still live the holder's worst case
      const { providers } = replicas(REPLICAS, { lockDuration: 500, timeoutDuration: 5000 });
      const outcomes = await herd(providers);
      expect(new Set(outcomes).size).toBe(1);
      expect(outcomes[0]).toMatch(/^token:/);
      expect(issuer.counts.token).toBe(1);
    }, 30_000);
  });

  describe('close() ends a wait for another process\'s lock at once', () => {
    it('a replica polling a lock held elsewhere rejects with ERR_TOKEN_PROVIDER_CLOSED when closed', async () => {
      const [probe] = replicas(1).providers;
      await probe?.getToken();
      const [valueKey] = (await redis.keys(`${prefix}*`)).filter((key) => !key.endsWith(':lock'));
      await redis.del(valueKey as string);
      await redis.set(`${valueKey}:lock`, 'another-process', 'PX', 60_000);
      issuer.resetCounts();
      const [waiter] = replicas(1).providers as [TokenProvider];
      const pending = waiter.getToken().then(() => undefined, (error: unknown) => error);
      await new Promise((resolve) => setTimeout(resolve, 100)); // let it poll a few times
      await waiter.close();
      expect(await pending).toMatchObject({ code: 'ERR_TOKEN_PROVIDER_CLOSED' });
      expect(issuer.counts.token).toBe(0);
    }, 10_000);
  });

  describe('a failing endpoint: the holder shares its failure, waiters latch on it', () => {
    it(`500: one replica makes 3 requests (maxRetries 2), ${REPLICAS} replicas make the same 3`, async () => {
      issuer.setFault('token', { status: 500 });
      const one = replicas(1, { retryBaseDelay: 10, retryMaxDelay: 20 });
      expect(await herd(one.providers)).toEqual(['error:ERR_TOKEN_ENDPOINT_FAILED:500:server_error']);
      const single = issuer.counts.token;
      expect(single).toBe(3);

      issuer.resetCounts();
      testNumber += 1;
      prefix = `${RUN_PREFIX}${testNumber}:`; // a fresh shared cache (no marker from the single replica)
      const many = replicas(REPLICAS, { retryBaseDelay: 10, retryMaxDelay: 20 });
      const outcomes = await herd(many.providers);
      expect(outcomes).toEqual(Array.from({ length: REPLICAS }, () => 'error:ERR_TOKEN_ENDPOINT_FAILED:500:server_error'));
      expect(issuer.counts.token).toBe(single);
    }, 30_000);

    it(`invalid_client: ${REPLICAS} replicas make 1 request per cooldown overall, and the marker holds no secret`, async () => {
      let clock = Date.now();
      const { providers } = replicas(REPLICAS, { clientSecret: 'wrong-secret-0123456789', now: () => clock });
      const expected = Array.from({ length: REPLICAS }, () => 'error:ERR_TOKEN_REJECTED:401:invalid_client');
      expect(await herd(providers)).toEqual(expected);
      expect(issuer.counts.token).toBe(1);
      expect(await herd(providers)).toEqual(expected); // within the cooldown: no request
      expect(issuer.counts.token).toBe(1);

      const markers = (await redis.keys(`${prefix}*`)).filter((key) => key.endsWith(':failed'));
      expect(markers).toHaveLength(1);
      const marker = (await redis.get(markers[0] as string)) as string;
      expect(marker).not.toContain('wrong-secret');
      expect(JSON.parse(marker)).toMatchObject({ code: 'ERR_TOKEN_REJECTED', status: 401, error: 'invalid_client' });
      expect(await redis.pttl(markers[0] as string)).toBeGreaterThan(0);

      clock += 5000; // the first cooldown (5 s) is over: one replica tries again, for all of them
      expect(await herd(providers)).toEqual(expected);
      expect(issuer.counts.token).toBe(2);
      clock += 9999; // the second cooldown doubled to 10 s
      expect(await herd(providers)).toEqual(expected);
      expect(issuer.counts.token).toBe(2);
    }, 30_000);

    it('after the marker\'s cooldown a working endpoint gives every replica the same single token', async () => {
      let clock = Date.now();
      issuer.setFault('token', { status: 503, body: '{"error":"temporarily_unavailable"}' });
      const { providers } = replicas(REPLICAS, { maxRetries: 0, now: () => clock });
      await herd(providers);
      expect(issuer.counts.token).toBe(1);
      issuer.clearFaults();
      clock += 5000;
      const outcomes = await herd(providers);
      expect(new Set(outcomes).size).toBe(1);
      expect(outcomes[0]).toMatch(/^token:/);
      expect(issuer.counts.token).toBe(2);
    }, 30_000);
  });
});
