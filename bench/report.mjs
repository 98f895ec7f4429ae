// Prints the Performance tables of bench/README.md (Markdown) from a results file.
// Usage: node bench/report.mjs [bench/results/latest.json]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultsDir } from './lib/paths.mjs';
import { CONTENDER_LABELS, IMPORT_COST, SCENARIOS } from './lib/scenarios.mjs';
import { calibratedRatio, importCostRatio, signatureFloor } from './lib/summary.mjs';

const REFERENCE_NAMES = { noop: 'no-op', crypto: 'floor', 'express-m2m': 'express-m2m' };

const results = JSON.parse(readFileSync(process.argv[2] ?? join(resultsDir, 'latest.json'), 'utf8'));
const out = [];
const { inbound, outbound, memory } = results;
const machine = inbound?.machine ?? results.machine;
const fx = (x) => (x === null || x === undefined ? 'n/a' : x.toFixed(2));

if (inbound) {
  out.push('### Inbound: requests per second as a ratio of bare Express 5', '');
  const peers = ['express-oauth2-jwt-bearer', 'express-jwt'];
  out.push(`| scenario | ${peers.map((p) => CONTENDER_LABELS[p]).join(' | ')} | **express-m2m** | signature check only (floor) | no-op middleware | bare Express 5 req/s | **express-m2m / calibration** | target |`);
  out.push(`|---|${peers.map(() => '---:').join('|')}|---:|---:|---:|---:|---:|---:|`);
  for (const [s, by] of Object.entries(inbound.summary)) {
    const m = by['express-m2m'];
    const spec = SCENARIOS[s];
    const calibrated = calibratedRatio(inbound.summary, s);
    const mark = calibrated === null ? '' : calibrated >= spec.target ? '' : ' (below)';
    const reference = `${REFERENCE_NAMES[spec.reference]}${spec.referenceScenario ? ` of ${spec.referenceScenario}` : ''}`;
    const flag = (c) => (c && c.unexpected > 0 ? ' ⚠' : '');
    const floor = signatureFloor(by, s);
    out.push(`| ${s} ${SCENARIOS[s].title} | ${peers.map((p) => `${fx(by[p]?.ratio)}${flag(by[p])}`).join(' | ')} | **${fx(m?.ratio)}**${flag(m)} | ${floor === undefined ? '–' : fx(floor)} | ${fx(by.noop?.ratio)} | ${by.bare?.rps ?? 'n/a'} | **${calibrated === null ? 'n/a' : calibrated.toFixed(3)}**${mark} | ≥ ${spec.target} of ${reference} |`);
  }
  const importCost = importCostRatio(inbound.summary);
  if (importCost !== null) {
    const mark = importCost >= IMPORT_COST.target ? '' : ' (below)';
    out.push(`| import cost: ${IMPORT_COST.scenario} with express-m2m imported, nothing of it used | – | – | – | – | – | – | **${importCost.toFixed(3)}**${mark} | ≥ ${IMPORT_COST.target} of no-op |`);
  }
  out.push('');
  out.push('<details><summary>Requests/s, latency, server CPU time and bytes allocated per request of every contender</summary>', '');
  out.push(`| scenario | contender | req/s | p50 ms | p99 ms | server CPU µs/request | CPU ratio | bytes allocated/request |`);
  out.push(`|---|---|---:|---:|---:|---:|---:|---:|`);
  for (const [s, by] of Object.entries(inbound.summary)) {
    for (const [c, v] of Object.entries(by)) out.push(`| ${s} | ${CONTENDER_LABELS[c] ?? c} | ${v.rps} | ${v.p50} | ${v.p99} | ${v.cpuUsPerRequest ?? 'n/a'} | ${fx(v.cpuRatio)} | ${v.allocatedBytesPerRequest === null || v.allocatedBytesPerRequest === undefined ? 'n/a' : Math.round(v.allocatedBytesPerRequest)} |`);
  }
  out.push('', '</details>', '');
  out.push(`Measured ${inbound.date.slice(0, 16).replace('T', ' ')} UTC on ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}; ${machine.pinning}; ${inbound.settings.connections} connections, ${inbound.settings.warmupS} s warm-up + ${inbound.settings.durationS} s per cell, ${inbound.settings.rounds} round${inbound.settings.rounds === 1 ? '' : 's'}; load average ${machine.loadAverageAtStart.join(' / ')} at start, ${machine.loadAverageAtEnd?.join(' / ')} at end.`);
  out.push('');
}
if (results.verifier?.rows) {
  const v = results.verifier;
  out.push('### The verifier alone: one thread, no HTTP', '');
  out.push(`| verifier, one thread, no HTTP | verifications/s | µs each | share of the crypto limit |`);
  out.push('|---|---:|---:|---:|');
  for (const r of v.rows) out.push(`| ${r.name} | ${r.perSecond} | ${r.usPerOp} | ${r.ofCryptoLimit === undefined ? '' : r.ofCryptoLimit.toFixed(2)} |`);
  out.push('', `Measured ${v.date.slice(0, 16).replace('T', ' ')} UTC, pinned to CPU 0: ${v.rounds} rounds of ${v.sliceMs} ms per mode, medians; the share of the crypto limit is taken per round against \`node:crypto\` in the same round. Pools of ${v.pool.toLocaleString('en')} tokens, express-m2m's verified-token cache set to ${v.cacheEntries.toLocaleString('en')} entries so that the distinct-token modes miss it.`, '');
}
if (outbound?.rows) {
  out.push(`### Outbound: ${outbound.calls} concurrent "get a token + call" on a cold start`, '');
  out.push(`| client | processes | token endpoint hits | total time |`);
  out.push('|---|---:|---:|---:|');
  for (const r of outbound.rows) {
    out.push(r.skipped ? `| ${r.name} | | skipped: ${r.skipped} | |` : `| ${r.name} | ${r.processes} | ${r.tokenEndpointHits} | ${r.totalMs} ms |`);
  }
  out.push('', `Measured ${outbound.date.slice(0, 16).replace('T', ' ')} UTC. Each client runs in fresh processes with a client of its own registered at the local issuer; all ${outbound.calls} calls start at once and each gets a token, then calls a local downstream server.`, '');
}
if (results.steady?.summary) {
  const { summary: st, date, trials, warmupS, durationS, connections, target } = results.steady;
  out.push('### Outbound, steady (S8): `provider.fetch()` on a warm token against `fetch` with a fixed header', '');
  out.push('| client | calls/s | client CPU µs/call | bytes allocated/call | client CPU busy |');
  out.push('|---|---:|---:|---:|---:|');
  out.push(`| \`fetch\` with a fixed \`Authorization\` header | ${st.plain.callsPerSecond} | ${st.plain.cpuUsPerCall} | ${st.plain.bytesPerCall} | ${st.plain.utilization} |`);
  out.push(`| express-m2m \`provider.fetch()\` | ${st.provider.callsPerSecond} | ${st.provider.cpuUsPerCall} | ${st.provider.bytesPerCall} | ${st.provider.utilization} |`);
  out.push('', `**${st.ratio.toFixed(3)}** of plain \`fetch\`'s calls/s (median of ${trials} alternating trials, ${st.ratioMin.toFixed(3)}-${st.ratioMax.toFixed(3)}; target ≥ ${target}${st.ratio >= target ? ', met' : ', below'}); CPU per call ratio ${st.cpuRatio.toFixed(3)}. Measured ${date.slice(0, 16).replace('T', ' ')} UTC: ${connections} concurrent loops in one client process pinned to CPU 0, a \`node:http\` downstream on CPU 1, ${warmupS} s warm-up + ${durationS} s per trial.`, '');
}
if (memory?.runs) {
  out.push(`### Memory: ${memory.tokens.toLocaleString('en')} distinct tokens through requireAuth`, '');
  out.push(`| run | RSS before → after | heap after GC, before → after | largest heap growth |`);
  out.push('|---|---:|---:|---:|');
  for (const r of memory.runs) {
    out.push(`| ${r.label ?? `verified-token cache ${r.verifiedTokenCache}`} | ${r.baseline.rssMB} → ${r.final.rssMB} MB | ${r.baseline.heapUsedMB} → ${r.final.heapUsedMB} MB | +${r.maxHeapGrowthMB} MB |`);
  }
  out.push('', `Measured ${memory.date.slice(0, 16).replace('T', ' ')} UTC: tokens sent through \`requireAuth\` over 32 keep-alive connections, in a server process of its own (\`--expose-gc\`), memory read after full collections at ten checkpoints.`);
  if (memory.largeCacheCostMB !== undefined) {
    out.push('', `The verified-token cache stops growing at its ${memory.cacheMaxEntries.toLocaleString('en')} entries: about ${memory.cacheCostMB} MB of heap with ${memory.tokenLength}-character tokens (${memory.cacheCostPerEntryKB} KB an entry), about ${memory.largeCacheCostMB} MB with ${memory.largeTokenLength}-character tokens (${memory.largeCacheCostPerEntryKB} KB an entry, near the default \`maxTokenLength\` of 8192).`);
  }
  out.push('');
}
console.log(out.join('\n'));
