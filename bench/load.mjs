// The load generator of one benchmark cell, in its own process so it can be pinned to its own CPU.
// Usage: node bench/load.mjs <config.json>; prints "RESULT <json>".
// Config: { url, connections, warmup, duration (seconds), tokensFile?: string, token?: string,
// dpopFile?: string, dpopHost?: string }
// Each request carries the next token of the file (cycling), the single `token`, or no
// Authorization header at all; with `dpopFile` (S6), `Authorization: DPoP <token>` and a new ES256
// proof made here for every request (Host `dpopHost`, so the proof's htu is known).
import autocannon from 'autocannon';
import { createHash, createPrivateKey, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const tokens = config.tokensFile
  ? readFileSync(config.tokensFile, 'utf8').split('\n').filter(Boolean)
  : config.token
    ? [config.token]
    : [];
const headersFor = tokens.map((t) => ({ authorization: `Bearer ${t}` }));
let next = 0;

function dpopRequests(file, host) {
  const { token, privateKeyPem, jwk } = JSON.parse(readFileSync(file, 'utf8'));
  const key = createPrivateKey(privateKeyPem);
  const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk })).toString('base64url');
  const ath = createHash('sha256').update(token).digest('base64url');
  const htu = `http://${host}${new URL(config.url).pathname}`;
  const authorization = `DPoP ${token}`;
  return () => {
    const payload = Buffer.from(JSON.stringify({ jti: randomUUID(), htm: 'GET', htu, iat: Math.floor(Date.now() / 1000), ath })).toString('base64url');
    const input = `${header}.${payload}`;
    const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    return { host, authorization, dpop: `${input}.${signature}` };
  };
}
const dpopHeaders = config.dpopFile ? dpopRequests(config.dpopFile, config.dpopHost) : undefined;

function setupRequest(req) {
  // Same work for every scenario, so the load generator costs the same everywhere (S6 adds a proof).
  if (dpopHeaders) {
    req.headers = dpopHeaders();
    next++;
    return req;
  }
  req.headers = headersFor.length ? headersFor[next++ % headersFor.length] : {};
  if (!headersFor.length) next++;
  return req;
}

function run(duration) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: config.url,
        connections: config.connections,
        duration,
        pipelining: 1,
        timeout: 10,
        requests: [{ method: 'GET', setupRequest }],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    instance.on('error', reject);
  });
}

// Hard bound, whatever happens inside autocannon.
setTimeout(() => {
  console.error('load generator: hard time limit reached');
  process.exit(2);
}, (config.warmup + config.duration + 30) * 1000).unref();

if (config.warmup > 0) await run(config.warmup);
console.log('WARMED');
const start = next;
const r = await run(config.duration);
const result = {
  rps: r.requests.average,
  total: r.requests.total,
  durationS: r.duration,
  latency: { p50: r.latency.p50, p99: r.latency.p99, avg: r.latency.average, max: r.latency.max },
  statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, Number(v.count)])),
  errors: r.errors,
  timeouts: r.timeouts,
  non2xx: r.non2xx,
  requestsIssued: next - start,
  tokenPool: tokens.length,
  // True when warm-up + measured requests outnumbered the pool, so tokens came round again.
  tokensWrapped: tokens.length > 1 && next > tokens.length,
  throughputMBs: r.throughput.average / 1e6,
};
console.log(`RESULT ${JSON.stringify(result)}`);
process.exit(0);
