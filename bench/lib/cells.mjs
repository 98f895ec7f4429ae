// What run.mjs and pair.mjs share to measure an app under load: the app (bench/server.mjs) pinned
// to the server CPU, autocannon (bench/load.mjs) pinned to the load CPU.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnNode, stop, waitForLine } from './children.mjs';
import { benchDir } from './paths.mjs';
import { SCENARIOS } from './scenarios.mjs';

export const SERVER_CPU = 0;
export const LOAD_CPU = 1;
/** The audience every contender expects and every pre-minted token carries. */
export const AUDIENCE = 'https://bench.example/api';
/** S6 (DPoP): the Host the load generator sends, so the proofs' htu is known before the server's port. */
export const DPOP_HOST = 'bench.example';

/**
 * Starts a contender of bench/server.mjs on the server CPU, set up for `options.scenario` (DPoP on
 * for S6, `options.second` trusted as well for S7); resolves with { child, url } once it listens.
 * With `options.allocation`, the server counts the bytes it allocates (see `allocationMeter`).
 * @param {{ scenario?: string, second?: { issuer: string, jwksUri: string }, allocation?: boolean, nodeFlags?: string[], env?: Record<string, string> }} [options]
 */
export async function startContender(contender, issuer, options = {}) {
  const spec = SCENARIOS[options.scenario] ?? {};
  const second = spec.twoIssuers ? options.second : undefined;
  if (spec.twoIssuers && !second) throw new Error(`${options.scenario} needs a second issuer`);
  const child = spawnNode(SERVER_CPU, [join(benchDir, 'server.mjs')], {
    nodeFlags: options.nodeFlags,
    stdin: options.allocation === true,
    env: {
      CONTENDER: contender,
      ISSUER: issuer.issuer,
      AUDIENCE,
      JWKS_URI: issuer.jwksUri,
      ALGS: 'RS256,ES256',
      ...(spec.dpop ? { DPOP: '1' } : {}),
      ...(second ? { ISSUER2: second.issuer, JWKS_URI2: second.jwksUri } : {}),
      ...(options.allocation ? { ALLOCATION_STATS: '1' } : {}),
      ...options.env,
    },
  });
  const port = await waitForLine(child, 'READY', 30_000);
  return { child, url: `http://127.0.0.1:${port}/api/data` };
}

/**
 * Starts autocannon (warm-up, then measured) against `url` on the load CPU with the scenario's
 * tokens; `onWarmed` runs when the measured part begins. Returns { child, result }: `result`
 * resolves with the load generator's numbers (the child is stopped either way).
 */
export function startLoad({ url, scenario, tokens, connections, warmup, duration, tmp, name, onWarmed }) {
  const cfgFile = join(tmp, `load-${name}.json`);
  writeFileSync(cfgFile, JSON.stringify({
    url,
    connections,
    warmup,
    duration,
    tokensFile: scenario === 'S6' ? undefined : tokens.files[scenario],
    token: scenario === 'S1' ? tokens.s1 : undefined,
    dpopFile: scenario === 'S6' ? tokens.files.S6 : undefined,
    dpopHost: DPOP_HOST,
  }));
  const child = spawnNode(LOAD_CPU, [join(benchDir, 'load.mjs'), cfgFile]);
  if (onWarmed) child.lines.on('line', (line) => line === 'WARMED' && onWarmed());
  const result = waitForLine(child, 'RESULT', (warmup + duration + 45) * 1000)
    .then((line) => JSON.parse(line))
    .finally(() => stop(child));
  return { child, result };
}

/**
 * The client side of a server's allocation meter (started with `allocation: true`): `mark()` when
 * the measured part begins, `read()` after it: resolves with the bytes allocated per request.
 */
export function allocationMeterOf(child) {
  return {
    mark: () => child.stdin.write('MARK\n'),
    read: async () => {
      const line = waitForLine(child, 'ALLOC', 10_000);
      child.stdin.write('REPORT\n');
      const { bytes, requests } = JSON.parse(await line);
      return requests ? bytes / requests : undefined;
    },
  };
}
