// Renders the inbound results as an SVG bar chart (no dependency): per scenario, one bar per
// contender with its req/s ratio to bare Express 5, and express-m2m's target as a dashed line.
import { CONTENDER_LABELS, SCENARIOS } from './scenarios.mjs';
import { signatureFloor, targetOnBareScale } from './summary.mjs';

const COLORS = { 'express-m2m': '#2b7bb9', 'express-oauth2-jwt-bearer': '#e8a33d', 'express-jwt': '#8c8c8c' };
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderChart(results) {
  const { summary } = results.inbound;
  const scenarios = Object.keys(summary);
  const contenders = Object.keys(COLORS).filter((c) => scenarios.some((s) => summary[s][c]));
  const floors = Object.fromEntries(scenarios.map((s) => [s, signatureFloor(summary[s], s)]));
  const W = 900;
  const H = 450;
  const m = { top: 64, right: 20, bottom: 112, left: 56 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const maxRatio = Math.max(1.1, ...scenarios.flatMap((s) => contenders.map((c) => summary[s][c]?.ratio ?? 0))) ;
  const yMax = Math.ceil(maxRatio * 10) / 10;
  const y = (v) => m.top + ph - (v / yMax) * ph;
  const gw = pw / scenarios.length;
  const bw = Math.min(46, (gw * 0.75) / Math.max(1, contenders.length));
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  const when = results.inbound.date.slice(0, 16).replace('T', ' ');
  const mach = results.inbound.machine ?? results.machine;
  out.push(`<text x="${m.left}" y="22" font-size="15" font-weight="bold">Requests/s as a ratio of bare Express 5 (higher is better)</text>`);
  out.push(`<text x="${m.left}" y="40" fill="#555">${esc(`${when} UTC · ${mach.cpuModel}, ${mach.cores} cores · node ${mach.node} · ${results.inbound.settings.connections} connections · load avg at start ${mach.loadAverageAtStart.join(' ')}`)}</text>`);
  // grid
  const step = yMax > 2 ? 0.5 : 0.2;
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    const yy = y(v).toFixed(1);
    out.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${yy}" y2="${yy}" stroke="${Math.abs(v - 1) < 1e-9 ? '#333' : '#e5e5e5'}" stroke-width="1"/>`);
    out.push(`<text x="${m.left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${v.toFixed(1)}</text>`);
  }
  scenarios.forEach((s, i) => {
    const gx = m.left + i * gw;
    const x0 = gx + (gw - bw * contenders.length) / 2;
    contenders.forEach((c, j) => {
      const r = summary[s][c]?.ratio;
      if (r === null || r === undefined) return;
      const x = x0 + j * bw;
      out.push(`<rect x="${(x + 2).toFixed(1)}" y="${y(r).toFixed(1)}" width="${(bw - 4).toFixed(1)}" height="${(y(0) - y(r)).toFixed(1)}" fill="${COLORS[c]}"><title>${esc(`${s} ${CONTENDER_LABELS[c]}: ${r.toFixed(2)} (${summary[s][c].rps} req/s)`)}</title></rect>`);
      out.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${(y(r) - 4).toFixed(1)}" text-anchor="middle" font-size="11">${r.toFixed(2)}</text>`);
    });
    // The node:crypto calibration: what a middleware that only checks the signature reaches.
    const floor = floors[s];
    if (floor !== undefined) {
      out.push(`<line x1="${(x0 - 6).toFixed(1)}" x2="${(x0 + bw * contenders.length + 6).toFixed(1)}" y1="${y(floor).toFixed(1)}" y2="${y(floor).toFixed(1)}" stroke="#2e8b57" stroke-width="2" stroke-dasharray="2 2"><title>${esc(`${s} ${CONTENDER_LABELS.crypto}: ${floor.toFixed(2)}`)}</title></line>`);
    }
    // The target is a ratio to a calibration of the same run: drawn on the chart's scale.
    const t = targetOnBareScale(summary, s);
    if (t !== undefined) out.push(`<line x1="${(x0 - 6).toFixed(1)}" x2="${(x0 + bw * contenders.length + 6).toFixed(1)}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#c0392b" stroke-width="2" stroke-dasharray="6 3"/>`);
    out.push(`<text x="${(gx + gw / 2).toFixed(1)}" y="${(y(0) + 18).toFixed(1)}" text-anchor="middle" font-weight="bold">${s}</text>`);
    const words = SCENARIOS[s].title.split(' ');
    const half = Math.ceil(words.length / 2);
    out.push(`<text x="${(gx + gw / 2).toFixed(1)}" y="${(y(0) + 33).toFixed(1)}" text-anchor="middle" fill="#555" font-size="10.5">${esc(words.slice(0, half).join(' '))}</text>`);
    out.push(`<text x="${(gx + gw / 2).toFixed(1)}" y="${(y(0) + 46).toFixed(1)}" text-anchor="middle" fill="#555" font-size="10.5">${esc(words.slice(half).join(' '))}</text>`);
  });
  // legend: contenders on the first row, reference lines on the second
  let lx = m.left;
  let ly = H - 30;
  for (const c of contenders) {
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLORS[c]}"/>`);
    out.push(`<text x="${lx + 17}" y="${ly}">${esc(CONTENDER_LABELS[c])}</text>`);
    lx += 32 + CONTENDER_LABELS[c].length * 6.4;
  }
  const lines = [['#c0392b', '6 3', 2, 'express-m2m target']];
  if (scenarios.some((s) => floors[s] !== undefined)) {
    lines.push(['#2e8b57', '2 2', 2, 'a middleware doing only the node:crypto signature check (S2-S4)']);
  }
  lines.push(['#333', '', 1, 'bare Express 5 = 1.0']);
  lx = m.left;
  ly = H - 10;
  for (const [color, dash, width, label] of lines) {
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    out.push(`<text x="${lx + 28}" y="${ly}">${esc(label)}</text>`);
    lx += 48 + label.length * 6.2;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
