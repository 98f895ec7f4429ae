// Memory benchmark (issue 5): N distinct valid tokens (default 100,000) through express-m2m's
// requireAuth, in a server process of its own started with --expose-gc. Memory is read after
// full collections at checkpoints, once with the verified-token cache on (the default) and once
// with it off, so the cache's own footprint and its bound show.
// Usage: node bench/memory.mjs [--quick] [--tokens N] [--alg RS256|ES256]; prints "RESULT <json>".
import autocannon from 'autocannon';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnNode, stop, waitForLine, runMain } from './lib/children.mjs';
import { startIssuer } from './lib/issuer.mjs';
import { benchDir } from './lib/paths.mjs';

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, tokens: { type: 'string' }, alg: { type: 'string' } } });
const COUNT = Number(values.tokens ?? process.env.BENCH_MEMORY_TOKENS ?? (values.quick ? 12_000 : 100_000));
const ALG = values.alg ?? 'RS256';
const CHECKPOINTS = 10;
const CONCURRENCY = 32;
const AUDIENCE = 'https://bench.example/api';
const MB = 2 ** 20;

async function mint(issuer, n, { alg = ALG, pad = 0 } = {}) {
  const out = new Array(n);
  let i = 0;
  const filler = 'x'.repeat(pad);
  const worker = async () => {
    while (i < n) {
      const k = i++;
      const claims = { sub: 'bench-client@clients', aud: AUDIENCE, scope: 'read:data', n: k, ...(pad ? { filler } : {}) };
      out[k] = await issuer.sign(claims, { alg, expiresIn: 7200 });
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return out;
}

async function memoryOf(base) {
  const r = await fetch(`${base}/__memory`);
  const m = await r.json();
  return { rssMB: +(m.rss / MB).toFixed(1), heapUsedMB: +(m.heapUsed / MB).toFixed(1), externalMB: +(m.external / MB).toFixed(1) };
}

/** Sends tokens[from..to), each once, over CONCURRENCY keep-alive connections (autocannon); counts statuses. */
function drive(url, tokens, from, to, statuses) {
  let i = from;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('memory: a load step took longer than 10 minutes')), 600_000);
    autocannon(
      {
        url,
        connections: CONCURRENCY,
        amount: to - from,
        timeout: 10,
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, headers: { authorization: `Bearer ${tokens[i++ % tokens.length]}` } }) }],
      },
      (err, r) => {
        clearTimeout(timer);
        if (err) return reject(err);
        for (const [k, v] of Object.entries(r.statusCodeStats ?? {})) statuses[k] = (statuses[k] ?? 0) + Number(v.count);
        if (r.errors || r.timeouts) statuses.errors = (statuses.errors ?? 0) + r.errors + r.timeouts;
        resolve();
      },
    );
  });
}

async function measure(issuer, tokens, cache, label) {
  const child = spawnNode(undefined, [join(benchDir, 'server.mjs')], {
    nodeFlags: ['--expose-gc'],
    env: {
      CONTENDER: 'express-m2m',
      ISSUER: issuer.issuer,
      AUDIENCE,
      JWKS_URI: issuer.jwksUri,
      ALGS: 'RS256,ES256',
      MEMORY_STATS: '1',
      VERIFIED_TOKEN_CACHE: cache ? 'on' : 'off',
    },
  });
  try {
    const port = await waitForLine(child, 'READY', 30_000);
    const base = `http://127.0.0.1:${port}`;
    const url = `${base}/api/data`;
    const statuses = {};
    // Warm-up outside the measured tokens: JWKS fetched, code paths compiled.
    const warm = await mint(issuer, 200);
    await drive(url, warm, 0, warm.length, {});
    const baseline = await memoryOf(base);
    const points = [{ tokens: 0, ...baseline }];
    const started = performance.now();
    for (let c = 1; c <= CHECKPOINTS; c++) {
      const to = Math.round((tokens.length * c) / CHECKPOINTS);
      await drive(url, tokens, points.at(-1).tokens, to, statuses);
      points.push({ tokens: to, ...(await memoryOf(base)) });
    }
    const seconds = (performance.now() - started) / 1000;
    const last = points.at(-1);
    return {
      label,
      tokens: tokens.length,
      tokenLength: tokens[0].length,
      verifiedTokenCache: cache ? 'on (default)' : 'off',
      statuses,
      seconds: +seconds.toFixed(1),
      baseline,
      final: last,
      rssGrowthMB: +(last.rssMB - baseline.rssMB).toFixed(1),
      heapGrowthMB: +(last.heapUsedMB - baseline.heapUsedMB).toFixed(1),
      maxHeapGrowthMB: +Math.max(...points.map((p) => p.heapUsedMB - baseline.heapUsedMB)).toFixed(1),
      points,
    };
  } finally {
    await stop(child);
  }
}

async function main() {
  const issuer = await startIssuer({ alg: ALG });
  try {
    const t0 = performance.now();
    console.log(`memory: minting ${COUNT} distinct ${ALG} tokens...`);
    const tokens = await mint(issuer, COUNT);
    console.log(`memory: minted in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const on = await measure(issuer, tokens, true, `${COUNT} ${ALG} tokens, cache on (default)`);
    const off = await measure(issuer, tokens, false, `${COUNT} ${ALG} tokens, cache off`);
    // Worst case per entry: tokens near the default maxTokenLength (8192 characters), twice as many
    // as the cache holds. ES256 only to mint them faster (the size is in the claims).
    const bigCount = Math.min(COUNT, 20_000);
    console.log(`memory: minting ${bigCount} ES256 tokens of about 7,900 characters...`);
    const big = await mint(issuer, bigCount, { alg: 'ES256', pad: 5_700 });
    const large = await measure(issuer, big, true, `${bigCount} ES256 tokens of ${big[0].length} characters, cache on`);
    const cacheMaxEntries = 10_000; // express-m2m's default verifiedTokenCache.maxEntries
    const cacheCostMB = +(on.final.heapUsedMB - off.final.heapUsedMB).toFixed(1);
    const largeCacheCostMB = +(large.final.heapUsedMB - off.final.heapUsedMB).toFixed(1);
    const result = {
      date: new Date().toISOString(),
      tokens: COUNT,
      alg: ALG,
      tokenLength: tokens[0].length,
      cacheMaxEntries,
      cacheCostMB,
      cacheCostPerEntryKB: +((cacheCostMB * 1024) / Math.min(COUNT, cacheMaxEntries)).toFixed(2),
      largeTokenLength: big[0].length,
      largeCacheCostMB,
      largeCacheCostPerEntryKB: +((largeCacheCostMB * 1024) / Math.min(bigCount, cacheMaxEntries)).toFixed(2),
      runs: [on, off, large],
    };
    for (const r of result.runs) {
      console.log(`  ${r.label}: ${JSON.stringify(r.statuses)} in ${r.seconds} s: RSS ${r.baseline.rssMB} -> ${r.final.rssMB} MB (+${r.rssGrowthMB}), heap ${r.baseline.heapUsedMB} -> ${r.final.heapUsedMB} MB (+${r.heapGrowthMB}, max +${r.maxHeapGrowthMB})`);
      console.log(`    heap after GC by tokens seen: ${r.points.map((p) => `${p.tokens / 1000}k:${p.heapUsedMB}`).join(' ')}`);
    }
    console.log(`  the full cache (${cacheMaxEntries} entries) holds about ${cacheCostMB} MB of heap (${result.cacheCostPerEntryKB} KB per entry) with ${tokens[0].length}-character tokens, ${largeCacheCostMB} MB (${result.largeCacheCostPerEntryKB} KB per entry) with ${big[0].length}-character tokens`);
    return result;
  } finally {
    await issuer.close();
  }
}

runMain(main, { printResult: true });
