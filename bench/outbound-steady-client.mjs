// One side of the steady outbound benchmark (S8), in its own process pinned to the client CPU:
// `CONNECTIONS` concurrent loops of "call the downstream, read the answer" for WARMUP then
// DURATION seconds, on a token the provider already holds. Prints "RESULT <json>".
//   MODE=plain: global fetch with a fixed `Authorization: Bearer <token>` (the reference)
//   MODE=provider: provider.fetch() of express-m2m's clientCredentials
//   TOKEN_ENDPOINT, CLIENT_ID, CLIENT_SECRET, AUDIENCE, DOWNSTREAM_URL, CONNECTIONS, WARMUP, DURATION
// Both modes load express-m2m and get the token through it, so they differ only in the call.
import { pathToFileURL } from 'node:url';
import { startAllocationCount } from './lib/allocation.mjs';
import { distPath } from './lib/paths.mjs';

const env = process.env;
const { MODE: mode, DOWNSTREAM_URL: url } = env;
const connections = Number(env.CONNECTIONS ?? 50);

setTimeout(() => {
  console.error('outbound steady client: hard time limit reached');
  process.exit(2);
}, (Number(env.WARMUP) + Number(env.DURATION) + 60) * 1000).unref();

const m2m = await import(pathToFileURL(distPath('index.js')).href);
const provider = m2m.clientCredentials({ tokenEndpoint: env.TOKEN_ENDPOINT, clientId: env.CLIENT_ID, clientSecret: env.CLIENT_SECRET, audience: env.AUDIENCE });
const token = await provider.getToken();
const headers = { authorization: `Bearer ${token}` };
const call = mode === 'plain' ? () => fetch(url, { headers }) : mode === 'provider' ? () => provider.fetch(url) : undefined;
if (!call) throw new Error(`MODE must be plain or provider, got "${mode}"`);

const statuses = {};
/** Runs the loops for `seconds`; resolves with the number of calls completed. */
async function run(seconds) {
  const end = performance.now() + seconds * 1000;
  let calls = 0;
  const loop = async () => {
    while (performance.now() < end) {
      const response = await call();
      await response.arrayBuffer();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      calls++;
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  return calls;
}

await run(Number(env.WARMUP));
for (const k of Object.keys(statuses)) delete statuses[k];
const cpuStart = process.cpuUsage();
const stopCount = startAllocationCount();
const started = performance.now();
const calls = await run(Number(env.DURATION));
const elapsedUs = (performance.now() - started) * 1000;
const { bytes } = stopCount();
const cpu = process.cpuUsage(cpuStart);
const cpuUs = cpu.user + cpu.system;
await provider.close?.();
console.log(`RESULT ${JSON.stringify({
  mode,
  callsPerSecond: Math.round(calls / (elapsedUs / 1e6)),
  cpuUsPerCall: Math.round((cpuUs / calls) * 10) / 10,
  utilization: Math.round((cpuUs / elapsedUs) * 100) / 100,
  bytesPerCall: Math.round(bytes / calls),
  statuses,
})}`);
process.exit(0);
