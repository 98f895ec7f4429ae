// Child processes of the benchmark: optionally pinned to one CPU with taskset, always tracked,
// and all killed (by pid) when the orchestrator exits, fails or is interrupted.
import { spawn, execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const live = new Set();

function hasTaskset() {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

/** CPU time (user + system) a process has used so far, in microseconds, from /proc; undefined elsewhere. */
export function cpuMicros(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11] = utime, fields[12] = stime, in clock ticks.
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Whether server and load generator can be pinned to different CPUs. */
export const pinning = availableParallelism() >= 2 && hasTaskset();

export function killAll(signal = 'SIGKILL') {
  for (const child of live) {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
  live.clear();
}

let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => killAll());
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}

/**
 * Starts `node <args>` (pinned to `cpu` when pinning is possible) and tracks it.
 * @param {number | undefined} cpu
 * @param {string[]} args node arguments (script and its arguments)
 * @param {{ env?: Record<string,string>, nodeFlags?: string[], stdin?: boolean }} [options]
 */
export function spawnNode(cpu, args, options = {}) {
  hookExit();
  const nodeArgs = [...(options.nodeFlags ?? []), ...args];
  const [cmd, argv] = pinning && cpu !== undefined
    ? ['taskset', ['-c', String(cpu), process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const child = spawn(cmd, argv, {
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production', ...options.env },
  });
  live.add(child);
  child.on('exit', () => live.delete(child));
  child.stderrText = '';
  child.stderr.on('data', (d) => {
    child.stderrText = (child.stderrText + d.toString()).slice(-4000);
  });
  child.lines = createInterface({ input: child.stdout });
  return child;
}

/** Resolves with the first stdout line matching `prefix` (its rest), rejects on exit or timeout. */
export function waitForLine(child, prefix, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "${prefix}"; stderr: ${child.stderrText}`));
    }, timeoutMs);
    const onLine = (line) => {
      if (line.startsWith(prefix)) {
        cleanup();
        resolve(line.slice(prefix.length).trim());
      }
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`child exited (${code ?? signal}) before "${prefix}"; stderr: ${child.stderrText}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.lines.off('line', onLine);
      child.off('exit', onExit);
    };
    child.lines.on('line', onLine);
    child.on('exit', onExit);
  });
}

/** Kills a child and waits until it is gone (bounded). */
export function stop(child, timeoutMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Runs a benchmark script's `main()` and exits: prints `RESULT <json>` when `printResult` is set
 * (the orchestrator reads it), kills every child process either way.
 */
export function runMain(main, { printResult = false } = {}) {
  main().then(
    (result) => {
      if (printResult) console.log(`RESULT ${JSON.stringify(result)}`);
      killAll();
      process.exit(0);
    },
    (err) => {
      console.error(err);
      killAll();
      process.exit(1);
    },
  );
}
