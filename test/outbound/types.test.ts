/**
 * README promise: `req.outbound` is typed through Express's `Request` in Express 4 and 5, and an
 * app that names its services (declaration merging of `OutboundServiceRegistry`) gets
 * `req.outbound.billing` and checked names. A consumer project in a temporary folder is
 * type-checked against the BUILT package (`npm run build` first; `npm test` does).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');
const dirs: string[] = [];

const consumer = `
import express from 'express';
import { getOutbound, outboundAuth, OutboundTokenError, type OutboundClients, type OutboundServiceClient } from 'express-m2m';

declare module 'express-m2m' {
  interface OutboundServiceRegistry { billing: true; ledger: true }
}

const app = express();
app.use(outboundAuth({
  defaults: { tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'svc', clientSecret: 'placeholder' },
  services: { billing: { baseUrl: 'https://billing.example.com' }, ledger: { baseUrl: 'https://ledger.example.com' } },
}));
app.get('/', async (req, res) => {
  const outbound = getOutbound(req);
  const byProperty: OutboundServiceClient = outbound.billing;
  const a: Response = await byProperty.fetch('/invoices');
  const b: Response = await outbound.fetch('ledger', '/entries', { method: 'POST', body: '{}' });
  const token: string = await outbound.service('billing').getToken();
  res.json({ a: a.status, b: b.status, token: token.length });
});
app.get('/bad', async (req) => {
  // @ts-expect-error not a registered service name
  await getOutbound(req).fetch('nope', '/x');
  // @ts-expect-error not a registered service
  getOutbound(req).nope;
});
app.get('/no-middleware', (req) => {
  // req.outbound does not lie: it is undefined on routes outboundAuth() does not run for
  const maybe: OutboundClients | undefined = req.outbound;
  // @ts-expect-error possibly undefined
  void req.outbound.fetch('billing', '/x');
  return maybe;
});
export const isTokenError = (error: unknown): boolean => error instanceof OutboundTokenError && error.status >= 502;
`;

function project(typesExpress: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'express-m2m-outbound-types-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
  symlinkSync(root, join(dir, 'node_modules/express-m2m'));
  symlinkSync(join(root, 'node_modules/@types', typesExpress), join(dir, 'node_modules/@types/express'));
  symlinkSync(join(root, 'node_modules/@types/node'), join(dir, 'node_modules/@types/node'));
  writeFileSync(join(dir, 'app.ts'), consumer);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'], esModuleInterop: true, skipLibCheck: true },
    files: ['app.ts'],
  }));
  return dir;
}

beforeAll(() => {
  if (!existsSync(join(root, 'dist/index.d.ts'))) {
    throw new Error('dist/ is missing: run `npm run build` first (`npm test` does)');
  }
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('req.outbound is typed (optional: undefined without the middleware; getOutbound(req) for handlers), with registered service names, in Express 4 and 5', () => {
  it.each([
    ['Express 5 (@types/express 5)', 'express'],
    ['Express 4 (@types/express 4)', 'express4'],
  ])('%s', async (_name, typesExpress) => {
    const dir = project(typesExpress);
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir }).catch((error: { stdout?: string }) => error);
    expect((result as { stdout?: string }).stdout ?? '').toBe('');
  }, 60_000);
});
