/**
 * The preset pages run as written: every page of docs/presets/ (one per provider) has an example
 * against the local issuer, and each example type-checks under strict and prints what its
 * "It prints ..." sentence says. The examples are written to a folder outside the repository,
 * next to `node_modules/express-m2m` linked to the BUILT package (run `npm run build` first;
 * `npm test` does).
 */
import { execFile } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exampleFolder, examples, EXPRESS_TYPES, readDoc, ROOT, type DocExample } from '../docs-support.js';

const run = promisify(execFile);
const PAGES = ['auth0.md', 'entra-id.md', 'cognito.md', 'okta.md', 'keycloak.md'];
let dir: string;

beforeAll(() => {
  dir = exampleFolder('express-m2m-presets-', EXPRESS_TYPES);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const found = new Map<string, DocExample>();
for (const page of PAGES) for (const [name, example] of examples(readDoc(`docs/presets/${page}`))) found.set(name, example);

describe('docs/presets/', () => {
  it('has a page per provider, each with a runnable example, and an index linking them all', () => {
    expect(readdirSync(join(ROOT, 'docs/presets')).sort()).toEqual(['README.md', ...PAGES].sort());
    const index = readDoc('docs/presets/README.md');
    for (const page of PAGES) {
      expect(index).toContain(`](${page})`);
      expect(examples(readDoc(`docs/presets/${page}`)).size).toBeGreaterThan(0);
    }
  });

  it('the examples type-check under strict', async () => {
    for (const [name, example] of found) writeFileSync(join(dir, name), example.code);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'], esModuleInterop: true, skipLibCheck: true },
      files: [...found.keys()],
    }));
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: dir });
  }, 60_000);

  it.each([...found.keys()])('%s prints what the page says', async (name) => {
    const example = found.get(name) as DocExample;
    expect(example.printed.length).toBeGreaterThan(1);
    writeFileSync(join(dir, name), example.code);
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), name], { cwd: dir, timeout: 30_000 });
    expect(stderr).toBe('');
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(example.printed.length);
    example.printed.forEach((printed, index) => expect(lines[index]).toContain(printed));
  }, 30_000);
});
