/**
 * The documentation's inbound examples run as written: README.md "Quick start", every example of
 * docs/inbound.md, and the "after" examples of docs/migration.md. Each code block that starts with
 * a `// <file name>` line is written to a temporary folder outside the repository, next to
 * `node_modules/express-m2m` linked to the BUILT package (run `npm run build` first; `npm test`
 * does). The only change: the quick start's fixed ports (3000, 4000) become free ephemeral ones,
 * so the test cannot collide with anything.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { codeFiles, exampleFolder, EXPRESS_TYPES, readDoc, ROOT, section } from '../docs-support.js';

const run = promisify(execFile);
const root = ROOT;
let dir: string;
const children: ChildProcess[] = [];

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

/** Type-checks `blocks` under strict, module nodenext, in the example folder. */
async function typeCheck(blocks: Map<string, string>): Promise<void> {
  for (const [name, code] of blocks) writeFileSync(join(dir, name), code);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'], esModuleInterop: true, skipLibCheck: true },
    files: [...blocks.keys()],
  }));
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir });
}

/** Runs a TypeScript file of the example folder with tsx; resolves with its stdout, expects no stderr. */
async function runTs(name: string, env: Record<string, string> = {}): Promise<string> {
  const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');
  const { stdout, stderr } = await run(process.execPath, [tsx, name], { cwd: dir, env: { ...process.env, ...env } });
  expect(stderr).toBe('');
  return stdout;
}

beforeAll(() => {
  dir = exampleFolder('express-m2m-readme-', EXPRESS_TYPES);
});

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README.md "Quick start" runs as written', () => {
  it('protects /orders with the local issuer: 401 without a token, 200 with one, /health public', async () => {
    const blocks = codeFiles(section(readDoc('README.md'), 'Quick start'));
    expect([...blocks.keys()].sort()).toEqual(['issuer.mjs', 'server.mjs']);
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

const INBOUND_EXAMPLES = ['authenticate-request.ts', 'observed.ts', 'routes.ts', 'typed-claims.ts', 'verify-token.ts', 'who-may-call.ts'];

describe('docs/inbound.md examples type-check (strict) and run as written', () => {
  const blocks = codeFiles(readDoc('docs/inbound.md'));

  it('has the examples this test expects', () => {
    expect([...blocks.keys()].sort()).toEqual(INBOUND_EXAMPLES);
  });

  it('type-checks them under strict, module nodenext', async () => {
    await expect(typeCheck(blocks)).resolves.toBeUndefined();
  }, 60_000);

  it.each(INBOUND_EXAMPLES)('%s runs', async (name) => {
    writeFileSync(join(dir, name), blocks.get(name)!);
    await runTs(name);
  }, 30_000);
});

describe('docs/inbound.md "Without Express": the examples authenticate requests from a real issuer as written', () => {
  it('verify-token.ts: authenticate() returns the client and its scopes for a good token and rejects a bad one', async () => {
    const { createLocalIssuer } = await import('express-m2m/testing');
    const issuer = await createLocalIssuer();
    try {
      writeFileSync(join(dir, 'verify-token.ts'), codeFiles(readDoc('docs/inbound.md')).get('verify-token.ts')!);
      const token = await issuer.accessToken({ clientId: 'billing', audience: 'https://orders.example.com', scope: 'read:orders write:orders' });
      const wrongAudience = await issuer.accessToken({ audience: 'https://other.example.com' });
      writeFileSync(join(dir, 'drive-verify.mts'), [
        "import { authenticate, verifier } from './verify-token.ts';",
        'console.log(await authenticate(process.env.TOKEN!));',
        'await authenticate(process.env.BAD_TOKEN!).catch((error) => console.log(`${error.name} ${error.status} ${error.code}`));',
        'verifier.close();',
      ].join('\n'));
      const stdout = await runTs('drive-verify.mts', { ISSUER_BASE_URL: issuer.url, TOKEN: token, BAD_TOKEN: wrongAudience });
      expect(stdout.trim().split('\n')).toEqual([
        'billing@clients may read:orders, write:orders',
        'InvalidTokenError 401 ERR_JWT_AUDIENCE',
      ]);
    } finally {
      await issuer.close();
    }
  }, 30_000);

  it('authenticate-request.ts: answers what the text says (200, 403 without the scope, 401 without a token, 401 for a cnf-bound token)', async () => {
    const text = readDoc('docs/inbound.md');
    const { createLocalIssuer } = await import('express-m2m/testing');
    const issuer = await createLocalIssuer();
    try {
      writeFileSync(join(dir, 'authenticate-request.ts'), codeFiles(text).get('authenticate-request.ts')!);
      const audience = 'https://orders.example.com';
      const tokens = {
        TOKEN: await issuer.accessToken({ clientId: 'billing', audience, scope: 'read:orders' }),
        NO_SCOPE: await issuer.accessToken({ clientId: 'billing', audience, scope: 'write:orders' }),
        BOUND: await issuer.accessToken({ clientId: 'billing', audience, scope: 'read:orders', claims: { cnf: { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } } }),
      };
      writeFileSync(join(dir, 'drive-authenticate.mts'), [
        "import { authenticator, handle } from './authenticate-request.ts';",
        "console.log(await handle('GET', '/orders', { authorization: `Bearer ${process.env.TOKEN!}` }));",
        "console.log(await handle('GET', '/orders', { authorization: `Bearer ${process.env.NO_SCOPE!}` }));",
        "console.log(await handle('GET', '/orders', {}));",
        "console.log(await handle('GET', '/orders', { authorization: `Bearer ${process.env.BOUND!}` }));",
        'authenticator.close();',
      ].join('\n'));
      const stdout = await runTs('drive-authenticate.mts', { ISSUER_BASE_URL: issuer.url, ...tokens });
      const answers = stdout.trim().split('\n');
      expect(answers).toEqual(['200 billing@clients', '403 ERR_INSUFFICIENT_SCOPE', '401 ERR_TOKEN_MISSING', '401 ERR_TOKEN_SENDER_CONSTRAINED']);
      // The sentence after the examples says the same.
      for (const answer of ['200 <client>@clients', ...answers.slice(1)]) expect(text).toContain(`\`${answer}\``);
    } finally {
      await issuer.close();
    }
  }, 30_000);
});

describe('docs/inbound.md "Who may call": who-may-call.ts answers as the text says', () => {
  it('anonymous without a token, the client and tenant with a good token of either issuer, 401 for the other cases', async () => {
    const text = readDoc('docs/inbound.md');
    const { createLocalIssuer } = await import('express-m2m/testing');
    const [first, second, stranger] = await Promise.all([createLocalIssuer(), createLocalIssuer(), createLocalIssuer()]);
    try {
      writeFileSync(join(dir, 'who-may-call.ts'), codeFiles(text).get('who-may-call.ts')!);
      const audience = 'https://orders.example.com';
      const tokens = {
        FIRST: await first.accessToken({ clientId: 'billing', audience, claims: { tenant: 'acme' } }),
        SECOND: await second.accessToken({ clientId: 'billing', audience, claims: { tenant: 'acme' } }),
        INITECH: await first.accessToken({ clientId: 'billing', audience, claims: { tenant: 'initech' } }),
        REVOKED: await first.accessToken({ clientId: 'revoked-client', audience, claims: { tenant: 'acme' } }),
        STRANGER: await stranger.accessToken({ clientId: 'billing', audience, claims: { tenant: 'acme' } }),
      };
      writeFileSync(join(dir, 'drive-who.mts'), [
        "import { app, auth } from './who-may-call.ts';",
        "const server = app.listen(0, '127.0.0.1');",
        "await new Promise((resolve) => server.once('listening', resolve));",
        'const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/catalogue`;',
        'const show = async (response: Response) => console.log(response.status, response.status === 200 ? (await response.json()).caller : response.headers.get(\'www-authenticate\')?.split(\',\')[0]);',
        'await show(await fetch(base));',
        "for (const name of ['FIRST', 'SECOND', 'INITECH', 'REVOKED', 'STRANGER']) await show(await fetch(base, { headers: { authorization: `Bearer ${process.env[name]!}` } }));",
        'server.close();',
        'auth.close();',
      ].join('\n'));
      const stdout = await runTs('drive-who.mts', { ISSUER_BASE_URL: first.url, SECOND_ISSUER_BASE_URL: second.url, ...tokens });
      expect(stdout.trim().split('\n')).toEqual([
        '200 anonymous',
        '200 billing (acme)',
        '200 billing (acme)',
        '401 Bearer error="invalid_token"',
        '401 Bearer error="invalid_token"',
        '401 Bearer error="invalid_token"',
      ]);
      for (const phrase of ['`anonymous`', '`billing (acme)`', '`401 invalid_token`']) expect(section(text, 'Who may call')).toContain(phrase);
    } finally {
      await Promise.all([first.close(), second.close(), stranger.close()]);
    }
  }, 30_000);
});

describe('docs/inbound.md "Events": observed.ts reports rejections as the text says', () => {
  it('a guard\'s 403 reaches onEvent with the route, the client, what was expected and received; onRejection gets the description', async () => {
    const { createLocalIssuer } = await import('express-m2m/testing');
    const issuer = await createLocalIssuer();
    try {
      writeFileSync(join(dir, 'observed.ts'), codeFiles(readDoc('docs/inbound.md')).get('observed.ts')!);
      const audience = 'https://orders.example.com';
      const tokens = {
        NO_SCOPE: await issuer.accessToken({ clientId: 'billing', audience, scope: 'write:orders' }),
      };
      writeFileSync(join(dir, 'drive-observed.mts'), [
        "import { app, auth } from './observed.ts';",
        "const server = app.listen(0, '127.0.0.1');",
        "await new Promise((resolve) => server.once('listening', resolve));",
        'const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;',
        "await fetch(`${base}/orders?page=2`, { headers: { authorization: `Bearer ${process.env.NO_SCOPE!}` } });",
        'await fetch(`${base}/orders`);',
        'server.close();',
        'auth.close();',
      ].join('\n'));
      const stdout = await runTs('drive-observed.mts', { ISSUER_BASE_URL: issuer.url, ...tokens });
      expect(stdout.trim().split('\n')).toEqual([
        'GET /orders: billing has write:orders, needs read:orders',
        '403 ERR_INSUFFICIENT_SCOPE /orders the token needs the scope read:orders',
        '401 ERR_TOKEN_MISSING /orders no access token in the request',
      ]);
    } finally {
      await issuer.close();
    }
  }, 30_000);
});

describe('docs/migration.md "after" examples type-check (strict) and run as written', () => {
  const blocks = codeFiles(readDoc('docs/migration.md'));

  it('has the examples this test expects', () => {
    expect([...blocks.keys()].sort()).toEqual(['migrated-from-auth0.ts', 'migrated-from-express-jwt.ts']);
  });

  it('type-checks them under strict, module nodenext', async () => {
    await expect(typeCheck(blocks)).resolves.toBeUndefined();
  }, 60_000);

  it.each(['migrated-from-auth0.ts', 'migrated-from-express-jwt.ts'])('%s runs', async (name) => {
    writeFileSync(join(dir, name), blocks.get(name)!);
    await runTs(name);
  }, 30_000);
});
