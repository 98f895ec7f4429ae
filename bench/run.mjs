// `npm run bench`: express-m2m against its peers (issue 5). See bench/README.md and --help.
//
// Inbound: every contender in its own process pinned to CPU 0, autocannon in its own process
// pinned to CPU 1, scenarios S1-S6, contenders interleaved round by round. Then the outbound
// benchmarks (bench/outbound.mjs: cold start; bench/outbound-steady.mjs: S8, provider.fetch() on a
// warm token) and the memory benchmark (bench/memory.mjs), each in a child.
// Results: bench/results/latest.json and bench/results/chart.svg.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem, release } from 'node:os';
import { dirname, join } from 'node:path';
import { cpuMicros, pinning, spawnNode, stop, waitForLine, runMain } from './lib/children.mjs';
import { AUDIENCE, LOAD_CPU, SERVER_CPU, allocationMeterOf, startContender, startLoad } from './lib/cells.mjs';
import { analyzeCpuProfile } from './lib/cpuprofile.mjs';
import { renderChart } from './lib/chart.mjs';
import { startIssuer } from './lib/issuer.mjs';
import { HELP, readOptions } from './lib/options.mjs';
import { benchDir, resultsDir, rootDir } from './lib/paths.mjs';
import { CONTENDER_LABELS, IMPORT_COST, ISSUE_REFERENCE, SCENARIOS, STEADY_OUTBOUND_TARGET, runsIn } from './lib/scenarios.mjs';
import { formatInboundTable, summarize } from './lib/summary.mjs';
import { mintScenarioTokens } from './lib/tokens.mjs';


let opts;
try {
  opts = readOptions();
} catch (err) {
  console.error(`${err.message}\n\n${HELP}`);
  process.exit(2);
}
if (opts.help) {
  console.log(HELP);
  process.exit(0);
}
const log = (...a) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

function build() {
  log('building the library (tsc -p tsconfig.build.json)...');
  try {
    execFileSync(process.execPath, [join(rootDir, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: rootDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    });
  } catch (err) {
    // Other areas may be mid-change; tsc still emits, so bench what was built and say so.
    log(`WARNING: the build reported errors; benchmarking the files it emitted.\n${String(err.stdout ?? err).slice(0, 2000)}`);
    return false;
  }
  return true;
}

function machineInfo() {
  const cpu = cpus()[0];
  return {
    cpuModel: cpu?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${process.platform} ${release()}`,
    pinning: pinning ? `server on CPU ${SERVER_CPU}, load generator on CPU ${LOAD_CPU} (taskset)` : 'none (no taskset or fewer than 2 CPUs)',
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** Runs autocannon against `url` with the run's settings; resolves with its result. */
function load(url, scenario, tokens, tmp, onWarmed) {
  const { connections, warmup, duration } = opts;
  return startLoad({ url, scenario, tokens, connections, warmup, duration, tmp, name: scenario, onWarmed }).result;
}

async function runCell(contender, scenario, round, issuers, tokens, tmp) {
  const { child, url } = await startContender(contender, issuers.main, { scenario, second: issuers.second, allocation: true });
  const meter = allocationMeterOf(child);
  try {
    // The server's own CPU time over the measured part: a cost per request that other load on
    // the machine disturbs much less than req/s does. And the bytes it allocated per request.
    let cpuStart;
    let tStart;
    const r = await load(url, scenario, tokens, tmp, () => {
      cpuStart = cpuMicros(child.pid);
      tStart = performance.now();
      meter.mark();
    });
    const cpuEnd = cpuMicros(child.pid);
    const elapsedUs = (performance.now() - tStart) * 1000;
    const bytesPerRequest = await meter.read();
    const served = Object.values(r.statusCodes).reduce((a, b) => a + b, 0);
    const serverCpu = cpuStart === undefined || cpuEnd === undefined || !served
      ? undefined
      : { usPerRequest: Math.round(((cpuEnd - cpuStart) / served) * 10) / 10, utilization: Math.round(((cpuEnd - cpuStart) / elapsedUs) * 100) / 100 };
    return { scenario, round, contender, ...r, serverCpu, allocatedBytesPerRequest: bytesPerRequest === undefined ? undefined : Math.round(bytesPerRequest) };
  } finally {
    await stop(child);
  }
}

async function runInbound(tmp) {
  const runSeconds = opts.scenarios.length * opts.rounds * opts.contenders.length * (opts.warmup + opts.duration + 4);
  const expiresIn = Math.ceil(runSeconds * 2 + 3600);
  const issuer = await startIssuer({ alg: 'RS256', tokenLifetime: expiresIn });
  // S7: a second issuer of its own (its own URL and keys).
  const second = opts.scenarios.some((s) => SCENARIOS[s].twoIssuers) ? await startIssuer({ alg: 'RS256', tokenLifetime: expiresIn }) : undefined;
  const loadAverageAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
  log(`issuer: ${issuer.kind} at ${issuer.url}${second ? `, second issuer at ${second.url}` : ''}`);
  try {
    const tokens = await mintScenarioTokens(issuer, { audience: AUDIENCE, count: opts.tokens, expiresIn, dir: tmp, log, second });
    log(`minted in ${tokens.mintSeconds.toFixed(1)} s; about ${Math.round(runSeconds / 60)} min of load follows`);
    const cells = [];
    const unavailable = {};
    for (const scenario of opts.scenarios) {
      for (let round = 1; round <= opts.rounds; round++) {
        // Rotate the order every round so no contender always runs first or last.
        const k = (round - 1) % opts.contenders.length;
        const order = [...opts.contenders.slice(k), ...opts.contenders.slice(0, k)];
        for (const contender of order) {
          if (unavailable[contender] || !runsIn(contender, scenario)) continue;
          try {
            const cell = await runCell(contender, scenario, round, { main: issuer, second }, tokens, tmp);
            cells.push(cell);
            log(`${scenario} r${round} ${contender.padEnd(26)} ${String(Math.round(cell.rps)).padStart(6)} req/s  p50 ${cell.latency.p50} ms  p99 ${cell.latency.p99} ms  ${cell.allocatedBytesPerRequest} B/req  ${JSON.stringify(cell.statusCodes)}`);
          } catch (err) {
            if (contender === 'bare') throw err;
            unavailable[contender] = String(err.message ?? err).split('\n')[0].slice(0, 300);
            log(`${contender} is unavailable, skipped from now on: ${unavailable[contender]}`);
          }
        }
      }
    }
    return {
      date: new Date().toISOString(),
      issuer: issuer.kind,
      machine: { ...machineInfo(), loadAverageAtStart, loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
      settings: { connections: opts.connections, warmupS: opts.warmup, durationS: opts.duration, rounds: opts.rounds, tokensPerPool: opts.tokens, mintSeconds: tokens.mintSeconds },
      unavailable,
      summary: summarize(cells, opts.scenarios, opts.contenders),
      cells,
    };
  } finally {
    await issuer.close();
    await second?.close();
  }
}

async function runProfiles(tmp) {
  const issuer = await startIssuer({ alg: 'RS256', tokenLifetime: 7200 });
  try {
    const tokens = await mintScenarioTokens(issuer, { audience: AUDIENCE, count: opts.tokens, expiresIn: 7200, dir: tmp, log });
    const out = {};
    for (const scenario of ['S1', 'S2', 'S5']) {
      const file = join(tmp, `express-m2m-${scenario}.cpuprofile`);
      const { child, url } = await startContender('express-m2m', issuer, { env: { CPU_PROFILE_FILE: file } });
      let r;
      try {
        // Profile the measured part only: start the profiler once the warm-up is over.
        r = await load(url, scenario, tokens, tmp, () => child.kill('SIGUSR2'));
      } finally {
        await stop(child, 15_000);
      }
      if (!existsSync(file)) throw new Error(`no CPU profile written for ${scenario}`);
      out[scenario] = { rps: Math.round(r.rps), ...analyzeCpuProfile(file, 25) };
      log(`profile ${scenario} (${out[scenario].rps} req/s under the profiler; % of busy time, idle ${out[scenario].idlePct}%):`);
      for (const row of out[scenario].byPackage.slice(0, 8)) console.log(`    ${String(row.pct).padStart(5)}%  ${row.name}`);
      console.log('    top self-time functions:');
      for (const row of out[scenario].topFunctions.slice(0, 15)) console.log(`    ${String(row.pct).padStart(5)}%  ${row.name}`);
    }
    return { date: new Date().toISOString(), note: 'self time of the express-m2m server process during the measured load (after warm-up), V8 sampling profiler; percentages of busy (non-idle) time', scenarios: out };
  } finally {
    await issuer.close();
  }
}

/** Runs a part of the suite (outbound.mjs, memory.mjs) in a child and returns its JSON result. */
async function runPart(script, timeoutMs, cpu = undefined) {
  const child = spawnNode(cpu, [join(benchDir, script), ...(opts.quick ? ['--quick'] : [])]);
  child.lines.on('line', (line) => {
    if (!line.startsWith('RESULT ')) console.log(`  ${line}`);
  });
  try {
    return JSON.parse(await waitForLine(child, 'RESULT', timeoutMs));
  } catch (err) {
    log(`${script} failed: ${err.message}`);
    return { error: String(err.message).slice(0, 500) };
  } finally {
    await stop(child);
  }
}

async function main() {
  const built = opts.build ? build() : null;
  const tmp = mkdtempSync(join(tmpdir(), 'm2m-bench-'));
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
  const outFile = opts.out ?? join(resultsDir, 'latest.json');
  const previous = existsSync(outFile) ? JSON.parse(readFileSync(outFile, 'utf8')) : {};
  const machine = machineInfo();
  log(`${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}; pinning: ${machine.pinning}`);
  const results = {
    date: new Date().toISOString(),
    machine,
    build: built === null ? 'skipped (--no-build)' : built ? 'ok' : 'tsc reported errors',
    options: { ...opts, skip: [...opts.skip] },
    targets: { ...Object.fromEntries(Object.entries(SCENARIOS).map(([k, v]) => [k, v.target])), importCost: IMPORT_COST.target, S8: STEADY_OUTBOUND_TARGET },
    issueReference: ISSUE_REFERENCE,
    contenderLabels: CONTENDER_LABELS,
    inbound: previous.inbound ?? null,
    outbound: previous.outbound ?? null,
    steady: previous.steady ?? null,
    verifier: previous.verifier ?? null,
    memory: previous.memory ?? null,
    profile: previous.profile ?? null,
    calibration: previous.calibration ?? null,
  };
  if (!opts.skip.has('inbound')) results.inbound = await runInbound(tmp);
  if (!opts.skip.has('verifier')) {
    log('verifier micro-benchmark...');
    results.verifier = await runPart('verifier.mjs', 400_000, SERVER_CPU);
  }
  if (!opts.skip.has('outbound')) {
    log('outbound benchmark...');
    results.outbound = await runPart('outbound.mjs', 600_000);
  }
  if (!opts.skip.has('steady')) {
    log('steady outbound benchmark (S8)...');
    results.steady = await runPart('outbound-steady.mjs', 400_000);
  }
  if (!opts.skip.has('memory')) {
    log('memory benchmark...');
    results.memory = await runPart('memory.mjs', 1_800_000);
  }
  if (opts.profile) results.profile = await runProfiles(tmp);
  machine.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);

  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  if (results.inbound) {
    writeFileSync(join(dirname(outFile), 'chart.svg'), renderChart(results));
    console.log(`\n${formatInboundTable(results)}`);
  }
  log(`results: ${outFile}${results.inbound ? ` and ${join(dirname(outFile), 'chart.svg')}` : ''}`);
}

runMain(main);
