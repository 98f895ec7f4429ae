// Outbound benchmark (issue 5): cold start, 500 concurrent "get a token + call the downstream"
// per contender, each contender in its own fresh process with its own registered client.
// Measures how many times the token endpoint was hit and how long the 500 calls took.
// Then 4 processes sharing express-m2m's Redis cache (express-m2m/redis), and 4 without it.
// Usage: node bench/outbound.mjs [--quick]; prints a table and "RESULT <json>".
import { createServer } from 'node:http';
import { join } from 'node:path';
import { benchDir } from './lib/paths.mjs';
import { spawnNode, stop, waitForLine, runMain } from './lib/children.mjs';
import { startIssuer } from './lib/issuer.mjs';

const quick = process.argv.includes('--quick');
const CALLS = 500;
const AUDIENCE = 'https://downstream.bench.example';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const RUNS = [
  { name: 'express-m2m clientCredentials', contender: 'express-m2m', processes: 1 },
  { name: '@badgateway/oauth2-client OAuth2Fetch', contender: 'badgateway', processes: 1 },
  { name: 'simple-oauth2 ClientCredentials', contender: 'simple-oauth2', processes: 1 },
  { name: 'express-m2m, 4 processes, shared Redis cache', contender: 'express-m2m-redis', processes: 4, redis: true },
  { name: 'express-m2m, 4 processes, no shared cache', contender: 'express-m2m', processes: 4 },
];

async function redisReachable() {
  try {
    const { Redis } = await import('ioredis');
    const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
    await r.connect();
    await r.ping();
    r.disconnect();
    return true;
  } catch {
    return false;
  }
}

async function main() {
  const issuer = await startIssuer({ alg: 'RS256' });
  let downstreamHits = 0;
  const downstream = createServer((req, res) => {
    downstreamHits++;
    const ok = /^Bearer \S+$/.test(req.headers.authorization ?? '');
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(ok ? '{"ok":true}' : '{"error":"invalid_token"}');
  });
  downstream.keepAliveTimeout = 10_000;
  await new Promise((r) => downstream.listen(0, '127.0.0.1', r));
  const downstreamUrl = `http://127.0.0.1:${downstream.address().port}/data`;
  const haveRedis = await redisReachable();
  const rows = [];
  try {
    for (const run of RUNS) {
      if (run.redis && !haveRedis) {
        rows.push({ name: run.name, skipped: `Redis unreachable at ${REDIS_URL}` });
        continue;
      }
      const { clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] });
      const env = {
        CONTENDER: run.contender,
        TOKEN_ENDPOINT: issuer.tokenEndpoint,
        CLIENT_ID: clientId,
        CLIENT_SECRET: clientSecret,
        AUDIENCE,
        DOWNSTREAM_URL: downstreamUrl,
        CALLS: String(CALLS / run.processes),
        REDIS_URL,
      };
      const children = Array.from({ length: run.processes }, () => spawnNode(undefined, [join(benchDir, 'outbound-client.mjs')], { env, stdin: true }));
      try {
        await Promise.all(children.map((c) => waitForLine(c, 'READY', 30_000)));
        const tokenHitsBefore = issuer.counts.token;
        const downstreamBefore = downstreamHits;
        const started = performance.now();
        const results = children.map((c) => waitForLine(c, 'RESULT', 120_000));
        for (const c of children) c.stdin.write('GO\n');
        const parsed = (await Promise.all(results)).map((s) => JSON.parse(s));
        const wallMs = Math.round(performance.now() - started);
        const statuses = {};
        for (const p of parsed) for (const [k, v] of Object.entries(p.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
        rows.push({
          name: run.name,
          processes: run.processes,
          calls: CALLS,
          tokenEndpointHits: issuer.counts.token - tokenHitsBefore,
          downstreamCalls: downstreamHits - downstreamBefore,
          totalMs: wallMs,
          slowestProcessMs: Math.max(...parsed.map((p) => p.ms)),
          statuses,
          errors: parsed.flatMap((p) => p.errors).slice(0, 3),
        });
      } catch (err) {
        const lines = String(err.message).split('\n');
        rows.push({ name: run.name, skipped: (lines.find((l) => /Error\b/.test(l)) ?? lines[0]).trim().slice(0, 300) });
      } finally {
        await Promise.all(children.map((c) => stop(c)));
      }
    }
  } finally {
    downstream.closeAllConnections?.();
    downstream.close();
    await issuer.close();
  }
  console.log(`Outbound: ${CALLS} concurrent "get token + call downstream" on a cold start (issuer: ${issuer.kind})`);
  for (const r of rows) {
    if (r.skipped) console.log(`  ${r.name.padEnd(46)} skipped: ${r.skipped}`);
    else console.log(`  ${r.name.padEnd(46)} token endpoint hits ${String(r.tokenEndpointHits).padStart(4)}   total ${String(r.totalMs).padStart(5)} ms   ${JSON.stringify(r.statuses)}${r.errors.length ? `  errors: ${r.errors.join(' | ')}` : ''}`);
  }
  return { date: new Date().toISOString(), quick, calls: CALLS, issuer: issuer.kind, rows };
}

runMain(main, { printResult: true });
