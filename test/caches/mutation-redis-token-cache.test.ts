/**
 * RedisTokenCache (src/caches/redis/redis-token-cache.ts), operation by operation: the rules the
 * mutation run (docs/mutation-testing.md) needs pinned beyond the provider-level Redis suites.
 * Options refused at construction with the option named; what a value, a lock and a failure
 * marker are stored as (key, fields, TTL), and what is read back as missing; what `close()`
 * closes; how the connection opened for a `url` fails, retries, reconnects and keeps its errors
 * quiet (against a closed port and a TLS port that never answers). Against the real Redis of
 * `REDIS_URL`, under a random key prefix.
 *
 * The answers a healthy server never gives (a Cluster node's `INFO`, MOVED/ASK/CLUSTERDOWN to a
 * plain connection, an error with unprintable bytes, a refused `INFO`) come from a small RESP
 * server on 127.0.0.1 (or a Unix socket) that answers each command as the test scripts it: the
 * errors built from them, the one topology check, and when it is asked again.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisTokenCache, redisTokenCache } from '../../src/caches/redis/redis-token-cache.js';
import type { TokenSet } from '../../src/caches/token-cache.js';
import { describeRedis, REDIS_URL } from './redis-support.js';

const PREFIX = `express-m2m-test:${process.pid}:${randomUUID()}:`;
const USE_CLUSTER = 'pass an ioredis Cluster as "client" instead (redisTokenCache({ client: new Cluster([{ host, port }, ...]) }), see docs/redis.md "Redis in production")';

function tokenSet(extra: Partial<TokenSet> & Record<string, unknown> = {}): TokenSet {
  const now = Date.now();
  return { accessToken: `at-${randomUUID()}`, tokenType: 'Bearer', obtainedAt: now, expiresAt: now + 600_000, ...extra } as TokenSet;
}

function thrown(build: () => unknown): Error {
  try {
    build();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the construction to throw');
}

describe('options refused at construction, each naming the option', () => {
  test.each([[null], ['redis://127.0.0.1:6379'], [undefined]])('options %p: not an object', (options) => {
    const error = thrown(() => redisTokenCache(options as never));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('redisTokenCache: options must be an object');
  });

  test('neither or both of client and url', () => {
    expect(thrown(() => redisTokenCache({})).message).toBe('redisTokenCache: give exactly one of "client" and "url"');
    const client = new Redis(REDIS_URL, { lazyConnect: true });
    expect(thrown(() => redisTokenCache({ client, url: REDIS_URL })).message).toBe('redisTokenCache: give exactly one of "client" and "url"');
    client.disconnect();
  });

  test.each([[0], [-5], [Number.NaN], [Number.POSITIVE_INFINITY], ['500']])('operationTimeout %p', (operationTimeout) => {
    const error = thrown(() => redisTokenCache({ url: REDIS_URL, operationTimeout: operationTimeout as number }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('redisTokenCache: "operationTimeout" must be a positive number of milliseconds');
  });

  test('keyPrefix that is not a string', () => {
    const error = thrown(() => redisTokenCache({ url: REDIS_URL, keyPrefix: 42 as unknown as string }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('redisTokenCache: "keyPrefix" must be a string');
  });

  test.each([[null], [{}], [{ set: 'not a function' }], ['redis://127.0.0.1:6379']])('client %p: not an ioredis client', (client) => {
    const error = thrown(() => redisTokenCache({ client: client as never }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('redisTokenCache: "client" must be an ioredis client (Redis or Cluster)');
  });

  test.each([['http://127.0.0.1:6379'], ['redis:/127.0.0.1'], ['x-redis://127.0.0.1'], ['redisss://127.0.0.1'], [6379]])('url %p: not a redis:// URL', (url) => {
    const error = thrown(() => redisTokenCache({ url: url as string }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('redisTokenCache: "url" must be a redis:// or rediss:// URL');
  });

  test('a misspelt option is refused by name, by redisTokenCache', () => {
    expect(() => redisTokenCache({ url: REDIS_URL, keyprefix: 'x' } as never)).toThrow(/^redisTokenCache: .*keyprefix/);
  });

  test('a url that only converts to a redis:// URL, a function with a set method: refused', () => {
    expect(thrown(() => redisTokenCache({ url: { toString: () => REDIS_URL } as unknown as string })).message).toBe('redisTokenCache: "url" must be a redis:// or rediss:// URL');
    const fn = Object.assign(() => undefined, { set: () => undefined });
    expect(thrown(() => redisTokenCache({ client: fn as never })).message).toBe('redisTokenCache: "client" must be an ioredis client (Redis or Cluster)');
  });

  test('rediss:// is a URL it takes (TLS); the default key prefix', async () => {
    const cache = redisTokenCache({ url: 'rediss://127.0.0.1:1', operationTimeout: 50 });
    expect(cache.keyPrefix).toBe('express-m2m:token:');
    await cache.close();
  });
});

describeRedis('values, locks and failure markers as stored in Redis', () => {
  let admin: Redis;
  let cache: RedisTokenCache;

  beforeAll(() => {
    admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    cache = redisTokenCache({ url: REDIS_URL, keyPrefix: PREFIX });
  });
  afterAll(async () => {
    const leftovers = await admin.keys(`${PREFIX}*`);
    if (leftovers.length > 0) await admin.del(...leftovers);
    admin.disconnect();
    await cache.close();
  });

  test('a value: under prefix + key, with exactly the token fields (no others), for floor(ttl) ms', async () => {
    const key = randomUUID();
    const token = tokenSet({ refreshToken: 'never stored', raw: { access_token: 'x' } });
    await cache.set(key, token, 5000.9);
    const stored = JSON.parse((await admin.get(PREFIX + key)) as string);
    expect(stored).toEqual({ accessToken: token.accessToken, tokenType: 'Bearer', expiresAt: token.expiresAt, obtainedAt: token.obtainedAt });
    const pttl = await admin.pttl(PREFIX + key);
    expect(pttl).toBeLessThanOrEqual(5000);
    expect(pttl).toBeGreaterThan(4000);
    await expect(cache.get(key)).resolves.toEqual(stored);
  });

  test('scope and integrity are stored when the token has them', async () => {
    const key = randomUUID();
    const token = tokenSet({ scope: 'read write', integrity: 'mac' });
    await cache.set(key, token, 60_000);
    expect(JSON.parse((await admin.get(PREFIX + key)) as string)).toEqual({
      accessToken: token.accessToken, tokenType: 'Bearer', expiresAt: token.expiresAt, obtainedAt: token.obtainedAt, scope: 'read write', integrity: 'mac',
    });
  });

  test('a TTL under 1 ms stores nothing; 1.9 ms stores for 1 ms', async () => {
    const key = randomUUID();
    await cache.set(key, tokenSet(), 0.9);
    expect(await admin.exists(PREFIX + key)).toBe(0);
    await cache.set(key, tokenSet(), 1.9);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await admin.exists(PREFIX + key)).toBe(0);
  });

  test('a TTL of 1.9 ms is sent as PX 1, for a value and a failure marker (seen with MONITOR)', async () => {
    const watcher = admin.duplicate();
    const monitor = await watcher.monitor();
    try {
      const seen: string[][] = [];
      monitor.on('monitor', (_time: string, args: string[]) => { seen.push(args); });
      const key = randomUUID();
      await cache.set(key, tokenSet(), 1.9);
      await cache.setFailure(key, { code: 'ERR_TOKEN_REJECTED', until: Date.now() }, 1.9);
      await admin.ping();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const sets = seen.filter((args) => args[0]?.toLowerCase() === 'set');
      expect(sets.map((args) => [args[1], args[3], args[4]])).toEqual([[PREFIX + key, 'PX', '1'], [`${PREFIX}${key}:failed`, 'PX', '1']]);
    } finally {
      monitor.disconnect();
      watcher.disconnect();
    }
  });

  test('missing, not JSON, or (with encryption) not decrypting: read as missing', async () => {
    const key = randomUUID();
    await expect(cache.get(key)).resolves.toBeUndefined();
    await admin.set(PREFIX + key, '{not json', 'PX', 60_000);
    await expect(cache.get(key)).resolves.toBeUndefined();
    const encrypted = redisTokenCache({ url: REDIS_URL, keyPrefix: PREFIX, encryptionKey: 'a passphrase of thirty-two characters or more' });
    try {
      await admin.set(PREFIX + key, JSON.stringify(tokenSet()), 'PX', 60_000);
      await expect(encrypted.get(key)).resolves.toBeUndefined();
    } finally {
      await encrypted.close();
    }
  });

  test('delete removes the value', async () => {
    const key = randomUUID();
    await cache.set(key, tokenSet(), 60_000);
    await cache.delete(key);
    expect(await admin.exists(PREFIX + key)).toBe(0);
  });

  test('a lock: under prefix + key + ":lock", exclusive, for floor(ttl) ms, released by its owner', async () => {
    const key = randomUUID();
    const lock = await cache.lock(key, 5000.9);
    expect(lock).toBeDefined();
    const pttl = await admin.pttl(`${PREFIX}${key}:lock`);
    expect(pttl).toBeLessThanOrEqual(5000);
    expect(pttl).toBeGreaterThan(4000);
    await expect(cache.lock(key, 5000)).resolves.toBeUndefined();
    await lock!.release();
    expect(await admin.exists(`${PREFIX}${key}:lock`)).toBe(0);
    const again = await cache.lock(key, 5000);
    expect(again).toBeDefined();
    await again!.release();
  });

  test('a lock for under 1 ms lives 1 ms (never an error, never forever)', async () => {
    const key = randomUUID();
    const lock = await cache.lock(key, 0.4);
    expect(lock).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await admin.exists(`${PREFIX}${key}:lock`)).toBe(0);
  });

  test('a failure marker: under prefix + key + ":failed", plain JSON of the known fields only, for floor(ttl) ms', async () => {
    const key = randomUUID();
    const until = Date.now() + 5000;
    await cache.setFailure(key, { code: 'ERR_TOKEN_REJECTED', until, secret: 'never stored' } as never, 5000.9);
    expect(JSON.parse((await admin.get(`${PREFIX}${key}:failed`)) as string)).toEqual({ code: 'ERR_TOKEN_REJECTED', until });
    const pttl = await admin.pttl(`${PREFIX}${key}:failed`);
    expect(pttl).toBeLessThanOrEqual(5000);
    expect(pttl).toBeGreaterThan(4000);
    await expect(cache.getFailure(key)).resolves.toEqual({ code: 'ERR_TOKEN_REJECTED', until });

    await cache.setFailure(key, { code: 'ERR_TOKEN_REJECTED', until, status: 401, error: 'invalid_client', integrity: 'mac' }, 5000);
    await expect(cache.getFailure(key)).resolves.toEqual({ code: 'ERR_TOKEN_REJECTED', until, status: 401, error: 'invalid_client', integrity: 'mac' });
  });

  test('a failure marker for under 1 ms is not stored', async () => {
    const key = randomUUID();
    await cache.setFailure(key, { code: 'ERR_TOKEN_REJECTED', until: Date.now() }, 0.9);
    expect(await admin.exists(`${PREFIX}${key}:failed`)).toBe(0);
  });

  test.each([
    ['not JSON', '{oops'],
    ['code not a string', JSON.stringify({ code: 1, until: 5 })],
    ['until not a number', JSON.stringify({ code: 'ERR_TOKEN_REJECTED', until: '5' })],
    ['no code', JSON.stringify({ until: 5 })],
  ])('a failure marker that is %s is read as none', async (_what, raw) => {
    const key = randomUUID();
    await admin.set(`${PREFIX}${key}:failed`, raw, 'PX', 60_000);
    await expect(cache.getFailure(key)).resolves.toBeUndefined();
  });

  test('a failure marker\'s optional fields of the wrong type are dropped', async () => {
    const key = randomUUID();
    await admin.set(`${PREFIX}${key}:failed`, JSON.stringify({ code: 'ERR_TOKEN_REJECTED', until: 5, status: '401', error: 7, integrity: {} }), 'PX', 60_000);
    await expect(cache.getFailure(key)).resolves.toEqual({ code: 'ERR_TOKEN_REJECTED', until: 5 });
    await expect(cache.getFailure(randomUUID())).resolves.toBeUndefined();
  });

  test('a lock released after close says which command failed', async () => {
    const own = redisTokenCache({ url: REDIS_URL, keyPrefix: PREFIX });
    const lock = await own.lock(randomUUID(), 5000);
    const ended = new Promise((resolve) => own.client.once('end', resolve));
    await own.close();
    await ended;
    await expect(lock!.release()).rejects.toThrow(/^Redis EVAL failed: the Redis connection is closed$/);
  });

  test('close() closes the connection it opened (then every operation says so), never a client it was given', async () => {
    const own = redisTokenCache({ url: REDIS_URL, keyPrefix: PREFIX });
    await own.get('k');
    const ended = new Promise((resolve) => own.client.once('end', resolve));
    await own.close();
    await ended;
    expect(own.client.status).toBe('end');
    await expect(own.get('k')).rejects.toThrow(/^Redis GET failed: the Redis connection is closed$/);
    await expect(own.set('k', tokenSet(), 1000)).rejects.toThrow(/^Redis SET failed: the Redis connection is closed$/);
    await expect(own.setFailure('k', { code: 'ERR_TOKEN_REJECTED', until: 1 }, 1000)).rejects.toThrow(/^Redis SET failed: the Redis connection is closed$/);
    await expect(own.getFailure('k')).rejects.toThrow(/^Redis GET failed: the Redis connection is closed$/);

    const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const given = redisTokenCache({ client, keyPrefix: PREFIX });
      expect(given.client).toBe(client);
      await given.get('k');
      await given.close();
      await expect(client.ping()).resolves.toBe('PONG');
      await expect(given.get('k')).resolves.toBeUndefined();
    } finally {
      client.disconnect();
    }
  });
});

/** A RESP server that answers each command through `answer` (a RESP-encoded reply), recording them. */
class ScriptedRedis {
  readonly commands: string[][] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly answer: (command: string[]) => string | undefined) {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      let buffer = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          const parsed = parseCommand(buffer);
          if (parsed === undefined) break;
          buffer = buffer.subarray(parsed.length);
          this.commands.push(parsed.command);
          const reply = this.reply(parsed.command);
          if (reply !== undefined) socket.write(reply);
        }
      });
    });
  }

  listen(where: { port: number } | { path: string }): Promise<void> {
    return new Promise((resolve) => {
      if ('path' in where) this.server.listen(where.path, resolve);
      else this.server.listen(where.port, '127.0.0.1', resolve);
    });
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Commands received, by name (upper case) and first argument. */
  named(name: string, first?: string): number {
    return this.commands.filter((command) => command[0]!.toUpperCase() === name && (first === undefined || command[1] === first)).length;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private reply(command: string[]): string | undefined {
    const scripted = this.answer(command);
    if (scripted !== undefined) return scripted;
    // ioredis's ready check: INFO without a section
    if (command[0]!.toUpperCase() === 'INFO' && command.length === 1) return bulk('# Server\r\nloading:0\r\n');
    return '-ERR unscripted\r\n';
  }
}

function bulk(text: string): string {
  return `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
}

function parseCommand(buffer: Buffer): { command: string[]; length: number } | undefined {
  if (buffer.length === 0 || buffer[0] !== 0x2a) return undefined;
  let offset = 0;
  const line = (): string | undefined => {
    const end = buffer.indexOf('\r\n', offset);
    if (end < 0) return undefined;
    const text = buffer.subarray(offset, end).toString('latin1');
    offset = end + 2;
    return text;
  };
  const header = line();
  if (header === undefined) return undefined;
  const count = Number(header.slice(1));
  const command: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const size = line();
    if (size === undefined) return undefined;
    const length = Number(size.slice(1));
    if (buffer.length < offset + length + 2) return undefined;
    command.push(buffer.subarray(offset, offset + length).toString('utf8'));
    offset += length + 2;
  }
  return { command, length: offset };
}

describe('answers a single server never gives: the errors built from them, and the one topology check', () => {
  const servers: ScriptedRedis[] = [];
  const caches: RedisTokenCache[] = [];
  async function serve(answer: (command: string[]) => string | undefined, options: { operationTimeout?: number } = {}) {
    const server = new ScriptedRedis(answer);
    servers.push(server);
    await server.listen({ port: 0 });
    const cache = redisTokenCache({ url: `redis://127.0.0.1:${server.port}`, keyPrefix: 'p:', ...options });
    caches.push(cache);
    return { server, cache };
  }
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  const infoCluster = (enabled: string) => (command: string[]) => (command[0] === 'info' && command[1] === 'cluster' ? bulk(`# Cluster\r\ncluster_enabled:${enabled}\r\n`) : undefined);

  test('a Cluster node behind a plain connection: every operation refused with the same message, INFO asked once', async () => {
    const { server, cache } = await serve(infoCluster('1'));
    const expected = `redisTokenCache: 127.0.0.1:${server.port} is a Redis Cluster node; a plain connection to one node would not share tokens (MOVED for the keys of other nodes), so the cache refuses it: ${USE_CLUSTER}`;
    await expect(cache.get('k')).rejects.toThrow(expected);
    await expect(cache.set('k', tokenSet(), 1000)).rejects.toThrow(expected);
    await expect(cache.getFailure('k')).rejects.toThrow(expected);
    expect(server.named('INFO', 'cluster')).toBe(1);
    expect(server.named('GET') + server.named('SET')).toBe(0);
  });

  test('a Unix socket server is named by its path', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'express-m2m-redis-'));
    const server = new ScriptedRedis(infoCluster('1'));
    servers.push(server);
    try {
      const path = join(folder, 'redis.sock');
      await server.listen({ path });
      const client = new Redis({ path, maxRetriesPerRequest: 1 });
      client.on('error', () => undefined);
      const cache = redisTokenCache({ client });
      await expect(cache.get('k')).rejects.toThrow(`redisTokenCache: ${path} is a Redis Cluster node;`);
      client.disconnect();
    } finally {
      await Promise.all(servers.splice(0).map((s) => s.close()));
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test('not a Cluster node: the check passes once and is not asked again', async () => {
    const { server, cache } = await serve((command) => infoCluster('0')(command) ?? (command[0] === 'get' ? '$-1\r\n' : undefined));
    await expect(cache.get('a')).resolves.toBeUndefined();
    await expect(cache.get('b')).resolves.toBeUndefined();
    expect(server.named('INFO', 'cluster')).toBe(1);
    expect(server.named('GET')).toBe(2);
  });

  test('INFO refused (NOPERM): taken as it is, operations go on, not asked again', async () => {
    const { server, cache } = await serve((command) => {
      if (command[0] === 'info' && command[1] === 'cluster') return "-NOPERM User may not run the 'info' command\r\n";
      return command[0] === 'get' ? '$-1\r\n' : undefined;
    });
    await expect(cache.get('a')).resolves.toBeUndefined();
    await expect(cache.get('b')).resolves.toBeUndefined();
    expect(server.named('INFO', 'cluster')).toBe(1);
  });

  test('INFO failing otherwise: the operation fails naming it, and the next operation asks again', async () => {
    const { server, cache } = await serve((command) => {
      if (command[0] === 'info' && command[1] === 'cluster') return '-ERR the server is busy\r\n';
      return undefined;
    });
    await expect(cache.get('a')).rejects.toThrow(/^Redis GET failed: ReplyError: ERR the server is busy$/);
    await expect(cache.delete('a')).rejects.toThrow(/^Redis DEL failed: ReplyError: ERR the server is busy$/);
    expect(server.named('INFO', 'cluster')).toBe(2);
  });

  test.each(['MOVED 3999 127.0.0.1:7002', 'ASK 3999 127.0.0.1:7002', 'CLUSTERDOWN The cluster is down'])('%s to a plain connection names the fix', async (answer) => {
    const { cache } = await serve((command) => (command[0] === 'info' && command[1] === 'cluster' ? "-NOPERM no\r\n" : command[0] === 'get' ? `-${answer}\r\n` : undefined));
    await expect(cache.get('k')).rejects.toThrow(`Redis GET failed: ReplyError: ${answer}: this connection is to one node of a Redis Cluster, so the token would not be shared; ${USE_CLUSTER}`);
  });

  test('an error that only mentions MOVED is an error like any other', async () => {
    const { cache } = await serve((command) => (command[0] === 'info' && command[1] === 'cluster' ? '-NOPERM no\r\n' : command[0] === 'get' ? '-ERR MOVED away\r\n' : undefined));
    await expect(cache.get('k')).rejects.toThrow(/^Redis GET failed: ReplyError: ERR MOVED away$/);
  });

  test('Redis\'s error text: unprintable characters replaced, at most 200 characters kept', async () => {
    const long = `ERR ${'x'.repeat(300)}`;
    const { cache } = await serve((command) => {
      if (command[0] === 'info' && command[1] === 'cluster') return '-NOPERM no\r\n';
      if (command[0] === 'get') return command[1] === 'p:long' ? `-${long}\r\n` : '-ERR caf\u00e9\ttab\x1b[31m\r\n';
      return undefined;
    });
    await expect(cache.get('odd')).rejects.toThrow(/^Redis GET failed: ReplyError: ERR caf\?\?tab\?\[31m$/);
    const error = await cache.get('long').then(() => undefined, (caught: unknown) => caught as Error);
    expect(error!.message).toBe(`Redis GET failed: ${`ReplyError: ${long}`.slice(0, 200)}`);
  });

  test('a command that rejects with something that is not an Error: its text, named "Error"', async () => {
    // ioredis rejects with Errors; a wrapper around it may not
    const { cache } = await serve(infoCluster('0'));
    (cache.client as unknown as { get: () => Promise<never> }).get = () => Promise.reject('a bare string');
    await expect(cache.get('k')).rejects.toThrow(/^Redis GET failed: Error: a bare string$/);
  });

  test('a server that does not answer: the operation fails after operationTimeout (default 1000 ms)', async () => {
    const { cache } = await serve(() => '');
    await expect(cache.get('k')).rejects.toThrow(/^Redis GET did not answer within 1000 ms$/);
    const { cache: quick } = await serve(() => '', { operationTimeout: 30 });
    await expect(quick.lock('k', 1000)).rejects.toThrow(/^Redis SET did not answer within 30 ms$/);
  });
});

describe('the connection opened for a url: how it fails, retries and keeps quiet', () => {
  /** A port nothing listens on: an ephemeral port, bound and released. */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  test('an unreachable server: an operation fails after one retry (200 ms later), not at operationTimeout', async () => {
    const cache = redisTokenCache({ url: `redis://127.0.0.1:${await closedPort()}`, operationTimeout: 10_000 });
    try {
      const started = Date.now();
      const error = await cache.get('k').then(() => undefined, (caught: unknown) => caught as Error);
      const elapsed = Date.now() - started;
      // maxRetriesPerRequest 1: the queued command is given up at the second refused connection,
      // which retryStrategy schedules min(1 x 200, 2000) ms after the first
      expect(error?.message).toBe('Redis GET failed: MaxRetriesPerRequestError: Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.');
      expect(elapsed).toBeGreaterThanOrEqual(150);
      expect(elapsed).toBeLessThan(1500);
    } finally {
      await cache.close();
    }
  });

  test('after an outage it reconnects by itself (retryStrategy keeps retrying)', async () => {
    const port = await closedPort();
    const cache = redisTokenCache({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'p:', operationTimeout: 5000 });
    const server = new ScriptedRedis((command) => (command[0] === 'info' && command[1] === 'cluster' ? '-NOPERM no\r\n' : command[0] === 'get' ? '$-1\r\n' : undefined));
    try {
      await expect(cache.get('k')).rejects.toThrow(/MaxRetriesPerRequestError/);
      // the server comes up on that port: the client's next retry (within 2 s) connects
      await server.listen({ port });
      let answer: unknown = 'not yet';
      for (let attempt = 0; attempt < 40 && answer === 'not yet'; attempt += 1) {
        answer = await cache.get('k').catch(() => 'not yet');
        if (answer === 'not yet') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(answer).toBeUndefined();
    } finally {
      await cache.close();
      await server.close();
    }
  });

  test('connectTimeout is operationTimeout (at least 1000 ms): a TLS server that never answers the handshake is dropped then', async () => {
    const accepted: number[] = [];
    const closed: number[] = [];
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      accepted.push(Date.now());
      sockets.push(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => closed.push(Date.now()));
      socket.resume(); // reads (and drops) the ClientHello, so that the client's close is seen
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const cache = redisTokenCache({ url: `rediss://127.0.0.1:${port}`, operationTimeout: 2000 });
    try {
      await expect(cache.get('k')).rejects.toThrow(/^Redis GET /);
      for (let waited = 0; waited < 7000 && closed.length === 0; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(closed.length).toBeGreaterThan(0);
      const held = closed[0]! - accepted[0]!;
      expect(held).toBeGreaterThanOrEqual(1700);
      expect(held).toBeLessThan(5000);
    } finally {
      await cache.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('its connection errors are listened to: not printed, never thrown', async () => {
    // Without a listener, ioredis prints each connection error ("[ioredis] Unhandled error event",
    // when the error is an instanceof Error, which Node's own errors are not inside Jest's realm, so
    // the print itself is seen only outside Jest), and an 'error' emitted on it would throw.
    const cache = redisTokenCache({ url: `redis://127.0.0.1:${await closedPort()}` });
    try {
      await new Promise<void>((resolve) => cache.client.once('reconnecting', () => resolve()));
      expect(cache.client.listenerCount('error')).toBe(1);
      expect(() => cache.client.emit('error', new Error('connect ECONNREFUSED'))).not.toThrow();
    } finally {
      await cache.close();
    }
  });

});
