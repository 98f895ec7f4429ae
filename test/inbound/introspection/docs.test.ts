/**
 * docs/introspection.md runs as written: its `// introspection.ts` example type-checks under
 * strict and prints what the sentence after it says, against the BUILT package (run
 * `npm run build` first; `npm test` does).
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { examples, exampleFolder, EXPRESS_TYPES, readDoc, ROOT } from '../../docs-support.js';

const run = promisify(execFile);
let dir: string;

beforeAll(() => {
  dir = exampleFolder('express-m2m-introspection-', EXPRESS_TYPES);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('docs/introspection.md', () => {
  const found = examples(readDoc('docs/introspection.md'));

  test('has the example this test expects', () => {
    expect([...found.keys()]).toEqual(['introspection.ts']);
  });

  test('introspection.ts type-checks under strict, module nodenext', async () => {
    const { code } = found.get('introspection.ts')!;
    writeFileSync(join(dir, 'introspection.ts'), code);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'], esModuleInterop: true, skipLibCheck: true },
      files: ['introspection.ts'],
    }));
    await expect(run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: dir })).resolves.toBeDefined();
  }, 60_000);

  test('introspection.ts prints what the text says', async () => {
    const { code, printed } = found.get('introspection.ts')!;
    writeFileSync(join(dir, 'introspection.ts'), code);
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'introspection.ts'], { cwd: dir });
    expect(stderr).toBe('');
    expect(printed).toEqual(['200 billing', 'introspection calls: 1', '401 the token is not active']);
    expect(stdout.trim().split('\n')).toEqual(['200 billing', '200 billing', 'introspection calls: 1', '401 the token is not active']);
  }, 30_000);
});
