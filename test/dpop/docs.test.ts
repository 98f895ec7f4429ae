/**
 * docs/dpop.md runs as written: its "DPoP in five minutes" example (`// dpop.ts`) type-checks
 * under strict and prints what the sentence after it says, against the BUILT package (run
 * `npm run build` first; `npm test` does).
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { examples, exampleFolder, EXPRESS_TYPES, readDoc, ROOT } from '../docs-support.js';

const run = promisify(execFile);
let dir: string;

beforeAll(() => {
  dir = exampleFolder('express-m2m-dpop-', EXPRESS_TYPES);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('docs/dpop.md "DPoP in five minutes"', () => {
  const found = examples(readDoc('docs/dpop.md'));

  test('has the example this test expects', () => {
    expect([...found.keys()]).toEqual(['dpop.ts']);
  });

  test('dpop.ts type-checks under strict, module nodenext', async () => {
    const { code } = found.get('dpop.ts')!;
    writeFileSync(join(dir, 'dpop.ts'), code);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'], esModuleInterop: true, skipLibCheck: true },
      files: ['dpop.ts'],
    }));
    await expect(run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: dir })).resolves.toBeDefined();
  }, 60_000);

  test('dpop.ts prints what the text says', async () => {
    const { code, printed } = found.get('dpop.ts')!;
    writeFileSync(join(dir, 'dpop.ts'), code);
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'dpop.ts'], { cwd: dir });
    expect(stderr).toBe('');
    expect(printed).toEqual(['token_type: DPoP', '200 DPoP true', '401 DPoP error="invalid_dpop_proof"', '401 DPoP algs="ES256 EdDSA"', 'provider: 200 DPoP true']);
    expect(stdout.trim().split('\n')).toEqual(printed);
  }, 30_000);
});
