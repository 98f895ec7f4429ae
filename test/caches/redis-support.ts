/**
 * Redis availability for the Redis tests. Outside CI an unreachable Redis skips them with a loud
 * warning; with CI=true they always run (and fail if Redis is unreachable).
 */
import { spawnSync } from 'node:child_process';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Checks synchronously (so `describe` can be chosen at load time) that Redis answers PING. */
function redisAnswers(url: string): boolean {
  const probe = `
    const { hostname, port } = new URL(process.argv[1]);
    const socket = require('node:net').connect(Number(port || 6379), hostname || '127.0.0.1');
    socket.setTimeout(1000, () => process.exit(1));
    socket.on('error', () => process.exit(1));
    socket.on('connect', () => socket.write('PING\\r\\n'));
    socket.on('data', (d) => process.exit(/PONG|NOAUTH/.test(String(d)) ? 0 : 1));`;
  const result = spawnSync(process.execPath, ['-e', probe, url], { timeout: 3000 });
  return result.status === 0;
}

const inCI = process.env.CI === 'true';
export const redisAvailable = inCI || redisAnswers(REDIS_URL);

if (!redisAvailable) {
  console.warn(
    `\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n`
    + `!! SKIPPING the Redis token-cache tests: Redis at ${REDIS_URL} does not answer.\n`
    + `!! Start one with \`bash .ci/ensure-redis\` or set REDIS_URL. (With CI=true these tests run and fail.)\n`
    + `!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n`,
  );
}

/** `describe` when Redis is usable (always in CI), else `describe.skip`. */
export const describeRedis: typeof describe = redisAvailable ? describe : describe.skip;
