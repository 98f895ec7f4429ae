/**
 * Promise of the README: on Node 20.19+ the BUILT package works with both `import` and `require`,
 * with types, for its three entry points. Each consumer lives in a temporary folder outside the
 * repository, with `node_modules/express-m2m` linked to this repository, like an installed package.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');
let dir: string;

/** The same story in both module systems: protect a route, mint a token, call it. */
function consumer(importLines: string): string {
  return `${importLines}
(async () => {
  const issuer = await createLocalIssuer();
  const app = express();
  app.get('/private', requireAuth({ issuerBaseURL: issuer.url, audience: 'https://api.example' }), (req, res) => {
    res.json({ sub: req.auth.payload.sub, scopes: req.auth.scopes });
  });
  app.use(authErrorHandler());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = 'http://127.0.0.1:' + server.address().port + '/private';
  const token = await issuer.sign({ sub: 'client-1@clients', aud: 'https://api.example', scope: 'read:orders' });
  const ok = await fetch(url, { headers: { authorization: 'Bearer ' + token } });
  const denied = await fetch(url);
  console.log(JSON.stringify({
    ok: ok.status, body: await ok.json(), denied: denied.status,
    challenge: denied.headers.get('www-authenticate'),
    redis: typeof RedisTokenCache,
  }));
  server.close();
  await issuer.close();
})().catch((error) => { console.error(error); process.exit(1); });
`;
}

beforeAll(() => {
  if (!existsSync(join(root, 'dist/index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (`npm test` does)');
  }
  dir = mkdtempSync(join(tmpdir(), 'express-m2m-consumer-'));
  mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
  symlinkSync(root, join(dir, 'node_modules/express-m2m'));
  for (const name of ['express', 'ioredis', '@types/express', '@types/node', '@types/express-serve-static-core', '@types/qs', '@types/serve-static', '@types/range-parser', '@types/send', '@types/mime', '@types/http-errors', '@types/connect', '@types/body-parser']) {
    if (existsSync(join(root, 'node_modules', name))) symlinkSync(join(root, 'node_modules', name), join(dir, 'node_modules', name));
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the built package as a dependency', () => {
  const expected = {
    ok: 200,
    body: { sub: 'client-1@clients', scopes: ['read:orders'] },
    denied: 401,
    challenge: 'Bearer',
    redis: 'function',
  };

  test('ESM consumers can `import` every entry point', async () => {
    writeFileSync(join(dir, 'esm.mjs'), consumer(
      "import express from 'express';\n" +
      "import { requireAuth, authErrorHandler } from 'express-m2m';\n" +
      "import { createLocalIssuer } from 'express-m2m/testing';\n" +
      "import { RedisTokenCache } from 'express-m2m/redis';",
    ));
    const { stdout, stderr } = await run(process.execPath, ['esm.mjs'], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual(expected);
    expect(stderr).toBe('');
  });

  test('CommonJS consumers can `require` every entry point, without warnings', async () => {
    writeFileSync(join(dir, 'cjs.cjs'), consumer(
      "const express = require('express');\n" +
      "const { requireAuth, authErrorHandler } = require('express-m2m');\n" +
      "const { createLocalIssuer } = require('express-m2m/testing');\n" +
      "const { RedisTokenCache } = require('express-m2m/redis');",
    ));
    const { stdout, stderr } = await run(process.execPath, ['cjs.cjs'], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual(expected);
    expect(stderr).toBe('');
  });

  test('TypeScript consumers type-check req.auth in ESM and CommonJS output (strict, nodenext)', async () => {
    const source = (kind: string) => `
import express from 'express';
import { requireAuth, requireScopes, authErrorHandler } from 'express-m2m';
const app = express();
app.get('/x', requireAuth({ issuer: 'https://issuer.example/', jwksUri: 'https://issuer.example/jwks', audience: 'a' }),
  requireScopes('read:orders'), (req, res) => {
    const sub: string | undefined = req.auth?.payload.sub;
    const scopes: readonly string[] | undefined = req.auth?.scopes;
    res.json({ sub, scopes, kind: '${kind}' });
  });
app.use(authErrorHandler());
`;
    writeFileSync(join(dir, 'consumer-esm.mts'), source('esm'));
    writeFileSync(join(dir, 'consumer-cjs.cts'), source('cjs'));
    writeFileSync(join(dir, 'broken.mts'), `import { requireAuth } from 'express-m2m';\nrequireAuth({ audience: 42 });\n`);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'], skipLibCheck: false, esModuleInterop: true },
      files: ['consumer-esm.mts', 'consumer-cjs.cts', 'broken.mts'],
    }));
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir }).then(
      () => ({ stdout: '' }),
      (error: { stdout: string }) => error,
    );
    // The consumers compile cleanly; the types are real: a wrong option type is a compile error.
    const errorLines = result.stdout.split('\n').filter((line) => /error TS/.test(line));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/^broken\.mts\(2,/);
  }, 120_000);
});
