/**
 * Replicas as real processes for the cross-process tests: `count` children of
 * fixtures/redis-child.ts, each with its own provider and Redis connection, started together,
 * told to go at once when all are connected; each makes 50 concurrent getToken() calls and reports
 * its distinct tokens and its events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

/** What fixtures/redis-child.ts reads from CHILD_CONFIG. */
export interface ChildConfig {
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  audience: string;
  keyPrefix: string;
  redisUrl?: string;
  cluster?: { host: string; port: number }[];
  sentinel?: { sentinels: { host: string; port: number }[]; name: string };
}

/** What one child reports. */
export interface ChildResult {
  tokens: string[];
  events: string[];
}

/** Runs `count` children on `config`; `beforeGo` runs once all are connected, before they go. */
export async function runChildren(count: number, config: ChildConfig, beforeGo: () => void = () => undefined): Promise<ChildResult[]> {
  const fixture = join(__dirname, 'fixtures', 'redis-child.ts');
  const children: ChildProcess[] = [];
  const readies: Promise<void>[] = [];
  const outputs: Promise<string>[] = [];
  for (let i = 0; i < count; i += 1) {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      cwd: join(__dirname, '..', '..'),
      env: { ...process.env, CHILD_CONFIG: JSON.stringify(config) },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    let text = '';
    let onText = () => undefined as void;
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      text += chunk;
      onText();
    });
    const until = (done: () => boolean) => new Promise<void>((resolve, reject) => {
      onText = () => { if (done()) resolve(); };
      child.once('exit', (code) => (done() ? resolve() : reject(new Error(`child exited with ${code}: ${text}`))));
      onText();
    });
    const ready = until(() => text.startsWith('ready\n'));
    readies.push(ready);
    outputs.push(ready.then(() => until(() => text.split('\n').length >= 3)).then(() => text.split('\n')[1] as string));
  }
  try {
    await Promise.all(readies);
    beforeGo();
    for (const child of children) child.stdin?.end('go\n');
    const results = (await Promise.all(outputs)).map((line) => JSON.parse(line) as ChildResult);
    await Promise.all(children.map((child) => (child.exitCode === null ? once(child, 'exit') : undefined)));
    return results;
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}
