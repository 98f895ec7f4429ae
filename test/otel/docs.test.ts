/**
 * docs/observability.md stays true: its examples type-check (strict) and run as written against
 * the built package (the SDK set-up prints the spans and metrics it promises), its metric table
 * is the one otelEvents() defines (names and units), and its event table has every event type
 * with the log level logEvents() writes it at.
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { exampleFolder, examples, readDoc, ROOT, section } from '../docs-support.js';
import { COUNTERS, GAUGES } from '../../src/otel/metric-definitions.js';
import { EVENT_LOG_LEVELS } from '../../src/observability/log-levels.js';

const run = promisify(execFile);
const doc = readDoc('docs/observability.md');
const found = examples(doc);
const OTEL_PACKAGES = ['@opentelemetry/api', '@opentelemetry/context-async-hooks', '@opentelemetry/sdk-metrics', '@opentelemetry/sdk-trace-base', '@types/node'];
let dir: string;
let issuer: LocalIssuer;

beforeAll(async () => {
  dir = exampleFolder('express-m2m-docs-observability-', OTEL_PACKAGES);
  issuer = await createLocalIssuer();
});
afterAll(async () => {
  await issuer.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function runTs(name: string, env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  writeFileSync(join(dir, name), (found.get(name) as { code: string }).code);
  const tsx = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
  return run(process.execPath, [tsx, name], { cwd: dir, env: { ...process.env, ...env }, timeout: 30_000 });
}

/** The rows of the first table of a section, as arrays of cells. */
function tableRows(text: string): string[][] {
  return text.split('\n').filter((line) => line.startsWith('| `')).map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
}

describe('docs/observability.md examples type-check (strict) and run as written', () => {
  test('has the examples this test expects', () => {
    expect([...found.keys()]).toEqual(['otel-setup.ts', 'log-events.ts']);
  });

  test('they type-check under strict, module nodenext', async () => {
    for (const [name, { code }] of found) writeFileSync(join(dir, name), code);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'], skipLibCheck: true },
      files: [...found.keys()],
    }));
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: dir });
  }, 60_000);

  test('otel-setup.ts: the discovery and JWKS spans, the key fetch metric, the log line of the fetch', async () => {
    const { stdout, stderr } = await runTs('otel-setup.ts', { ISSUER_BASE_URL: issuer.url });
    expect(stderr).toBe('');
    expect(stdout).toContain("name: 'GET discovery'");
    expect(stdout).toContain("name: 'GET jwks'");
    expect(stdout).toContain("'url.full': '" + issuer.jwksUri + "'");
    expect(stdout).toContain("name: 'express_m2m.keys.fetches'");
    expect(stdout).toContain('express-m2m keys.fetched');
  }, 40_000);

  test('log-events.ts prints what the text says', async () => {
    const example = found.get('log-events.ts');
    expect(example?.printed).toEqual(['express-m2m auth.rejected 401 ERR_JWT_SIGNATURE_INVALID GET /orders', 'express-m2m 3 events suppressed (log rate limit)']);
    const { stdout, stderr } = await runTs('log-events.ts');
    // console.info writes to stdout, console.warn (the summary) to stderr.
    const lines = `${stdout}${stderr}`.split('\n').filter((line) => line.startsWith('express-m2m'));
    expect(lines.map((line) => line.split(' {')[0])).toEqual([
      'express-m2m auth.rejected 401 ERR_JWT_SIGNATURE_INVALID GET /orders',
      'express-m2m auth.rejected 401 ERR_JWT_SIGNATURE_INVALID GET /orders',
      'express-m2m 3 events suppressed (log rate limit)',
    ]);
  }, 40_000);
});

describe('docs/observability.md tables are the code\'s', () => {
  test('"Metrics": every metric otelEvents() defines, with its unit, and no other', () => {
    const rows = tableRows(section(doc, 'Metrics')).map(([name, kind]) => [name?.replace(/`/g, ''), kind?.replace(/`/g, '')]);
    const defined = [
      ...Object.entries(COUNTERS).map(([name, { unit }]) => [name, `counter, ${unit}`]),
      ...Object.entries(GAUGES).map(([name, { unit }]) => [name, `gauge, ${unit}`]),
    ];
    expect(rows.sort()).toEqual(defined.sort());
  });

  test('"Events": every event type, with the log level logEvents() writes it at', () => {
    const rows = tableRows(section(doc, 'Events')).map((cells) => [cells[0]?.replace(/`/g, ''), cells[3]]);
    expect(Object.fromEntries(rows)).toEqual(EVENT_LOG_LEVELS);
    expect(rows).toHaveLength(Object.keys(EVENT_LOG_LEVELS).length);
  });
});
