/**
 * The documentation's outbound examples run as written and print what the text says: README.md
 * "Calling another service", docs/outbound.md and docs/redis.md. Each code block starting with a
 * `// <file>.mjs` line is written to a temporary folder outside the repository, next to
 * `node_modules/express-m2m` linked to the BUILT package (run `npm run build` first; `npm test` does).
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeRedis, REDIS_URL } from '../caches/redis-support.js';
import { exampleFolder, examples, readDoc, section, type DocExample } from '../docs-support.js';

const run = promisify(execFile);
let dir: string;

async function runExample(name: string, code: string): Promise<string> {
  writeFileSync(join(dir, name), code);
  const { stdout, stderr } = await run(process.execPath, [name], { cwd: dir, env: { ...process.env, REDIS_URL }, timeout: 30_000 });
  expect(stderr).toBe('');
  return stdout;
}

/** Runs the example and checks that it prints every line its "It prints ..." sentence names. */
async function expectPrints(name: string, example: DocExample | undefined): Promise<void> {
  if (example === undefined) throw new Error(`no ${name}`);
  expect(example.printed.length).toBeGreaterThan(0);
  const stdout = await runExample(name, example.code);
  for (const line of example.printed) expect(stdout).toContain(line);
}

beforeAll(() => {
  dir = exampleFolder('express-m2m-readme-outbound-', ['express', 'ioredis']);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README.md "Calling another service" example runs as written', () => {
  it('call-billing.mjs prints what the README says', async () => {
    const found = examples(section(readDoc('README.md'), 'Calling another service'));
    expect([...found.keys()]).toEqual(['call-billing.mjs']);
    expect(found.get('call-billing.mjs')?.printed).toEqual(['distinct tokens: 1, token requests: 1']);
    await expectPrints('call-billing.mjs', found.get('call-billing.mjs'));
  }, 30_000);
});

describe('docs/outbound.md examples run as written', () => {
  const found = examples(readDoc('docs/outbound.md'));

  it('has the examples this test expects', () => {
    expect([...found.keys()].sort()).toEqual(['outbound-fetch.mjs', 'outbound-middleware.mjs', 'outbound-provider.mjs']);
  });

  it.each(['outbound-provider.mjs', 'outbound-fetch.mjs', 'outbound-middleware.mjs'])('%s prints what the text says', async (name) => {
    await expectPrints(name, found.get(name));
  }, 30_000);
});

describeRedis('docs/redis.md example runs as written', () => {
  it('redis-shared.mjs prints what the text says', async () => {
    const found = examples(readDoc('docs/redis.md'));
    expect([...found.keys()]).toEqual(['redis-shared.mjs']);
    expect(found.get('redis-shared.mjs')?.printed).toEqual(['same token: true, token requests: 1']);
    await expectPrints('redis-shared.mjs', found.get('redis-shared.mjs'));
  }, 30_000);
});
