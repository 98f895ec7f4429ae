/**
 * The Redis token cache on a real local Redis Cluster (6 redis-server processes: 3 masters, 3
 * replicas, started by test/caches/redis-topology.ts), through an ioredis `Cluster` client:
 * - N processes on a cold cache make one token request, although the value, lock and
 *   failure-marker keys of a token sit in different slots (every command touches one key);
 * - a `{hash tag}` in `keyPrefix` puts all of them in one slot, and everything still works;
 * - `url` (or a plain `Redis`) pointed at one cluster node is refused with a message saying to
 *   pass `new Cluster([...])`, instead of silently losing sharing;
 * - killing the master of the token key's slot mid-run fails no call, and the token requests stay
 *   bounded.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { clientCredentials, TokenRequestError } from 'express-m2m';
import type { ClientCredentialsOptions, OutboundEvent, TokenProvider } from 'express-m2m';
import { redisTokenCache, type RedisTokenCache } from 'express-m2m/redis';
import { createLocalIssuer } from 'express-m2m/testing';
import type { LocalIssuer } from 'express-m2m/testing';
import { aclFor, documentedAclUsers } from './redis-acl.js';
import { runChildren } from './redis-children.js';
import { runThroughFailover } from './redis-failover.js';
import { describeTopology, startCluster, type ClusterTopology } from './redis-topology.js';

const AUDIENCE = 'https://billing.example.test';
let cluster: ClusterTopology;
let issuer: LocalIssuer;
let clientId: string;
let clientSecret: string;
const closers: (() => Promise<void>)[] = [];
let prefix: string;

function clusterClient(): Cluster {
  const client = new Cluster(cluster.nodes);
  client.on('error', () => undefined);
  closers.push(async () => client.disconnect());
  return client;
}

function cacheOn(keyPrefix = prefix): RedisTokenCache {
  return redisTokenCache({ client: clusterClient(), keyPrefix });
}

function replicas(count: number, options: Partial<ClientCredentialsOptions> = {}, keyPrefix = prefix) {
  const events: OutboundEvent[] = [];
  const providers: TokenProvider[] = [];
  for (let i = 0; i < count; i += 1) {
    const provider = clientCredentials({
      tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, cache: cacheOn(keyPrefix),
      onEvent: (event) => events.push(event),
      ...options,
    });
    closers.push(() => provider.close());
    providers.push(provider);
  }
  return { providers, events };
}

async function herd(providers: TokenProvider[]): Promise<string[]> {
  return Promise.all(providers.map((p) => p.getToken().then(
    (token) => `token:${token.slice(-12)}`,
    (error: unknown) => (error instanceof TokenRequestError ? `error:${error.code}:${error.status ?? ''}` : `other:${String(error)}`),
  )));
}

describeTopology('the Redis token cache on a Redis Cluster (3 masters, 3 replicas)', () => {
  beforeAll(async () => {
    cluster = await startCluster();
    issuer = await createLocalIssuer();
    ({ clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] }) as { clientId: string; clientSecret: string });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(closers.map((close) => close().catch(() => undefined)));
    await issuer?.close();
    await cluster?.stop();
  }, 30_000);
  beforeEach(() => {
    issuer.clearFaults();
    issuer.resetCounts();
    prefix = `t:${randomUUID()}:`;
  });

  describe('cold start: one token request for N processes', () => {
    it('4 child processes x 50 concurrent getToken() on a Cluster client -> 1 request, one shared token', async () => {
      const config = { tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, cluster: cluster.nodes, keyPrefix: prefix };
      const results = await runChildren(4, config, () => issuer.setFault('token', { delay: 50 }));
      expect(issuer.counts.token).toBe(1);
      expect(new Set(results.flatMap((r) => r.tokens)).size).toBe(1);
      expect(results.flatMap((r) => r.events)).not.toContain('cache.fallback');
    }, 60_000);
  });

  describe('value, lock and failure marker in different slots: correct, since every command and script touches one key', () => {
    it('the three keys of one token hash to different slots, and replicas against a 500 share the lock and the failure marker', async () => {
      const [probe] = replicas(1).providers as [TokenProvider];
      await probe.getToken();
      const [valueKey] = await cluster.keys(`${prefix}*`);
      const slots = new Set([await cluster.slotOf(valueKey as string), await cluster.slotOf(`${valueKey}:lock`), await cluster.slotOf(`${valueKey}:failed`)]);
      expect(slots.size).toBeGreaterThan(1);

      prefix = `t:${randomUUID()}:`;
      issuer.resetCounts();
      issuer.setFault('token', { status: 500 });
      const one = { retryBaseDelay: 10, retryMaxDelay: 20 };
      const { providers, events } = replicas(6, one);
      expect(await herd(providers)).toEqual(Array.from({ length: 6 }, () => 'error:ERR_TOKEN_ENDPOINT_FAILED:500'));
      expect(issuer.counts.token).toBe(3); // one replica's attempts (maxRetries 2), not 6 x 3
      expect(events.map((e) => e.type)).not.toContain('cache.fallback');
    }, 30_000);
  });

  describe('a {hash tag} in keyPrefix puts every key of the cache in one slot', () => {
    it('value, lock and marker share the tag\'s slot; tokens, the lock and failure markers work as before', async () => {
      const tagged = `{express-m2m-${randomUUID()}}:token:`;
      const { providers, events } = replicas(4, {}, tagged);
      const outcomes = await herd(providers);
      expect(new Set(outcomes).size).toBe(1);
      expect(issuer.counts.token).toBe(1);
      const [valueKey] = await cluster.keys(`${tagged.replace(/[{}]/g, '\\$&')}*`);
      expect(valueKey).toBeDefined();
      const tagSlot = await cluster.slotOf(tagged.slice(1, tagged.indexOf('}')));
      for (const key of [valueKey as string, `${valueKey}:lock`, `${valueKey}:failed`]) expect(await cluster.slotOf(key)).toBe(tagSlot);
      expect(events.map((e) => e.type)).not.toContain('cache.fallback');

      issuer.resetCounts();
      const wrong = replicas(4, { clientSecret: 'wrong-secret-0123456789' }, `{express-m2m-${randomUUID()}}:token:`);
      expect(await herd(wrong.providers)).toEqual(Array.from({ length: 4 }, () => 'error:ERR_TOKEN_REJECTED:401'));
      expect(issuer.counts.token).toBe(1); // one request, its invalid_client shared through the marker
    }, 30_000);
  });

  describe('url (or a plain Redis) at one cluster node: refused with a clear message, never a silent loss of sharing', () => {
    const advice = /is a Redis Cluster node; .*pass an ioredis Cluster as "client" instead \(redisTokenCache\(\{ client: new Cluster\(\[/;

    // The connections of these tests end with them: the failover test below kills nodes.
    it('url: every operation fails with the message, and the provider\'s cache.fallback event carries it', async () => {
      const node = cluster.nodes[0] as { host: string; port: number };
      const cache = redisTokenCache({ url: `redis://${node.host}:${node.port}`, keyPrefix: prefix });
      const events: OutboundEvent[] = [];
      const provider = clientCredentials({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE, cache, onEvent: (e) => events.push(e) });
      try {
        await expect(cache.get('any')).rejects.toThrow(advice);
        await expect(cache.lock('any', 1000)).rejects.toThrow(advice);
        await provider.getToken(); // from memory: the call itself still works
        const fallback = events.find((e) => e.type === 'cache.fallback') as { error: Error } | undefined;
        expect(fallback?.error.message).toMatch(advice);
        expect(fallback?.error.message).toContain(`${node.host}:${node.port}`);
      } finally {
        await provider.close();
        await cache.close();
      }
    });

    it('a plain Redis client at a node gets the same message', async () => {
      const node = cluster.nodes[1] as { host: string; port: number };
      const client = new Redis(node);
      client.on('error', () => undefined);
      try {
        const token = { accessToken: 'a', tokenType: 'Bearer', obtainedAt: 0, expiresAt: Date.now() + 60_000 };
        await expect(redisTokenCache({ client, keyPrefix: prefix }).set('any', token, 1000)).rejects.toThrow(advice);
      } finally {
        client.disconnect();
      }
    });

    it('a user that may not run INFO: the MOVED answer names the fix', async () => {
      const user = `no-info-${randomUUID()}`;
      const password = randomUUID();
      await cluster.onEveryNode('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '+@all', '-info');
      // A node that is not the master of the key's slot answers MOVED (a replica too, without READONLY).
      const master = await cluster.masterOf(`${prefix}x`);
      const other = cluster.servers.find((server) => server.port !== master.port) as { port: number };
      const client = new Redis({ host: '127.0.0.1', port: other.port, username: user, password, enableReadyCheck: false });
      client.on('error', () => undefined);
      try {
        const error = await redisTokenCache({ client, keyPrefix: prefix }).get('x').then(() => undefined, (caught: Error) => caught);
        expect(error?.message).toMatch(/^Redis GET failed: ReplyError: MOVED \d+ [\d.:]+: this connection is to one node of a Redis Cluster, so the token would not be shared; pass an ioredis Cluster as "client" instead/);
      } finally {
        client.disconnect();
        await cluster.onEveryNode('ACL', 'DELUSER', user);
      }
    });
  });

  describe('the ACL user of docs/redis.md for a Cluster (on every node) is enough', () => {
    it('4 replicas share one token with only the documented commands, and no command is refused', async () => {
      const user = `acl-${randomUUID()}`;
      const password = randomUUID();
      await cluster.onEveryNode('ACL', ...aclFor(documentedAclUsers()[1] as string[], user, password, prefix));
      const clients = Array.from({ length: 4 }, () => {
        const client = new Cluster(cluster.nodes, { redisOptions: { username: user, password } });
        client.on('error', () => undefined);
        return client;
      });
      try {
        const events: OutboundEvent[] = [];
        const providers = clients.map((client) => {
          const provider = clientCredentials({
            tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, audience: AUDIENCE,
            cache: redisTokenCache({ client, keyPrefix: prefix }), onEvent: (event) => events.push(event),
          });
          closers.push(() => provider.close());
          return provider;
        });
        expect(new Set(await herd(providers)).size).toBe(1);
        expect(issuer.counts.token).toBe(1);
        expect(events.map((e) => e.type)).not.toContain('cache.fallback');
      } finally {
        for (const client of clients) client.disconnect();
        await cluster.onEveryNode('ACL', 'DELUSER', user);
      }
    });
  });

  describe('the master of the token key\'s slot killed mid-run', () => {
    it('0 failed calls; the token requests stay bounded; every provider is back on the Cluster after the failover', async () => {
      const tokenLifetime = 4; // s: usable 3 s (margin 1/4), refreshed from 2.25 s: refreshes fall in the outage
      const { clientId: id, clientSecret: secret } = issuer.registerClient({ audiences: [AUDIENCE], tokenLifetime }) as { clientId: string; clientSecret: string };
      const cacheRetryDuration = 1000;
      let killed: number | undefined;
      const result = await runThroughFailover({
        issuer, clientId: id, clientSecret: secret, audience: AUDIENCE, replicas: 4, cacheRetryDuration, tokenLifetime,
        cache: () => {
          const client = new Cluster(cluster.nodes);
          client.on('error', () => undefined);
          const cache = redisTokenCache({ client, keyPrefix: prefix });
          return { cache, close: async () => client.disconnect() };
        },
        kill: async () => {
          const [valueKey] = await cluster.keys(`${prefix}*`);
          const master = await cluster.masterOf(valueKey as string);
          killed = master.port;
          await master.kill();
        },
        healed: () => cluster.waitHealthy(30_000),
      });
      if (process.env.REDIS_TOPOLOGY_REPORT === '1') console.log('cluster failover', JSON.stringify(result));
      expect(killed).toBeDefined();
      expect(result.failures).toEqual([]);
      expect(result.calls).toBeGreaterThan(100);
      expect(result.fallbacks).toBeGreaterThan(0); // the outage was seen...
      expect(result.recoveries).toBe(result.fallbacks); // ...and every provider is back on the Cluster
      // Bounded: one shared refresh per 2.25 s, plus, for each of the 5 providers, its own
      // refreshes while it works from memory (outage + cacheRetryDuration + operationTimeout).
      const period = 2250;
      const bound = 1 + Math.ceil(result.duration / period) + 5 * (1 + Math.ceil((result.outage + cacheRetryDuration + 1000) / period));
      expect(result.tokenRequests).toBeLessThanOrEqual(bound);
    }, 90_000);
  });
});
