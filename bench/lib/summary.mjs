// Aggregates benchmark cells (one contender x scenario x round) and prints the table.
import { CONTENDER_LABELS, IMPORT_COST, SCENARIOS } from './scenarios.mjs';

export const median = (xs) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const r2 = (x) => (x === null ? null : Math.round(x * 100) / 100);

/**
 * The ratio the node:crypto calibration reached in `scenario` (its results by contender), where
 * that calibration is the floor of any verifier (scenarios that check every signature); else undefined.
 */
export function signatureFloor(byContender, scenario) {
  return SCENARIOS[scenario].checksEverySignature ? byContender.crypto?.ratio ?? undefined : undefined;
}

/**
 * express-m2m against its target's calibration (issue 15): its req/s over the reference app's
 * req/s in the same run (medians over the rounds), or null when either is missing.
 */
export function calibratedRatio(summary, scenario) {
  const m2m = summary[scenario]?.['express-m2m'];
  const ref = referenceCell(summary, scenario);
  if (!m2m?.rps || !ref?.rps) return null;
  return m2m.rps / ref.rps;
}

/** The cost of importing the package (issue 15): the import-cost app's req/s over the no-op calibration's, or null. */
export function importCostRatio(summary) {
  const cells = summary[IMPORT_COST.scenario];
  const imported = cells?.[IMPORT_COST.contender];
  const ref = cells?.[IMPORT_COST.reference];
  if (!imported?.rps || !ref?.rps) return null;
  return imported.rps / ref.rps;
}

/** The target on the chart's scale (ratio to bare Express): the target times the reference's ratio, or undefined. */
export function targetOnBareScale(summary, scenario) {
  const ref = referenceCell(summary, scenario);
  return typeof ref?.ratio === 'number' ? SCENARIOS[scenario].target * ref.ratio : undefined;
}

/** The summary cell of the calibration a scenario's target is stated against. */
function referenceCell(summary, scenario) {
  const spec = SCENARIOS[scenario];
  return summary[spec.referenceScenario ?? scenario]?.[spec.reference];
}

/** Counts every answer that is not the scenario's expected status, plus errors and timeouts. */
export function unexpectedCount(cell) {
  // Bare Express and the no-op calibration have no guard: they answer 200 in every scenario.
  const expect = cell.contender === 'bare' || cell.contender === 'noop' ? '200' : String(SCENARIOS[cell.scenario].expect);
  let n = (cell.errors ?? 0) + (cell.timeouts ?? 0);
  for (const [code, count] of Object.entries(cell.statusCodes ?? {})) if (code !== expect) n += count;
  return n;
}

export function summarize(cells, scenarios, contenders) {
  const out = {};
  for (const scenario of scenarios) {
    out[scenario] = {};
    for (const contender of contenders) {
      const mine = cells.filter((c) => c.scenario === scenario && c.contender === contender);
      if (!mine.length) continue;
      const ratios = mine
        .map((c) => {
          const bare = cells.find((b) => b.scenario === scenario && b.round === c.round && b.contender === 'bare');
          return bare && bare.rps > 0 ? c.rps / bare.rps : null;
        })
        .filter((x) => x !== null);
      const cpuRatios = mine
        .map((c) => {
          const bare = cells.find((b) => b.scenario === scenario && b.round === c.round && b.contender === 'bare');
          return bare?.serverCpu && c.serverCpu ? bare.serverCpu.usPerRequest / c.serverCpu.usPerRequest : null;
        })
        .filter((x) => x !== null);
      const unexpected = mine.reduce((a, c) => a + unexpectedCount(c), 0);
      const statusCodes = {};
      for (const c of mine) for (const [k, v] of Object.entries(c.statusCodes ?? {})) statusCodes[k] = (statusCodes[k] ?? 0) + v;
      out[scenario][contender] = {
        rounds: mine.length,
        rps: Math.round(median(mine.map((c) => c.rps))),
        p50: median(mine.map((c) => c.latency.p50)),
        p99: median(mine.map((c) => c.latency.p99)),
        ratio: r2(median(ratios)),
        ratioMin: r2(ratios.length ? Math.min(...ratios) : null),
        ratioMax: r2(ratios.length ? Math.max(...ratios) : null),
        cpuUsPerRequest: r2(median(mine.filter((c) => c.serverCpu).map((c) => c.serverCpu.usPerRequest))),
        cpuRatio: r2(median(cpuRatios)),
        serverUtilization: r2(median(mine.filter((c) => c.serverCpu).map((c) => c.serverCpu.utilization))),
        allocatedBytesPerRequest: median(mine.map((c) => c.allocatedBytesPerRequest).filter((x) => x !== undefined)),
        statusCodes,
        unexpected,
        tokensWrapped: mine.some((c) => c.tokensWrapped),
      };
    }
  }
  return out;
}

export function formatInboundTable(results) {
  const { summary, settings } = results.inbound;
  const lines = [];
  lines.push(`Inbound: ${settings.connections} connections, ${settings.warmupS} s warm-up + ${settings.durationS} s per cell, ${settings.rounds} round(s); ratio = req/s / bare Express 5 in the same round (median, min-max); cpu = server CPU time per request (/proc), cpu ratio = bare's / contender's`);
  const head = ['scenario', 'contender', 'req/s', 'p50 ms', 'p99 ms', 'ratio', 'min-max', 'cpu us/req', 'cpu ratio', 'B/req', 'target', 'statuses', 'flags'];
  const rows = [];
  for (const [scenario, byContender] of Object.entries(summary)) {
    const spec = SCENARIOS[scenario];
    for (const [contender, s] of Object.entries(byContender)) {
      const flags = [];
      if (s.unexpected > 0) flags.push(`!! ${s.unexpected} unexpected (expected ${contender === 'bare' || contender === 'noop' ? 200 : spec.expect})`);
      if (s.serverUtilization !== null && s.serverUtilization < 0.85) flags.push(`server CPU only ${Math.round(s.serverUtilization * 100)}% busy`);
      if (s.tokensWrapped && contender !== 'bare') flags.push('token pool came round again');
      const calibrated = contender === 'express-m2m' ? calibratedRatio(summary, scenario) : null;
      if (calibrated !== null) flags.push(`${calibrated.toFixed(3)} of ${spec.reference}${spec.referenceScenario ? ` (${spec.referenceScenario})` : ''}: ${calibrated >= spec.target ? 'meets target' : 'BELOW TARGET'}`);
      const importCost = contender === IMPORT_COST.contender ? importCostRatio(summary) : null;
      if (importCost !== null) flags.push(`${importCost.toFixed(3)} of ${IMPORT_COST.reference} (import cost): ${importCost >= IMPORT_COST.target ? 'meets target' : 'BELOW TARGET'}`);
      rows.push([
        scenario,
        CONTENDER_LABELS[contender] ?? contender,
        String(s.rps),
        String(s.p50),
        String(s.p99),
        s.ratio === null ? '-' : s.ratio.toFixed(2),
        s.ratioMin === null ? '-' : `${s.ratioMin.toFixed(2)}-${s.ratioMax.toFixed(2)}`,
        s.cpuUsPerRequest === null ? '-' : String(s.cpuUsPerRequest),
        s.cpuRatio === null ? '-' : s.cpuRatio.toFixed(2),
        s.allocatedBytesPerRequest === null ? '-' : String(Math.round(s.allocatedBytesPerRequest)),
        contender === 'express-m2m' ? `>= ${spec.target} of ${spec.reference}` : contender === IMPORT_COST.contender ? `>= ${IMPORT_COST.target} of ${IMPORT_COST.reference}` : '',
        Object.entries(s.statusCodes).map(([k, v]) => `${k}:${v}`).join(' '),
        flags.join('; '),
      ]);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r) => r.map((c, i) => (i >= 2 && i <= 9 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  lines.push(fmt(head), widths.map((w) => '-'.repeat(w)).join('  '));
  let last = '';
  for (const r of rows) {
    if (last && r[0] !== last) lines.push('');
    last = r[0];
    lines.push(fmt(r));
  }
  if (Object.keys(results.inbound.unavailable ?? {}).length) {
    lines.push('', 'unavailable:', ...Object.entries(results.inbound.unavailable).map(([k, v]) => `  ${k}: ${v}`));
  }
  return lines.join('\n');
}
