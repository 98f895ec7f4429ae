/**
 * Test support for the example API: runs it (or the demo) as a child process, exactly as a user
 * would, and reads what it prints. Every child is a real process on real loopback ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import path from 'node:path';

/** The repository root (where `npm start` runs). */
export const ROOT = path.resolve(__dirname, '../..');

/** Every variable the example or the demo reads: cleared so the developer's shell cannot leak in. */
const EXAMPLE_VARIABLES = [
  'PORT', 'HOST', 'ISSUER_BASE_URL', 'ISSUER', 'JWKS_URI', 'AUDIENCE', 'TOKEN_ENDPOINT', 'CLIENT_ID',
  'CLIENT_SECRET', 'CLIENT_AUTH_METHOD', 'DOWNSTREAM_URL', 'DOWNSTREAM_AUDIENCE', 'API_URL', 'DPOP_DOWNSTREAM_URL', 'DOWNSTREAM_MTLS',
];

/** The environment of a child: the test's, minus the example's variables, plus `env`. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of EXAMPLE_VARIABLES) delete base[name];
  return { ...base, ...env };
}

/** Output and exit of a child that ran to the end. */
export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Waits for a child to exit, killing it after `timeoutMs`. */
export function waitForExit(child: ChildProcess, output: { stdout: string; stderr: string }, timeoutMs = 90_000): Promise<Finished> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode, ...output });
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // Let the pipes drain.
      setImmediate(() => resolve({ code, signal, stdout: output.stdout, stderr: output.stderr }));
    });
  });
}

/** Spawns `command args` from the repository root and collects its output. */
export function spawnCollecting(command: string, args: string[], env: NodeJS.ProcessEnv): {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
} {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output.stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output.stderr += chunk;
  });
  return { child, output };
}

/** Runs `node --import tsx example-api/src/main.ts` with `env` until it exits (for start-up failures). */
export function runExampleToExit(env: Record<string, string>): Promise<Finished> {
  const { child, output } = spawnCollecting(process.execPath, ['--import', 'tsx', 'example-api/src/main.ts'], childEnv(env));
  return waitForExit(child, output);
}

/** A running example API child process. */
export interface ExampleProcess {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  /** The API URL as printed (with the real port). */
  url: string;
  /** Stops the child with SIGTERM (SIGKILL after a while) and returns how it exited. */
  stop(): Promise<Finished>;
}

/**
 * Starts the example as `npm start` does (`tsx example-api/src/main.ts`) with `env`, and resolves
 * once it printed its whole banner. Rejects with its output when it exits or stays silent.
 */
export async function startExampleProcess(env: Record<string, string>): Promise<ExampleProcess> {
  const { child, output } = spawnCollecting(process.execPath, ['--import', 'tsx', 'example-api/src/main.ts'], childEnv(env));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the example did not start within 90 s\nstdout:\n${output.stdout}\nstderr:\n${output.stderr}`));
    }, 90_000);
    const onData = (): void => {
      if (output.stdout.includes('Press Ctrl+C to stop.')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      setImmediate(() => reject(new Error(`the example exited (${code}) before it was ready\nstdout:\n${output.stdout}\nstderr:\n${output.stderr}`)));
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
  const url = /listening on (http:\/\/\S+)/.exec(output.stdout)?.[1];
  if (url === undefined) throw new Error(`no URL in the example's output:\n${output.stdout}`);
  let stopped: Promise<Finished> | undefined;
  return {
    child,
    output,
    url,
    stop() {
      stopped ??= (async () => {
        const exited = waitForExit(child, output, 30_000);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        return exited;
      })();
      return stopped;
    },
  };
}

/** A value printed as `NAME=value` on its own line of the banner. */
export function printed(stdout: string, name: string): string {
  const value = new RegExp(`^\\s+${name}=(\\S+)$`, 'm').exec(stdout)?.[1];
  if (value === undefined) throw new Error(`${name}= not printed:\n${stdout}`);
  return value;
}

/** An HTTP answer, body parsed as JSON when it is JSON. */
export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/** One request to the example with `fetch`. */
export async function call(
  url: string,
  init: { method?: string; token?: string; authorization?: string; headers?: Record<string, string>; body?: string; json?: unknown } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  if (init.authorization !== undefined) headers.authorization = init.authorization;
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, { method: init.method ?? 'GET', headers, body, signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** A request with raw header lines (node's http client), for what fetch will not send. */
export function rawRequest(
  url: string,
  rawHeaders: string[],
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    // With raw header lines node adds no Host header: add it (HTTP/1.1 requires one).
    const req = httpRequest(url, { method, headers: ['Host', new URL(url).host, ...rawHeaders] }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Gets a token from a token endpoint with client_secret_basic. */
export async function fetchToken(
  tokenEndpoint: string,
  client: { clientId: string; clientSecret: string },
  params: Record<string, string>,
): Promise<string> {
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...params }).toString(),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as { access_token?: string };
  if (response.status !== 200 || typeof body.access_token !== 'string') {
    throw new Error(`token request failed: HTTP ${response.status} ${JSON.stringify(body)}`);
  }
  return body.access_token;
}

/** The claims of a JWT (decoded, not verified). */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The same JWT with its signature changed. */
export function tamper(token: string): string {
  const [header, payload, signature = ''] = token.split('.');
  return `${header}.${payload}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
}
