/**
 * RFC 9449 section 11.1 on a real Redis Cluster (6 redis-server processes, test/caches/redis-topology.ts):
 * redisReplayStore touches one key per command, so two APIs sharing a `Cluster` client's cluster
 * refuse each other's replayed proofs whatever slot each record lands in.
 */
import { Cluster } from 'ioredis';
import { redisReplayStore } from 'express-m2m/redis';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { describeTopology, startCluster, type ClusterTopology } from '../caches/redis-topology.js';
import { boundToken, createDpopProof, generateDpopKey, startApi } from './support.js';

describeTopology('redisReplayStore on a Redis Cluster', () => {
  let cluster: ClusterTopology;
  let issuer: LocalIssuer;
  const clients: Cluster[] = [];
  beforeAll(async () => {
    cluster = await startCluster();
    issuer = await createLocalIssuer();
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await issuer?.close();
    await cluster?.stop();
  }, 30_000);

  test('proofs recorded across slots; a proof replayed to the other API is refused', async () => {
    const keyPrefix = `test:dpop-cluster:${Date.now()}:`;
    const store = () => {
      const client = new Cluster(cluster.nodes);
      client.on('error', () => undefined);
      clients.push(client);
      return redisReplayStore({ client, keyPrefix });
    };
    const a = await startApi(issuer, { publicBaseUrl: 'https://api.orders.test', dpop: { replayStore: store() } });
    const b = await startApi(issuer, { publicBaseUrl: 'https://api.orders.test', dpop: { replayStore: store() } });
    try {
      const key = generateDpopKey();
      const token = await boundToken(issuer, key);
      const proofs = Array.from({ length: 8 }, () => createDpopProof({ key, htm: 'GET', htu: 'https://api.orders.test/orders', accessToken: token }));
      for (const proof of proofs) expect((await a.call('/orders', { authorization: `DPoP ${token}`, dpop: proof })).status).toBe(200);
      for (const proof of proofs) {
        const replayed = await b.call('/orders', { authorization: `DPoP ${token}`, dpop: proof });
        expect(replayed.status).toBe(401);
        expect(replayed.challenge).toMatch(/error="invalid_dpop_proof", error_description="the DPoP proof was used before/);
      }
      const records = await cluster.keys(`${keyPrefix}*`);
      expect(records).toHaveLength(8);
      expect(new Set(await Promise.all(records.map((record) => cluster.slotOf(record)))).size).toBeGreaterThan(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 60_000);
});
