// Command-line flags and environment variables of `npm run bench`.
import { parseArgs } from 'node:util';

export const ALL_SCENARIOS = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7'];
export const ALL_CONTENDERS = ['bare', 'express-m2m', 'express-oauth2-jwt-bearer', 'express-jwt'];
/** Not contenders: apps that show the cost of being a middleware at all (noop) and of the signature check alone (crypto). */
export const CALIBRATIONS = ['noop', 'crypto', 'noop-imported'];
const DEFAULT_CONTENDERS = ['bare', ...CALIBRATIONS, ...ALL_CONTENDERS.filter((c) => c !== 'bare')];

export const HELP = `npm run bench -- [options]      (every option also reads BENCH_<NAME> from the environment)

  --quick               smoke run: 1 round, 1 s warm-up + 2 s per cell, 2000 tokens, short outbound/memory runs
  --duration <s>        measured seconds per cell (default 8)
  --warmup <s>          warm-up seconds per cell, same server process (default 2)
  --rounds <n>          rounds; each round runs every contender once per scenario, order rotated (default 3)
  --connections <n>     autocannon connections (default 50)
  --tokens <n>          distinct tokens per pool for S2/S3/S4 (default 40000)
  --scenarios <list>    e.g. S1,S2 (default S1,S2,S3,S4,S5,S6,S7; S6: DPoP, a new proof per request;
                        S7: two trusted issuers)
  --contenders <list>   e.g. bare,express-m2m (default: bare, the two calibrations, express-m2m and both peers).
                        Calibrations: "noop" (a middleware that only reads the header and calls next()) and
                        "crypto" (only the signature check through node:crypto: the floor of any verifier),
                        "noop-imported" (noop with express-m2m imported: the cost of loading it, S1 only)
  --skip <list>         parts to skip: inbound,verifier,outbound,steady,memory
  --profile             also profile express-m2m (V8 sampling profiler, after warm-up) under S1, S2 and S5
  --no-build            do not run "tsc -p tsconfig.build.json" first
  --out <file>          results JSON (default bench/results/latest.json; the chart goes next to it as chart.svg)
  --help
`;

const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

export function readOptions(argv = process.argv.slice(2), env = process.env) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      tokens: { type: 'string' },
      scenarios: { type: 'string' },
      contenders: { type: 'string' },
      skip: { type: 'string' },
      profile: { type: 'boolean' },
      'no-build': { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  const pick = (name, fallback) => values[name] ?? env[`BENCH_${name.toUpperCase()}`] ?? fallback;
  const quick = Boolean(values.quick || env.BENCH_QUICK === '1');
  const num = (name, normal, quickValue) => {
    const raw = pick(name, undefined);
    const n = raw === undefined ? (quick ? quickValue : normal) : Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`bench: --${name} must be a non-negative number, got "${raw}"`);
    return n;
  };
  const scenarios = list(pick('scenarios', ALL_SCENARIOS.join(',')));
  const contenders = list(pick('contenders', DEFAULT_CONTENDERS.join(',')));
  for (const s of scenarios) if (!ALL_SCENARIOS.includes(s)) throw new Error(`bench: unknown scenario "${s}"`);
  for (const c of contenders) if (!ALL_CONTENDERS.includes(c) && !CALIBRATIONS.includes(c)) throw new Error(`bench: unknown contender "${c}"`);
  if (!contenders.includes('bare')) contenders.unshift('bare'); // ratios need the baseline
  return {
    help: Boolean(values.help),
    quick,
    duration: num('duration', 8, 2),
    warmup: num('warmup', 2, 1),
    rounds: Math.max(1, Math.round(num('rounds', 3, 1))),
    connections: Math.max(1, Math.round(num('connections', 50, 50))),
    tokens: Math.max(10, Math.round(num('tokens', 40000, 2000))),
    scenarios,
    contenders,
    skip: new Set(list(pick('skip', ''))),
    profile: Boolean(values.profile || env.BENCH_PROFILE === '1'),
    build: !(values['no-build'] || env.BENCH_NO_BUILD === '1'),
    out: pick('out', undefined),
  };
}
