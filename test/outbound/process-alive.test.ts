/**
 * A wait that a caller awaits keeps the process alive (issue: an outbound job exited silently in
 * the middle of a retry, exit code 13 under ESM top-level await, with its catch never run). Only
 * background work (a refresh ahead of expiry nobody awaits) may leave the event loop free.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

let failing: Server;
let failingUrl: string;
let closedUrl: string;

beforeAll(async () => {
  failing = createServer((req, res) => {
    req.resume();
    res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"temporarily_unavailable"}');
  });
  await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
  failingUrl = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/oauth/token`;
  // A port that was just free: nothing listens there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/oauth/token`;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});
afterAll(async () => {
  failing.closeAllConnections();
  await new Promise<void>((resolve) => failing.close(() => resolve()));
});

async function runJob(endpoint: string, call: 'getToken' | 'fetch'): Promise<{ output: string; code: number | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'awaiting-job.ts'), endpoint, call], {
    cwd: join(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(killer);
  return { output, code };
}

describe('an awaited token request keeps the process alive through its retries', () => {
  test.each([
    ['getToken()', 'unreachable', 'getToken', () => closedUrl, 'ERR_TOKEN_ENDPOINT_UNREACHABLE'],
    ['fetch()', 'unreachable', 'fetch', () => closedUrl, 'ERR_TOKEN_ENDPOINT_UNREACHABLE'],
    ['getToken()', 'answering 503', 'getToken', () => failingUrl, 'ERR_TOKEN_ENDPOINT_FAILED'],
    ['fetch()', 'answering 503', 'fetch', () => failingUrl, 'ERR_TOKEN_ENDPOINT_FAILED'],
  ] as const)('%s against a token endpoint %s: the catch runs after both retries, exit code 0', async (_call, _state, call, endpoint, code) => {
    const result = await runJob(endpoint(), call);
    expect(result.output).toBe(`caught ${code} after 2 retries\n`);
    expect(result.code).toBe(0);
  }, 30_000);
});
