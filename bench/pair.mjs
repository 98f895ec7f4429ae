// Paired A/B comparison of two contenders, for changes too small for `npm run bench` to see on a
// noisy machine. Both servers run at the same time on CPU 0, each loaded by its own autocannon on
// CPU 1, so whatever else slows the machine down slows both; the result is the ratio of their
// server CPU time per request, trial by trial, and its median. (Absolute numbers are higher than
// in `npm run bench`: the two servers share one core and its caches.)
//
// Usage: node bench/pair.mjs <a> <b> [--scenario S1] [--trials 5] [--duration 6] [--tokens 40000]
//   <a>, <b>: contenders of bench/server.mjs (bare, noop, crypto, express-m2m, ...). Build dist/ first.
//   express-m2m@<dir> is express-m2m built into <dir>: copy dist/ there before a change, rebuild,
//   then compare the two builds. <contender>:<scenario> runs that side in another scenario than
//   --scenario (S7's target: node bench/pair.mjs express-m2m:S2 express-m2m:S7).
//   Each line also gives the bytes each server allocated per request (bench/lib/allocation.mjs).
// Examples: node bench/pair.mjs noop express-m2m --scenario S1
//           cp -r dist dist-before && <change> && npm run build &&
//           node bench/pair.mjs express-m2m@dist-before express-m2m --scenario S2
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AUDIENCE, allocationMeterOf, startContender, startLoad } from './lib/cells.mjs';
import { cpuMicros, stop, runMain } from './lib/children.mjs';
import { startIssuer } from './lib/issuer.mjs';
import { SCENARIOS } from './lib/scenarios.mjs';
import { median } from './lib/summary.mjs';
import { mintScenarioTokens } from './lib/tokens.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { scenario: { type: 'string', default: 'S1' }, trials: { type: 'string', default: '5' }, duration: { type: 'string', default: '6' }, tokens: { type: 'string', default: '40000' } },
});
const [a, b] = positionals;
// "<contender>:<scenario>": that side's scenario; else --scenario.
const side = (spec) => {
  const [contender, own] = (spec ?? '').split(':');
  return { contender, scenario: own ?? values.scenario };
};
const sides = [side(a), side(b)];
if (!a || !b || !sides.every((x) => x.contender && SCENARIOS[x.scenario])) {
  console.error('usage: node bench/pair.mjs <contender a> <contender b> [--scenario S1..S7] [--trials n] [--duration s] [--tokens n]');
  process.exit(2);
}
const trials = Math.max(1, Number(values.trials));
const duration = Math.max(1, Number(values.duration));

/**
 * Starts `contender` and its load generator; `result` resolves with the load's numbers, the server
 * CPU per request and the bytes the server allocated per request.
 */
async function start({ contender, scenario }, issuers, tokens, tmp, name) {
  const { child, url } = await startContender(contender, issuers.main, { scenario, second: issuers.second, allocation: true });
  const meter = allocationMeterOf(child);
  let cpuStart;
  // 25 connections each: 50 in all, as in `npm run bench`.
  const load = startLoad({
    url,
    scenario,
    tokens,
    connections: 25,
    warmup: 2,
    duration,
    tmp,
    name,
    onWarmed: () => {
      cpuStart = cpuMicros(child.pid);
      meter.mark();
    },
  });
  const result = load.result.then(async (r) => {
    const usPerRequest = (cpuMicros(child.pid) - cpuStart) / r.total;
    return { ...r, usPerRequest, bytesPerRequest: await meter.read() };
  });
  return { child, load: load.child, result };
}

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), 'm2m-pair-'));
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
  const main = await startIssuer({ alg: 'RS256', tokenLifetime: 7200 });
  const second = sides.some((x) => SCENARIOS[x.scenario].twoIssuers) ? await startIssuer({ alg: 'RS256', tokenLifetime: 7200 }) : undefined;
  const count = sides.some((x) => SCENARIOS[x.scenario].checksEverySignature) ? Number(values.tokens) : 10;
  const tokens = await mintScenarioTokens(main, { audience: AUDIENCE, count, expiresIn: 7200, dir: tmp, second });
  const ratios = [];
  const bytes = { a: [], b: [] };
  try {
    for (let t = 1; t <= trials; t++) {
      const runs = [await start(sides[0], { main, second }, tokens, tmp, 'a'), await start(sides[1], { main, second }, tokens, tmp, 'b')];
      try {
        const [ra, rb] = await Promise.all(runs.map((r) => r.result));
        ratios.push(rb.usPerRequest / ra.usPerRequest);
        bytes.a.push(ra.bytesPerRequest);
        bytes.b.push(rb.bytesPerRequest);
        const show = (name, r) => `${name} ${r.usPerRequest.toFixed(1)} µs/request ${Math.round(r.bytesPerRequest)} B/request (${JSON.stringify(r.statusCodes)})`;
        console.log(`trial ${t}: ${show(a, ra)}, ${show(b, rb)}: ${b}/${a} = ${(rb.usPerRequest / ra.usPerRequest).toFixed(3)}`);
      } finally {
        await Promise.all(runs.flatMap((r) => [stop(r.load), stop(r.child)]));
      }
    }
  } finally {
    await main.close();
    await second?.close();
  }
  const where = sides[0].scenario === sides[1].scenario ? sides[0].scenario : `${sides[0].scenario}/${sides[1].scenario}`;
  console.log(`${where}: server CPU per request, ${b} / ${a}: median ${median(ratios).toFixed(3)} (min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)}, ${trials} trials)`);
  console.log(`${where}: bytes allocated per request (median): ${a} ${Math.round(median(bytes.a))}, ${b} ${Math.round(median(bytes.b))}`);
}

runMain(main);
