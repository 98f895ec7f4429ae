// Steady outbound benchmark (S8 of issue 15): provider.fetch() on a warm token against global
// fetch with a fixed Authorization header, to a local downstream. The client runs pinned to the
// server CPU, the downstream (node:http) to the load CPU; the two modes alternate trial by trial,
// each in a fresh process. Target: provider.fetch() reaches >= 0.97 of plain fetch's calls/s
// (median of the per-trial ratios). Usage: node bench/outbound-steady.mjs [--quick]; prints a
// table and "RESULT <json>".
import { join } from 'node:path';
import { LOAD_CPU, SERVER_CPU } from './lib/cells.mjs';
import { spawnNode, stop, waitForLine, runMain } from './lib/children.mjs';
import { startIssuer } from './lib/issuer.mjs';
import { benchDir } from './lib/paths.mjs';
import { STEADY_OUTBOUND_TARGET } from './lib/scenarios.mjs';
import { median } from './lib/summary.mjs';

const quick = process.argv.includes('--quick');
const TRIALS = quick ? 1 : 5;
const WARMUP = quick ? 1 : 2;
const DURATION = quick ? 2 : 6;
const CONNECTIONS = 50;
const AUDIENCE = 'https://downstream.bench.example';

async function side(mode, env) {
  const child = spawnNode(SERVER_CPU, [join(benchDir, 'outbound-steady-client.mjs')], { env: { ...env, MODE: mode } });
  try {
    return JSON.parse(await waitForLine(child, 'RESULT', (WARMUP + DURATION + 60) * 1000));
  } finally {
    await stop(child);
  }
}

async function main() {
  const issuer = await startIssuer({ alg: 'RS256' });
  const downstream = spawnNode(LOAD_CPU, [join(benchDir, 'downstream.mjs')]);
  try {
    const port = await waitForLine(downstream, 'READY', 30_000);
    const { clientId, clientSecret } = issuer.registerClient({ audiences: [AUDIENCE] });
    const env = {
      TOKEN_ENDPOINT: issuer.tokenEndpoint, CLIENT_ID: clientId, CLIENT_SECRET: clientSecret, AUDIENCE,
      DOWNSTREAM_URL: `http://127.0.0.1:${port}/data`, CONNECTIONS: String(CONNECTIONS), WARMUP: String(WARMUP), DURATION: String(DURATION),
    };
    const trials = [];
    for (let t = 0; t < TRIALS; t++) {
      // Alternate which mode goes first.
      const order = t % 2 === 0 ? ['plain', 'provider'] : ['provider', 'plain'];
      const r = {};
      for (const mode of order) r[mode] = await side(mode, env);
      trials.push({ ...r, ratio: r.provider.callsPerSecond / r.plain.callsPerSecond, cpuRatio: r.plain.cpuUsPerCall / r.provider.cpuUsPerCall });
      console.log(`trial ${t + 1}: plain fetch ${r.plain.callsPerSecond} calls/s (${r.plain.cpuUsPerCall} µs, ${r.plain.bytesPerCall} B per call), provider.fetch ${r.provider.callsPerSecond} calls/s (${r.provider.cpuUsPerCall} µs, ${r.provider.bytesPerCall} B per call): ${trials.at(-1).ratio.toFixed(3)}`);
    }
    const pick = (mode, k) => median(trials.map((x) => x[mode][k]));
    const summary = {
      ratio: median(trials.map((x) => x.ratio)),
      ratioMin: Math.min(...trials.map((x) => x.ratio)),
      ratioMax: Math.max(...trials.map((x) => x.ratio)),
      cpuRatio: median(trials.map((x) => x.cpuRatio)),
      plain: { callsPerSecond: pick('plain', 'callsPerSecond'), cpuUsPerCall: pick('plain', 'cpuUsPerCall'), bytesPerCall: pick('plain', 'bytesPerCall'), utilization: pick('plain', 'utilization') },
      provider: { callsPerSecond: pick('provider', 'callsPerSecond'), cpuUsPerCall: pick('provider', 'cpuUsPerCall'), bytesPerCall: pick('provider', 'bytesPerCall'), utilization: pick('provider', 'utilization') },
    };
    console.log(`S8: provider.fetch() / plain fetch: ${summary.ratio.toFixed(3)} of calls/s (min ${summary.ratioMin.toFixed(3)}, max ${summary.ratioMax.toFixed(3)}, ${TRIALS} trials), CPU per call ratio ${summary.cpuRatio.toFixed(3)}; target >= ${STEADY_OUTBOUND_TARGET}: ${summary.ratio >= STEADY_OUTBOUND_TARGET ? 'met' : 'NOT MET'}`);
    return { date: new Date().toISOString(), quick, trials: TRIALS, warmupS: WARMUP, durationS: DURATION, connections: CONNECTIONS, target: STEADY_OUTBOUND_TARGET, summary, runs: trials };
  } finally {
    await stop(downstream);
    await issuer.close();
  }
}

runMain(main, { printResult: true });
