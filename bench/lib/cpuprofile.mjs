// Reads a V8 .cpuprofile (node --cpu-prof) and tells where the time goes: self time per function
// and per package.
import { readFileSync } from 'node:fs';

function packageOf(url) {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return 'node core';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.includes('/dist/')) return 'express-m2m (dist)';
  if (url.includes('/bench/')) return 'bench app';
  return url;
}

/**
 * @param {string} file path of a .cpuprofile
 * @param {number} [top] how many functions to list
 */
export function analyzeCpuProfile(file, top = 20) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the next delta to this sample.
    const dt = timeDeltas[i + 1] ?? 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + dt);
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const fns = new Map();
  const pkgs = new Map();
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id);
    const name = callFrame.functionName || '(anonymous)';
    const where = callFrame.url ? `${callFrame.url.replace(/^file:\/\/.*?\/(node_modules|dist|bench)\//, '$1/')}:${callFrame.lineNumber + 1}` : '(native)';
    const special = ['(idle)', '(program)', '(garbage collector)'].includes(name);
    const key = special ? name : `${name} ${where}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const pkg = special ? name : packageOf(callFrame.url);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
  }
  const idle = pkgs.get('(idle)') ?? 0;
  fns.delete('(idle)');
  pkgs.delete('(idle)');
  const busy = total - idle;
  const rows = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), pct: Math.round((1000 * us) / busy) / 10 }));
  return {
    totalMs: Math.round(total / 1000),
    busyMs: Math.round(busy / 1000),
    idlePct: Math.round((1000 * idle) / total) / 10,
    topFunctions: rows(fns).slice(0, top),
    byPackage: rows(pkgs).slice(0, 15),
  };
}
