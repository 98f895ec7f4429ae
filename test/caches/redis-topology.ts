/**
 * Real local Redis topologies for the Cluster and Sentinel tests, started and stopped by the tests
 * themselves: `redis-server` processes (never daemonized, so each is known and stopped by its PID)
 * in a temporary folder, on ports from 17000-17999 chosen at random per run and checked free (the
 * cluster bus ports, +10000, too). Stopped in `afterAll`, and killed by PID when the test process
 * exits whatever the way; the folder is removed with them.
 *
 * - `startCluster()`: 6 nodes, 3 masters and 3 replicas (`redis-cli --cluster create ...
 *   --cluster-replicas 1 --cluster-yes`), `cluster-node-timeout` 2000 ms, so a killed master's
 *   replica takes over within a few seconds.
 * - `startSentinel()`: 1 master, 1 replica and 3 sentinels (quorum 2), `down-after-milliseconds`
 *   1000, so a failover takes a few seconds.
 *
 * In CI (CI=true) the tests always run, and fail if redis-server is missing; elsewhere they are
 * skipped, loudly, only when redis-server is not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

const HOST = '127.0.0.1';

function installed(command: string): boolean {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}

const inCI = process.env.CI === 'true';
const serversInstalled = installed('redis-server') && installed('redis-cli');
export const topologiesAvailable = inCI || serversInstalled;

if (!topologiesAvailable) {
  console.warn(
    `\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n`
    + `!! SKIPPING the Redis Cluster and Sentinel tests: redis-server / redis-cli are not installed.\n`
    + `!! Install them (\`bash .ci/ensure-redis\` does). (With CI=true these tests run and fail.)\n`
    + `!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n`,
  );
}

/** `describe` when the topologies can be started (always in CI), else `describe.skip`. */
export const describeTopology: typeof describe = topologiesAvailable ? describe : describe.skip;

/** Every server this process started and has not seen exit: killed when the process exits. */
const running = new Set<ChildProcess>();
const folders = new Set<string>();
process.on('exit', () => {
  for (const child of running) {
    try {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether nothing listens on `port` of 127.0.0.1 (we can bind it). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

const taken = new Set<number>();

/** A port of 17000-17999 that is free, and whose +10000 (a cluster bus) is free too. */
async function freePort(): Promise<number> {
  for (let tries = 0; tries < 200; tries += 1) {
    const port = 17000 + Math.floor(Math.random() * 1000);
    if (taken.has(port)) continue;
    if (await portFree(port) && await portFree(port + 10000)) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port in 17000-17999');
}

/** Polls `check` every 100 ms until it is true; throws `what` after `timeout` ms. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeout = 20_000): Promise<void> {
  const giveUpAt = Date.now() + timeout;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** One redis-server process of a topology. */
export interface RedisServerProcess {
  readonly port: number;
  readonly pid: number;
  /** Kills it with SIGKILL (a crash: no shutdown, no failover handed over) and waits for its exit. */
  kill(): Promise<void>;
  /** Whether it is still running. */
  readonly alive: boolean;
}

class ServerProcess implements RedisServerProcess {
  constructor(readonly port: number, private readonly child: ChildProcess, readonly log: string) {}

  get pid(): number {
    return this.child.pid as number;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(): Promise<void> {
    if (!this.alive) return;
    const exited = once(this.child, 'exit');
    process.kill(this.pid, 'SIGKILL');
    await exited;
  }

  /** A few last lines of its log, for the message of a failed start. */
  tail(): string {
    try {
      return readFileSync(this.log, 'utf8').split('\n').slice(-8).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/** Starts `redis-server <config file> [extra]` in `dir` and waits until it answers PING. */
async function startServer(dir: string, port: number, config: string, extra: string[] = []): Promise<ServerProcess> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'redis.conf');
  writeFileSync(file, `port ${port}\nbind ${HOST}\ndir ${dir}\nsave ""\nappendonly no\nlogfile ""\n${config}`);
  const log = join(dir, 'server.log');
  const out = openSync(log, 'a');
  const child = spawn('redis-server', [file, ...extra], { cwd: dir, stdio: ['ignore', out, out] });
  closeSync(out);
  running.add(child);
  child.once('exit', () => running.delete(child));
  const server = new ServerProcess(port, child, log);
  const probe = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  probe.on('error', () => undefined);
  try {
    await waitFor(`redis-server on port ${port}`, async () => {
      if (!server.alive) throw new Error(`redis-server on port ${port} exited:\n${server.tail()}`);
      if (probe.status !== 'ready') {
        probe.disconnect();
        await probe.connect();
      }
      return (await probe.ping()) === 'PONG';
    }, 10_000).catch((error: unknown) => {
      if (!server.alive) throw new Error(`redis-server on port ${port} exited:\n${server.tail()}`);
      throw error;
    });
  } finally {
    probe.disconnect();
  }
  return server;
}

/**
 * Starts a server on a free port (another program may take a port between the check and the
 * bind: then a new port is tried, three times at most). `dirFor(port)` is its folder.
 */
async function startOnFreePort(dirFor: (port: number) => string, config: string | ((port: number) => string), extra: string[] = []): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    try {
      return await startServer(dirFor(port), port, typeof config === 'string' ? config : config(port), extra);
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

/** Runs `redis-cli` with `args` to completion; rejects with its output when it fails. */
async function redisCli(args: string[]): Promise<string> {
  const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`redis-cli ${args.join(' ')} exited with ${code}:\n${output}`);
  return output;
}

/** A temporary folder for one topology, removed by `stop()` (or at exit). */
function topologyFolder(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `express-m2m-${name}-`));
  folders.add(dir);
  return dir;
}

async function stopAll(servers: readonly RedisServerProcess[], dir: string): Promise<void> {
  await Promise.all(servers.map((server) => server.kill()));
  rmSync(dir, { recursive: true, force: true });
  folders.delete(dir);
}

/** A running 6-node Redis Cluster (3 masters, 3 replicas). */
export interface ClusterTopology {
  /** The nodes as ioredis `Cluster` startup nodes. */
  readonly nodes: { host: string; port: number }[];
  readonly servers: readonly RedisServerProcess[];
  /** The hash slot of `key` (CRC16 mod 16384, `{hash tag}` rules). */
  slotOf(key: string): Promise<number>;
  /** The server that is master of `key`'s slot now. */
  masterOf(key: string): Promise<RedisServerProcess>;
  /** Waits until every live node reports `cluster_state:ok` and every slot has a live master. */
  waitHealthy(timeout?: number): Promise<void>;
  /** Runs `command` on every live node (e.g. an ACL SETUSER, which a cluster does not propagate). */
  onEveryNode(...command: string[]): Promise<void>;
  /** The keys matching `pattern` on every live master. */
  keys(pattern: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** Starts a 6-node cluster (3 masters + 3 replicas) with `cluster-node-timeout` 2000 ms. */
export async function startCluster(): Promise<ClusterTopology> {
  const dir = topologyFolder('cluster');
  const servers: ServerProcess[] = [];
  const config = 'cluster-enabled yes\ncluster-config-file nodes.conf\ncluster-node-timeout 2000\n'
    + 'cluster-replica-validity-factor 0\nappendonly no\n';
  try {
    for (let i = 0; i < 6; i += 1) servers.push(await startOnFreePort((port) => join(dir, String(port)), config));
    await redisCli(['--cluster', 'create', ...servers.map((s) => `${HOST}:${s.port}`), '--cluster-replicas', '1', '--cluster-yes']);
  } catch (error) {
    await stopAll(servers, dir);
    throw error;
  }

  const admin = (port: number) => {
    const client = new Redis({ host: HOST, port, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
    client.on('error', () => undefined);
    return client;
  };
  async function onLiveNode<T>(run: (client: Redis, server: ServerProcess) => Promise<T>): Promise<T> {
    for (const server of servers.filter((s) => s.alive)) {
      const client = admin(server.port);
      try {
        return await run(client, server);
      } catch {
        // try the next one
      } finally {
        client.disconnect();
      }
    }
    throw new Error('no live cluster node answered');
  }
  const slotOf = (key: string) => onLiveNode(async (client) => Number(await client.call('CLUSTER', 'KEYSLOT', key)));
  const topology: ClusterTopology = {
    nodes: servers.map((s) => ({ host: HOST, port: s.port })),
    servers,
    slotOf,
    async masterOf(key) {
      const slot = await slotOf(key);
      const port = await onLiveNode(async (client) => {
        const shards = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, ...unknown[]], ...unknown[]][];
        const shard = shards.find(([from, to]) => from <= slot && slot <= to);
        if (shard === undefined) throw new Error(`no master for slot ${slot}`);
        return shard[2][1];
      });
      const server = servers.find((s) => s.port === port);
      if (server === undefined) throw new Error(`unknown port ${port}`);
      return server;
    },
    async waitHealthy(timeout = 20_000) {
      await waitFor('a healthy cluster', async () => {
        for (const server of servers.filter((s) => s.alive)) {
          const client = admin(server.port);
          try {
            const info = String(await client.call('CLUSTER', 'INFO'));
            if (!/^cluster_state:ok/m.test(info) || !/^cluster_slots_ok:16384/m.test(info)) return false;
            const shards = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
            const livePorts = new Set(servers.filter((s) => s.alive).map((s) => s.port));
            if (!shards.every((shard) => livePorts.has(shard[2][1]))) return false;
          } finally {
            client.disconnect();
          }
        }
        return true;
      }, timeout);
    },
    async onEveryNode(...command) {
      for (const server of servers.filter((s) => s.alive)) {
        const client = admin(server.port);
        try {
          await client.call(command[0] as string, ...command.slice(1));
        } finally {
          client.disconnect();
        }
      }
    },
    async keys(pattern) {
      const found = new Set<string>();
      for (const server of servers.filter((s) => s.alive)) {
        const client = admin(server.port);
        try {
          if (/^role:master/m.test(await client.info('replication'))) for (const key of await client.keys(pattern)) found.add(key);
        } finally {
          client.disconnect();
        }
      }
      return [...found].sort();
    },
    stop: () => stopAll(servers, dir),
  };
  try {
    await topology.waitHealthy();
  } catch (error) {
    await topology.stop();
    throw error;
  }
  return topology;
}

/** A running Sentinel set-up: a master, its replica, and 3 sentinels watching them as `name`. */
export interface SentinelTopology {
  readonly name: string;
  /** The sentinels, as the `sentinels` option of ioredis. */
  readonly sentinels: { host: string; port: number }[];
  readonly master: RedisServerProcess;
  readonly replica: RedisServerProcess;
  readonly servers: readonly RedisServerProcess[];
  /** The port of the master the sentinels name now. */
  currentMasterPort(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts 1 master, 1 replica and 3 sentinels (quorum 2, down-after-milliseconds 1000). */
export async function startSentinel(): Promise<SentinelTopology> {
  const dir = topologyFolder('sentinel');
  const name = 'express-m2m-test';
  const servers: ServerProcess[] = [];
  try {
    const master = await startOnFreePort((port) => join(dir, `master-${port}`), '');
    servers.push(master);
    const masterPort = master.port;
    const replica = await startOnFreePort((port) => join(dir, `replica-${port}`), `replicaof ${HOST} ${masterPort}\n`);
    servers.push(replica);
    const replicaPort = replica.port;
    const sentinelConfig = `sentinel monitor ${name} ${HOST} ${masterPort} 2\nsentinel down-after-milliseconds ${name} 1000\n`
      + `sentinel failover-timeout ${name} 10000\nsentinel parallel-syncs ${name} 1\n`;
    const sentinels: ServerProcess[] = [];
    for (let i = 0; i < 3; i += 1) {
      const sentinel = await startOnFreePort((port) => join(dir, `sentinel-${port}`), sentinelConfig, ['--sentinel']);
      servers.push(sentinel);
      sentinels.push(sentinel);
    }
    const ask = async <T>(port: number, ...args: string[]): Promise<T> => {
      const client = new Redis({ host: HOST, port, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
      client.on('error', () => undefined);
      try {
        return (await client.call('SENTINEL', ...args)) as T;
      } finally {
        client.disconnect();
      }
    };
    // The replica in sync, and every sentinel knowing the replica and the two other sentinels
    // (hello messages every 2 s): only then can they agree on a failover.
    await waitFor('the replica in sync', async () => {
      const client = new Redis({ host: HOST, port: replicaPort, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => undefined);
      try {
        return /^master_link_status:up/m.test(await client.info('replication'));
      } finally {
        client.disconnect();
      }
    });
    await waitFor('the sentinels to know each other and the replica', async () => {
      for (const sentinel of sentinels) {
        const others = await ask<unknown[]>(sentinel.port, 'SENTINELS', name);
        const replicas = await ask<unknown[]>(sentinel.port, 'REPLICAS', name);
        if (others.length < 2 || replicas.length < 1) return false;
      }
      return true;
    });
    return {
      name,
      sentinels: sentinels.map((s) => ({ host: HOST, port: s.port })),
      master,
      replica,
      servers,
      async currentMasterPort() {
        for (const sentinel of sentinels) {
          try {
            const [, port] = await ask<[string, string]>(sentinel.port, 'GET-MASTER-ADDR-BY-NAME', name);
            return Number(port);
          } catch {
            // the next sentinel
          }
        }
        throw new Error('no sentinel answered');
      },
      stop: () => stopAll(servers, dir),
    };
  } catch (error) {
    await stopAll(servers, dir);
    throw error;
  }
}
