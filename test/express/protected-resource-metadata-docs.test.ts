/**
 * docs/protected-resource-metadata.md runs as written: its `// protected-resource.ts` example
 * type-checks under strict and, against the local issuer, answers what the text says (the
 * document at the path-suffixed URL, resource_metadata in the 401 and the 403). Like
 * test/express/readme.test.ts, the example runs in a folder of its own against the BUILT package
 * (run `npm run build` first; `npm test` does).
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { codeFiles, exampleFolder, EXPRESS_TYPES, readDoc, ROOT, section } from '../docs-support.js';

const run = promisify(execFile);
const DOC = 'docs/protected-resource-metadata.md';
let dir: string;

beforeAll(() => {
  dir = exampleFolder('express-m2m-prm-docs-', EXPRESS_TYPES);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function runTs(name: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), name], { cwd: dir, env: { ...process.env, ...env } });
  expect(stderr).toBe('');
  return stdout;
}

describe(`${DOC}: protected-resource.ts`, () => {
  const blocks = codeFiles(readDoc(DOC));

  test('is the one example of the guide', () => {
    expect([...blocks.keys()]).toEqual(['protected-resource.ts']);
  });

  test('type-checks under strict, module nodenext', async () => {
    writeFileSync(join(dir, 'protected-resource.ts'), blocks.get('protected-resource.ts')!);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'], esModuleInterop: true, skipLibCheck: true },
      files: ['protected-resource.ts'],
    }));
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: dir });
  }, 60_000);

  test('serves the document the text shows and points to it from the 401 and the 403', async () => {
    const text = readDoc(DOC);
    const { createLocalIssuer } = await import('express-m2m/testing');
    const issuer = await createLocalIssuer();
    try {
      writeFileSync(join(dir, 'protected-resource.ts'), blocks.get('protected-resource.ts')!);
      const audience = 'https://orders.example.com/v1';
      const tokens = {
        TOKEN: await issuer.accessToken({ clientId: 'billing', audience, scope: 'read:orders' }),
        NO_SCOPE: await issuer.accessToken({ clientId: 'billing', audience, scope: 'write:orders' }),
      };
      writeFileSync(join(dir, 'drive-prm.mts'), [
        "import { app, auth } from './protected-resource.ts';",
        "const server = app.listen(0, '127.0.0.1');",
        "await new Promise((resolve) => server.once('listening', resolve));",
        'const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;',
        "const document = await fetch(`${base}/.well-known/oauth-protected-resource/v1`);",
        "console.log(JSON.stringify({ status: document.status, type: document.headers.get('content-type'), body: await document.json() }));",
        "const challenge = async (headers: Record<string, string>) => { const response = await fetch(`${base}/v1/orders`, { headers }); return `${response.status} ${response.headers.get('www-authenticate')}`; };",
        'console.log(await challenge({}));',
        'console.log(await challenge({ authorization: `Bearer ${process.env.NO_SCOPE!}` }));',
        'console.log(await challenge({ authorization: `Bearer ${process.env.TOKEN!}` }));',
        'server.close();',
        'auth.close();',
      ].join('\n'));
      const [document, missing, noScope, allowed] = (await runTs('drive-prm.mts', { ISSUER_BASE_URL: issuer.url, ...tokens })).trim().split('\n');

      const shown = JSON.parse(/```json\n([\s\S]*?)```/.exec(section(text, 'Protected resource metadata (RFC 9728)'))![1]!);
      expect(JSON.parse(document!)).toEqual({
        status: 200,
        type: 'application/json',
        body: { ...shown, authorization_servers: [issuer.url] },
      });
      const url = 'https://orders.example.com/.well-known/oauth-protected-resource/v1';
      expect(missing).toBe(`401 Bearer resource_metadata="${url}"`);
      expect(text).toContain(`\`WWW-Authenticate: Bearer resource_metadata="${url}"\``);
      expect(noScope).toMatch(new RegExp(`^403 Bearer error="insufficient_scope", error_description="[^"]+", scope="read:orders", resource_metadata="${url.replace(/[./]/g, '\\$&')}"$`));
      expect(allowed).toBe('200 null');
    } finally {
      await issuer.close();
    }
  }, 60_000);
});
