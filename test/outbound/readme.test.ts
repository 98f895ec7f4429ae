/**
 * README promise: the examples of "Calling other services (outbound)" and "Sharing tokens between
 * processes (Redis)" run as written and print what the README says. Each code block starting with
 * a `// <file>.mjs` line is written to a temporary folder outside the repository, next to
 * `node_modules/express-m2m` linked to the BUILT package (run `npm run build` first; `npm test` does).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describeRedis, REDIS_URL } from '../caches/redis-support.js';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
let dir: string;

function section(heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start === -1) throw new Error(`README has no section "## ${heading}"`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

function blocks(text: string): Map<string, { code: string; printed: string | undefined }> {
  const result = new Map<string, { code: string; printed: string | undefined }>();
  for (const match of text.matchAll(/```js\n\/\/ (\S+\.mjs)\n([\s\S]*?)```\n\nIt prints ([^\n]+)\n/g)) {
    result.set(match[1] as string, { code: `// ${match[1]}\n${match[2]}`, printed: match[3] });
  }
  return result;
}

/** The backtick-quoted strings of the "It prints ..." sentence. */
function expectedLines(printed: string | undefined): string[] {
  return [...(printed ?? '').matchAll(/`([^`]+)`/g)].map((match) => match[1] as string);
}

async function runExample(name: string, code: string): Promise<string> {
  writeFileSync(join(dir, name), code);
  const { stdout, stderr } = await run(process.execPath, [name], { cwd: dir, env: { ...process.env, REDIS_URL }, timeout: 30_000 });
  expect(stderr).toBe('');
  return stdout;
}

beforeAll(() => {
  if (!existsSync(join(root, 'dist/index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (`npm test` does)');
  }
  dir = mkdtempSync(join(tmpdir(), 'express-m2m-readme-outbound-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(root, join(dir, 'node_modules/express-m2m'));
  for (const name of ['express', 'ioredis']) symlinkSync(join(root, 'node_modules', name), join(dir, 'node_modules', name));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README "Calling other services (outbound)" examples run as written', () => {
  const examples = blocks(section('Calling other services (outbound)'));

  it('has the examples this test expects', () => {
    expect([...examples.keys()].sort()).toEqual(['outbound-fetch.mjs', 'outbound-middleware.mjs', 'outbound-provider.mjs']);
  });

  it.each(['outbound-provider.mjs', 'outbound-fetch.mjs', 'outbound-middleware.mjs'])('%s prints what the README says', async (name) => {
    const example = examples.get(name);
    if (example === undefined) throw new Error(`no ${name}`);
    const stdout = await runExample(name, example.code);
    const wanted = expectedLines(example.printed);
    expect(wanted.length).toBeGreaterThan(0);
    for (const line of wanted) expect(stdout).toContain(line);
  }, 30_000);
});

describeRedis('README "Sharing tokens between processes (Redis)" example runs as written', () => {
  it('redis-shared.mjs prints what the README says', async () => {
    const example = blocks(section('Sharing tokens between processes (Redis)')).get('redis-shared.mjs');
    if (example === undefined) throw new Error('no redis-shared.mjs');
    const stdout = await runExample('redis-shared.mjs', example.code);
    for (const line of expectedLines(example.printed)) expect(stdout).toContain(line);
    expect(expectedLines(example.printed)).toEqual(['same token: true, token requests: 1']);
  }, 30_000);
});
