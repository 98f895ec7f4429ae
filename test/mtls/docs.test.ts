/**
 * docs/mtls.md runs as written: "mTLS in five minutes" (`// mtls.ts`) type-checks under strict
 * and, in a folder of its own against the BUILT package (run `npm run build` first; `npm test`
 * does), prints what the text says it prints.
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { examples, exampleFolder, EXPRESS_TYPES, readDoc, ROOT } from '../docs-support.js';

const run = promisify(execFile);
const DOC = 'docs/mtls.md';
let dir: string;
beforeAll(() => {
  dir = exampleFolder('express-m2m-mtls-docs-', [...EXPRESS_TYPES, 'undici']);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`${DOC}: mTLS in five minutes`, () => {
  const found = examples(readDoc(DOC));

  test('is the one example of the guide, with what it prints', () => {
    expect([...found.keys()]).toEqual(['mtls.ts']);
    expect(found.get('mtls.ts')!.printed).toHaveLength(2);
  });

  test('type-checks under strict, module nodenext', async () => {
    writeFileSync(join(dir, 'mtls.ts'), found.get('mtls.ts')!.code);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'], esModuleInterop: true, skipLibCheck: true },
      files: ['mtls.ts'],
    }));
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: dir });
  }, 60_000);

  test('prints what the text says, and exits by itself', async () => {
    writeFileSync(join(dir, 'mtls.ts'), found.get('mtls.ts')!.code);
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'mtls.ts'], { cwd: dir, timeout: 30_000 });
    expect(stderr).toBe('');
    expect(stdout.trim().split('\n')).toEqual(found.get('mtls.ts')!.printed);
  }, 60_000);
});
