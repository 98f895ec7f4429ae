/**
 * package.json: `@opentelemetry/api` is an optional peer dependency. The BUILT package, installed
 * without it, works (`import` and `require` of `express-m2m`); only `express-m2m/otel` needs it.
 * The consumer has express-m2m (its package.json and dist/) and jose alone and runs with
 * `--preserve-symlinks`, so that the package resolves its dependencies from the consumer's
 * node_modules, as an installed package does.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');
let dir: string;

const probe = `
const outcome = (promise) => promise.then((module) => Object.keys(module).sort().join(','), (error) => error.code + ' ' + (String(error.message).includes('@opentelemetry/api') ? 'names the api' : error.message));
(async () => {
  const esm = await outcome(import('express-m2m'));
  let cjs;
  try { cjs = typeof require('express-m2m').requireAuth; } catch (error) { cjs = error.code; }
  const otel = await outcome(import('express-m2m/otel'));
  console.log(JSON.stringify({ main: esm.includes('requireAuth'), cjs, otel }));
})();
`;

beforeAll(() => {
  if (!existsSync(join(root, 'dist/otel.js'))) throw new Error('dist/ is missing: run `npm run build` first (`npm test` does)');
  dir = mkdtempSync(join(tmpdir(), 'express-m2m-no-otel-'));
  mkdirSync(join(dir, 'node_modules/@opentelemetry'), { recursive: true });
  // The package as installed: its package.json and dist/, without the repository's node_modules.
  mkdirSync(join(dir, 'node_modules/express-m2m'));
  copyFileSync(join(root, 'package.json'), join(dir, 'node_modules/express-m2m/package.json'));
  symlinkSync(join(root, 'dist'), join(dir, 'node_modules/express-m2m/dist'));
  symlinkSync(join(root, 'node_modules/jose'), join(dir, 'node_modules/jose'));
  writeFileSync(join(dir, 'probe.cjs'), probe);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('@opentelemetry/api is an optional peer: needed by express-m2m/otel only', () => {
  test('without it, express-m2m loads (import and require); express-m2m/otel names what is missing', async () => {
    const { stdout } = await run(process.execPath, ['--preserve-symlinks', 'probe.cjs'], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual({ main: true, cjs: 'function', otel: 'ERR_MODULE_NOT_FOUND names the api' });
  });

  test('with it installed, express-m2m/otel loads', async () => {
    symlinkSync(join(root, 'node_modules/@opentelemetry/api'), join(dir, 'node_modules/@opentelemetry/api'));
    const { stdout } = await run(process.execPath, ['--preserve-symlinks', 'probe.cjs'], { cwd: dir });
    expect(JSON.parse(stdout).otel).toBe('INSTRUMENTATION_SCOPE,otelEvents,otelInstrumentation,tracedFetch');
  });
});
