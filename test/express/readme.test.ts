/**
 * README promise: the examples of the "Quick start" and "Protecting routes (inbound)" sections run
 * as written. Each code block that starts with a `// <file name>` line is written to a temporary
 * folder outside the repository, next to `node_modules/express-m2m` linked to the BUILT package
 * (run `npm run build` first; `npm test` does). The only change: the quick start's fixed ports
 * (3000, 4000) become free ephemeral ones, so the test cannot collide with anything.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
let dir: string;
const children: ChildProcess[] = [];

/** The text of a `## heading` section, up to the next `## ` heading. */
function section(heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start === -1) throw new Error(`README has no section "## ${heading}"`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** The code blocks of a section that name their file on the first line, by file name. */
function files(text: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const match of text.matchAll(/```(?:js|ts)\n\/\/ (\S+)\n([\s\S]*?)```/g)) {
    result.set(match[1] as string, `// ${match[1]}\n${match[2]}`);
  }
  return result;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Starts `node file` and resolves with its process once stdout matches `ready`. */
function start(file: string, env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; output: () => string }> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(process.execPath, [file], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (ready.test(stdout)) resolveStart({ child, output: () => stdout });
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}: ${stderr}`)));
  });
}

beforeAll(() => {
  if (!existsSync(join(root, 'dist/index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (`npm test` does)');
  }
  dir = mkdtempSync(join(tmpdir(), 'express-m2m-readme-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
  symlinkSync(root, join(dir, 'node_modules/express-m2m'));
  for (const name of ['express', '@types/express', '@types/node', '@types/express-serve-static-core', '@types/qs', '@types/serve-static', '@types/range-parser', '@types/send', '@types/mime', '@types/http-errors', '@types/connect', '@types/body-parser']) {
    if (existsSync(join(root, 'node_modules', name))) symlinkSync(join(root, 'node_modules', name), join(dir, 'node_modules', name));
  }
});

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README "Quick start" runs as written', () => {
  it('protects /orders with the local issuer: 401 without a token, 200 with one, /health public', async () => {
    const blocks = files(section('Quick start'));
    const [issuerPort, serverPort] = [await freePort(), await freePort()];
    writeFileSync(join(dir, 'issuer.mjs'), blocks.get('issuer.mjs')!.replace('port: 4000', `port: ${issuerPort}`));
    writeFileSync(join(dir, 'server.mjs'), blocks.get('server.mjs')!.replace('app.listen(3000', `app.listen(${serverPort}`));

    const issuer = await start('issuer.mjs', {}, /TOKEN=\S+\n/);
    const printed = Object.fromEntries(issuer.output().trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2)));
    expect(printed.ISSUER_BASE_URL).toBe(`http://127.0.0.1:${issuerPort}`);

    await start('server.mjs', { ISSUER_BASE_URL: printed.ISSUER_BASE_URL as string, AUDIENCE: 'https://orders.example.com' }, /listening/);
    const base = `http://127.0.0.1:${serverPort}`;

    const health = await fetch(`${base}/health`);
    expect(await health.text()).toBe('ok');
    const denied = await fetch(`${base}/orders`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe('Bearer');
    expect(await denied.json()).toEqual({ error: 'unauthorized', error_description: 'no access token in the request' });
    const allowed = await fetch(`${base}/orders`, { headers: { authorization: `Bearer ${printed.TOKEN as string}` } });
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toEqual({ client: expect.stringMatching(/@clients$/), scopes: ['read:orders'] });
  }, 30_000);
});

describe('README "Protecting routes (inbound)" examples type-check (strict) and run as written', () => {
  const blocks = files(section('Protecting routes (inbound)'));

  it('has the examples this test expects', () => {
    expect([...blocks.keys()].sort()).toEqual(['observed.ts', 'routes.ts', 'typed-claims.ts', 'verify-token.ts']);
  });

  it('type-checks them under strict, module nodenext', async () => {
    for (const [name, code] of blocks) writeFileSync(join(dir, name), code);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'], esModuleInterop: true, skipLibCheck: true },
      files: [...blocks.keys()],
    }));
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    await expect(run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir })).resolves.toBeDefined();
  }, 60_000);

  it.each(['routes.ts', 'typed-claims.ts', 'observed.ts', 'verify-token.ts'])('%s runs', async (name) => {
    writeFileSync(join(dir, name), blocks.get(name)!);
    const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');
    const { stderr } = await run(process.execPath, [tsx, name], { cwd: dir });
    expect(stderr).toBe('');
  }, 30_000);
});

describe('README "Verifying without Express": createVerifier verifies a token from a real issuer as written', () => {
  it('authenticate() returns the client and its scopes for a good token and rejects a bad one', async () => {
    const { createLocalIssuer } = await import('express-m2m/testing');
    const issuer = await createLocalIssuer();
    try {
      const blocks = files(section('Protecting routes (inbound)'));
      writeFileSync(join(dir, 'verify-token.ts'), blocks.get('verify-token.ts')!);
      const token = await issuer.accessToken({ clientId: 'billing', audience: 'https://orders.example.com', scope: 'read:orders write:orders' });
      const wrongAudience = await issuer.accessToken({ audience: 'https://other.example.com' });
      writeFileSync(join(dir, 'drive-verify.mts'), [
        "import { authenticate, verifier } from './verify-token.ts';",
        'console.log(await authenticate(process.env.TOKEN!));',
        'await authenticate(process.env.BAD_TOKEN!).catch((error) => console.log(`${error.name} ${error.status} ${error.code}`));',
        'verifier.close();',
      ].join('\n'));
      const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');
      const { stdout, stderr } = await run(process.execPath, [tsx, 'drive-verify.mts'], {
        cwd: dir,
        env: { ...process.env, ISSUER_BASE_URL: issuer.url, TOKEN: token, BAD_TOKEN: wrongAudience },
      });
      expect(stderr).toBe('');
      expect(stdout.trim().split('\n')).toEqual([
        'billing@clients may read:orders, write:orders',
        'InvalidTokenError 401 ERR_JWT_AUDIENCE',
      ]);
    } finally {
      await issuer.close();
    }
  }, 30_000);
});
