/**
 * The Redis token cache behind Sentinel (a master, its replica and 3 sentinels, started by
 * test/caches/redis-topology.ts), through an ioredis `Redis` with the `sentinels` option:
 * - replicas on a cold cache make one token request;
 * - killing the master mid-run fails no call, the token requests stay bounded, and every provider
 *   is back on Redis (the promoted replica) after the failover.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { clientCredentials } from 'express-m2m';
import type { OutboundEvent, TokenProvider } from 'express-m2m';
import { redisTokenCache } from 'express-m2m/redis';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';
import { runThroughFailover } from './redis-failover.js';
import { describeTopology, startSentinel, waitFor, type SentinelTopology } from './redis-topology.js';

const AUDIENCE = 'https://billing.example.test';
let topology: SentinelTopology;
let issuer: LocalIssuer;
let clientId: string;
let clientSecret: string;
const closers: (() => Promise<void>)[] = [];
let prefix: string;

function sentinelClient(): Redis {
  const client = new Redis({ sentinels: topology.sentinels, name: topology.name });
  client.on('error', () => undefined);
  return client;
}

describeTopology('the Redis token cache behind Sentinel (1 master, 1 replica, 3 sentinels)', () => {
  beforeAll(async () => {
    topology = await startSentinel();
    issuer = await createLocalIssuer();
    ({ clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] }) as { clientId: string; clientSecret: string });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(closers.map((close) => close().catch(() => undefined)));
    await issuer?.close();
    await topology?.stop();
  }, 30_000);
  beforeEach(() => {
    issuer.clearFaults();
    issuer.resetCounts();
    prefix = `t:${randomUUID()}:`;
  });

  describe('cold start: one token request for N replicas', () => {
    it('8 providers, each on its own Sentinel connection, x 20 concurrent getToken() -> 1 request, one token', async () => {
      const events: OutboundEvent[] = [];
      const providers: TokenProvider[] = [];
      for (let i = 0; i < 8; i += 1) {
        const client = sentinelClient();
        await client.ping(); // connected (through the sentinels) before the herd
        const provider = clientCredentials({
          tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE,
          cache: redisTokenCache({ client, keyPrefix: prefix }), onEvent: (event) => events.push(event),
        });
        closers.push(() => provider.close(), async () => client.disconnect());
        providers.push(provider);
      }
      issuer.setFault('token', { delay: 50 }); // keep the first request in flight while the others look
      const tokens = await Promise.all(providers.flatMap((provider) => Array.from({ length: 20 }, () => provider.getToken())));
      expect(issuer.counts.token).toBe(1);
      expect(new Set(tokens).size).toBe(1);
      expect(events.map((e) => e.type)).not.toContain('cache.fallback');
    });
  });

  describe('the master killed mid-run', () => {
    it('0 failed calls; the token requests stay bounded; every provider is back on Redis after the failover', async () => {
      const tokenLifetime = 4; // s: usable 3 s (margin 1/4), refreshed from 2.25 s: refreshes fall in the outage
      const { clientId: id, clientSecret: secret } = issuer.registerClient({ audiences: [AUDIENCE], tokenLifetime }) as { clientId: string; clientSecret: string };
      const cacheRetryDuration = 1000;
      const result = await runThroughFailover({
        issuer, clientId: id, clientSecret: secret, audience: AUDIENCE, replicas: 4, cacheRetryDuration, tokenLifetime,
        cache: () => {
          const client = sentinelClient();
          const cache = redisTokenCache({ client, keyPrefix: prefix });
          return { cache, close: async () => client.disconnect() };
        },
        kill: () => topology.master.kill(),
        healed: () => waitFor('the replica promoted', async () => (await topology.currentMasterPort()) === topology.replica.port, 30_000),
      });
      if (process.env.REDIS_TOPOLOGY_REPORT === '1') console.log('sentinel failover', JSON.stringify(result));
      expect(result.failures).toEqual([]);
      expect(result.calls).toBeGreaterThan(100);
      expect(result.fallbacks).toBeGreaterThan(0); // the outage was seen...
      expect(result.recoveries).toBe(result.fallbacks); // ...and every provider is back on Redis
      // Bounded as on the Cluster: one shared refresh per 2.25 s, plus, for each of the 5
      // providers, its own refreshes while it works from memory.
      const period = 2250;
      const bound = 1 + Math.ceil(result.duration / period) + 5 * (1 + Math.ceil((result.outage + cacheRetryDuration + 1000) / period));
      expect(result.tokenRequests).toBeLessThanOrEqual(bound);
    }, 90_000);
  });
});
