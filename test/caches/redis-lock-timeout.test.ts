/**
 * A lock SET NX that Redis performs but whose answer comes after `operationTimeout` must not leave
 * an unowned lock behind (the other processes would wait its whole lifetime): the store releases it
 * (compare-and-delete with its own owner) after the timeout. Redis is reached through a TCP proxy
 * that can delay Redis's answers.
 */
import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { redisTokenCache } from 'express-m2m/redis';
import { describeRedis, REDIS_URL } from './redis-support.js';

const PREFIX = `express-m2m-test:${process.pid}:${randomUUID()}:`;
let proxy: Server;
let proxyUrl: string;
let answerDelay = 0;
const sockets: Socket[] = [];
let admin: Redis;

describeRedis('a lock whose SET NX answer times out is released, not left to block others', () => {
  beforeAll(async () => {
    const target = new URL(REDIS_URL);
    proxy = createServer((client) => {
      const upstream = connect(Number(target.port || 6379), target.hostname || '127.0.0.1');
      sockets.push(client, upstream);
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        if (answerDelay === 0) client.write(chunk);
        else setTimeout(() => client.writable && client.write(chunk), answerDelay);
      });
      const end = () => { client.destroy(); upstream.destroy(); };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `redis://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    const leftovers = await admin.keys(`${PREFIX}*`);
    if (leftovers.length > 0) await admin.del(...leftovers);
    admin.disconnect();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => proxy.close(resolve));
  });

  it('lock() rejects after operationTimeout and the lock it may have taken is gone', async () => {
    const cache = redisTokenCache({ url: proxyUrl, keyPrefix: PREFIX, operationTimeout: 100 });
    try {
      await cache.client.ping();
      answerDelay = 400;
      await expect(cache.lock('k', 60_000)).rejects.toThrow(/Redis SET did not answer within 100 ms/);
      // Redis did take it (only its answer was late); the release goes in order behind the SET on the
      // same connection: wait for the (delayed) answers, then the lock must be gone
      await cache.client.ping();
      expect(await admin.exists(`${PREFIX}k:lock`)).toBe(0);
    } finally {
      answerDelay = 0;
      await cache.close();
    }
  });
});
