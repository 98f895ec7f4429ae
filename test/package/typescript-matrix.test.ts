/**
 * The README's TypeScript promise, checked: which compilers and `module`/`moduleResolution`
 * settings type-check a consumer of the BUILT package, in an ESM file and in a CommonJS file, and
 * the documented error where a setting does not work.
 *
 * Compilers are the project's own devDependencies: `typescript` (5.9), `typescript-5.8` and
 * `typescript-7` (npm aliases). Every consumer imports every entry point of `exports` and uses
 * types of each; `@ts-expect-error` lines prove the types are real (an `any` would leave the
 * directive unused, TS2578). Consumers live in temporary folders with `node_modules/express-m2m`
 * linked to this repository, like an installed package. All compilations run up front, in parallel.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types?: string }>;
  typesVersions?: Record<string, Record<string, string[]>>;
};

const compilers = {
  '5.8': { bin: 'typescript-5.8', version: /^Version 5\.8\./ },
  '5.9': { bin: 'typescript', version: /^Version 5\.9\./ },
  '7': { bin: 'typescript-7', version: /^Version 7\./ },
} as const;
type Compiler = keyof typeof compilers;
const allCompilers = Object.keys(compilers) as Compiler[];

/** Subpaths of `exports` that have types: `.`, `./testing`, `./redis` (and any added later). */
const typedEntries = Object.entries(pkg.exports)
  .filter(([, target]) => typeof target === 'object' && target.types !== undefined)
  .map(([subpath]) => (subpath === '.' ? 'express-m2m' : `express-m2m/${subpath.slice(2)}`));

/** What a consumer writes: all entry points, `req.auth` through Express's `Request`, a few types. */
const consumerSource = `
import express from 'express';
import { authErrorHandler, requireAuth, requireScopes, type VerifiedToken } from 'express-m2m';
import { createLocalIssuer, type LocalIssuer } from 'express-m2m/testing';
import { RedisTokenCache, type RedisTokenCacheOptions } from 'express-m2m/redis';
${typedEntries.map((specifier, i) => `import type * as entry${i} from '${specifier}';`).join('\n')}
export type Entries = [${typedEntries.map((_, i) => `typeof entry${i}`).join(', ')}];

const app = express();
app.get('/orders', requireAuth({ issuerBaseURL: 'https://issuer.example/', audience: 'https://api.example' }),
  requireScopes('read:orders'), (req, res) => {
    const auth: VerifiedToken | undefined = req.auth;
    const sub: string | undefined = req.auth?.payload.sub;
    // @ts-expect-error req.auth is possibly undefined
    const scopes: readonly string[] = req.auth.scopes;
    res.json({ sub, scopes, also: auth?.scopes });
  });
app.use(authErrorHandler());
// @ts-expect-error audience is a string
requireAuth({ audience: 42 });

export async function mint(): Promise<string> {
  const issuer: LocalIssuer = await createLocalIssuer();
  // @ts-expect-error a KeyObject (node:crypto) is not a string
  const key: string = issuer.privateKey();
  return issuer.sign({ sub: 'client-1@clients', key });
}

export const options: RedisTokenCacheOptions = { url: 'redis://127.0.0.1:6379', operationTimeout: 500 };
// @ts-expect-error operationTimeout is a number
export const wrong: RedisTokenCacheOptions = { operationTimeout: 'slow' };
export const cache = (): RedisTokenCache => new RedisTokenCache(options);
`;

/** Uses only `express-m2m/testing`, no Express: nothing but the package brings Node's types in. */
const testingOnlySource = `
import { createLocalIssuer } from 'express-m2m/testing';
export async function key(): Promise<void> {
  const issuer = await createLocalIssuer();
  // @ts-expect-error a KeyObject (node:crypto) is not a number
  const n: number = issuer.privateKey();
  await issuer.close();
}
`;

type Outcome = 'ok' | `TS${number}`;
interface Cell {
  /** Project name: the `module`/`moduleResolution` setting. */
  name: string;
  options: Record<string, unknown>;
  /** File name -> source: `esm.mts` is the ESM consumer, `cjs.cts`/`cjs.ts` the CommonJS one. */
  files: Record<string, string>;
  /**
   * Per compiler (only those listed run), per file (or `tsconfig.json`): `ok`, or the error code
   * the README documents.
   */
  expect: Partial<Record<Compiler, Record<string, Outcome>>>;
  /** Link a copy of package.json without `typesVersions` (how the package was before). */
  withoutTypesVersions?: boolean;
}

const both = { 'esm.mts': consumerSource, 'cjs.cts': consumerSource };
const same = (outcome: Record<string, Outcome>): Record<Compiler, Record<string, Outcome>> =>
  ({ '5.8': outcome, '5.9': outcome, '7': outcome });
const allOk = same({ 'esm.mts': 'ok', 'cjs.cts': 'ok' });
const base = { strict: true, target: 'es2022', noEmit: true, skipLibCheck: true, esModuleInterop: true };

const cells: Cell[] = [
  { name: 'module nodenext', options: { module: 'nodenext' }, files: both, expect: allOk },
  {
    name: 'module node20', options: { module: 'node20' }, files: both,
    expect: { ...allOk, '5.8': { 'tsconfig.json': 'TS6046' } }, // 5.8 has no node20
  },
  // node16/node18: ESM fine; a CommonJS file may not import an ES module.
  { name: 'module node16', options: { module: 'node16' }, files: both, expect: same({ 'esm.mts': 'ok', 'cjs.cts': 'TS1479' }) },
  // TS 5.x: moduleResolution node10 ignores `exports`: the subpaths resolve through `typesVersions`.
  // TS 7 has no node10 and resolves like `bundler`.
  { name: 'module commonjs', options: { module: 'commonjs' }, files: { 'cjs.ts': consumerSource }, expect: same({ 'cjs.ts': 'ok' }) },
  {
    name: 'module commonjs, package without typesVersions', options: { module: 'commonjs' },
    files: { 'cjs.ts': consumerSource }, withoutTypesVersions: true,
    expect: { '5.8': { 'cjs.ts': 'TS2307' }, '5.9': { 'cjs.ts': 'TS2307' }, '7': { 'cjs.ts': 'ok' } },
  },
  { name: 'module preserve, moduleResolution bundler', options: { module: 'preserve', moduleResolution: 'bundler' }, files: both, expect: allOk },
  { name: 'module esnext, moduleResolution bundler', options: { module: 'esnext', moduleResolution: 'bundler' }, files: both, expect: allOk },
  // The package's own declarations (built by 5.9) are free of errors for the oldest and the newest
  // compiler (no skipLibCheck; slow with 5.x, which then checks all of @types/node too).
  {
    name: 'module nodenext, skipLibCheck false', options: { module: 'nodenext', skipLibCheck: false }, files: both,
    expect: { '5.8': allOk['5.8'], '7': allOk['7'] },
  },
  // TS 7's default `types` is []: the package's entry declarations reference @types/node
  // themselves (`/// <reference types="node" preserve="true" />`), so node:crypto in them still
  // resolves (without it, its types silently became `any`: TS2578 on the @ts-expect-error line).
  {
    name: 'module nodenext, default types, no express', options: { module: 'nodenext' },
    files: { 'esm.mts': testingOnlySource },
    expect: { '5.8': { 'esm.mts': 'ok' }, '5.9': { 'esm.mts': 'ok' }, '7': { 'esm.mts': 'ok' } },
  },
  {
    name: 'module nodenext, types ["node"], no express', options: { module: 'nodenext', types: ['node'] },
    files: { 'esm.mts': testingOnlySource }, expect: { '7': { 'esm.mts': 'ok' } },
  },
];

const typeLinks = ['express', 'ioredis', '@types/express', '@types/node', '@types/express-serve-static-core', '@types/qs',
  '@types/serve-static', '@types/range-parser', '@types/send', '@types/mime', '@types/http-errors', '@types/connect', '@types/body-parser'];

interface Result { failed: boolean; codes: Record<string, string[]>; output: string }
const results = new Map<string, Result>();
const versions = new Map<Compiler, string>();
let dir: string;

function tsc(compiler: Compiler, args: string[], cwd: string): Promise<{ failed: boolean; output: string }> {
  return run(process.execPath, [join(root, 'node_modules', compilers[compiler].bin, 'bin/tsc'), ...args], { cwd }).then(
    ({ stdout, stderr }) => ({ failed: false, output: stdout + stderr }),
    (error: { stdout?: string; stderr?: string }) => ({ failed: true, output: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
  );
}

/** `file(1,2): error TS1234: ...` -> { file: ['TS1234'] }, for the consumer's own files. */
function codesByFile(output: string): Record<string, string[]> {
  const codes: Record<string, Set<string>> = {};
  for (const match of output.matchAll(/^(\S+?)\(\d+,\d+\): error (TS\d+)/gm)) {
    const file = match[1]!;
    if (file.includes('/')) continue; // errors inside node_modules follow from the consumer's ones
    (codes[file] ??= new Set()).add(match[2]!);
  }
  return Object.fromEntries(Object.entries(codes).map(([file, set]) => [file, [...set].sort()]));
}

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/index.d.ts'))) {
    throw new Error('dist/ is missing: run `npm run build` first (`npm test` does)');
  }
  dir = mkdtempSync(join(tmpdir(), 'express-m2m-ts-matrix-'));
  const jobs: Array<() => Promise<void>> = [];
  cells.forEach((cell, index) => {
    const project = join(dir, String(index));
    mkdirSync(join(project, 'node_modules/@types'), { recursive: true });
    if (cell.withoutTypesVersions) {
      const copy = join(project, 'node_modules/express-m2m');
      mkdirSync(copy);
      const { typesVersions: _, ...rest } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(copy, 'package.json'), JSON.stringify(rest));
      symlinkSync(join(root, 'dist'), join(copy, 'dist'));
    } else {
      symlinkSync(root, join(project, 'node_modules/express-m2m'));
    }
    for (const name of typeLinks) {
      if (existsSync(join(root, 'node_modules', name))) symlinkSync(join(root, 'node_modules', name), join(project, 'node_modules', name));
    }
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true })); // no "type"
    for (const [file, source] of Object.entries(cell.files)) writeFileSync(join(project, file), source);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...base, ...cell.options }, files: Object.keys(cell.files) }));
    for (const compiler of Object.keys(cell.expect) as Compiler[]) {
      jobs.push(async () => {
        const { failed, output } = await tsc(compiler, ['-p', 'tsconfig.json'], project);
        results.set(`${compiler} ${cell.name}`, { failed, codes: codesByFile(output), output });
      });
    }
  });
  for (const compiler of allCompilers) {
    jobs.push(async () => { versions.set(compiler, (await tsc(compiler, ['-v'], dir)).output.trim()); });
  }
  const queue = [...jobs];
  const workers = Array.from({ length: Math.min(4, availableParallelism()) }, async () => {
    for (let job = queue.shift(); job; job = queue.shift()) await job();
  });
  await Promise.all(workers);
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test.each(allCompilers)('the TypeScript %s compiler is the one installed under its alias', (compiler) => {
  expect(versions.get(compiler)).toMatch(compilers[compiler].version);
});

test('typesVersions maps every typed subpath of exports to the same declarations (for node10 resolution)', () => {
  const expected = Object.fromEntries(Object.entries(pkg.exports)
    .filter(([subpath, target]) => subpath !== '.' && typeof target === 'object' && target.types !== undefined)
    .map(([subpath, target]) => [subpath.slice(2), [(target as { types: string }).types]]));
  expect(pkg.typesVersions).toEqual({ '*': expected });
});

describe.each(cells.map((cell) => [cell.name, cell] as const))('%s', (_name, cell) => {
  test.each(Object.keys(cell.expect) as Compiler[])('TypeScript %s', (compiler) => {
    const result = results.get(`${compiler} ${cell.name}`)!;
    const expected = cell.expect[compiler]!;
    const problems: string[] = [];
    for (const [file, outcome] of Object.entries(expected)) {
      const codes = result.codes[file] ?? [];
      if (outcome === 'ok' ? codes.length > 0 : !codes.includes(outcome)) problems.push(`${file}: expected ${outcome}, got ${codes.join(', ') || 'no error'}`);
    }
    const fails = Object.values(expected).some((outcome) => outcome !== 'ok');
    if (result.failed !== fails) problems.push(`tsc ${result.failed ? 'failed' : 'succeeded'}`);
    if (!fails && result.output.trim() !== '') problems.push('unexpected output');
    expect({ problems, output: problems.length ? result.output : '' }).toEqual({ problems: [], output: '' });
  });
});
