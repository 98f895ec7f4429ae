// Verifier micro-benchmark: verifications per second on one thread, no HTTP, no Express.
// Compares express-m2m's verifier (createVerifier from dist/, keys from a real JWKS endpoint) with
// the crypto limit (node:crypto verify of the same signatures) and with jose's jwtVerify (the
// engine of express-oauth2-jwt-bearer). Modes are interleaved over rounds; medians are reported.
// Usage: node bench/verifier.mjs [--quick]; prints a table and "RESULT <json>".
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { startIssuer } from './lib/issuer.mjs';
import { distPath } from './lib/paths.mjs';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7;
const SLICE_MS = quick ? 200 : 600;
const POOL = quick ? 1500 : 4000;
const CACHE_ENTRIES = 1000; // smaller than POOL: the "distinct" modes miss the cache, as in S2-S4
const AUDIENCE = 'https://bench.example/api';

const isThenable = (x) => x !== null && typeof x === 'object' && typeof x.then === 'function';

/** Runs `fn(i)` for about `ms` milliseconds; returns operations per second. */
async function rate(fn, ms) {
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    for (let k = 0; k < 16; k++) {
      const r = fn(n++);
      if (isThenable(r)) await r;
    }
  }
  return (n / (performance.now() - start)) * 1000;
}

async function mint(issuer, n, alg) {
  const out = new Array(n);
  let i = 0;
  const worker = async () => {
    while (i < n) {
      const k = i++;
      out[k] = await issuer.sign({ sub: 'bench@clients', aud: AUDIENCE, scope: 'read:data', n: k }, { alg, expiresIn: 7200 });
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return out;
}

function tamper(token, i) {
  const [h, p, s] = token.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  payload.jti = `tampered-${i}`;
  return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
}

async function main() {
  const m2m = await import(pathToFileURL(distPath('index.js')).href);
  const issuer = await startIssuer({ alg: 'RS256' });
  try {
    const rs = await mint(issuer, POOL, 'RS256');
    const es = await mint(issuer, POOL, 'ES256');
    const bad = rs.map(tamper);
    const jwks = await (await fetch(issuer.jwksUri)).json();
    const keyFor = (token) => {
      const { kid } = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
      return createPublicKey({ key: jwks.keys.find((k) => k.kid === kid), format: 'jwk' });
    };
    const rsKey = keyFor(rs[0]);
    const esKey = keyFor(es[0]);
    const split = (t) => {
      const d = t.lastIndexOf('.');
      return [Buffer.from(t.slice(0, d)), Buffer.from(t.slice(d + 1), 'base64url')];
    };
    const rsParts = rs.map(split);
    const esParts = es.map(split);
    const verifier = m2m.createVerifier({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      jwksUri: issuer.jwksUri,
      algorithms: ['RS256', 'ES256'],
      verifiedTokenCache: { maxEntries: CACHE_ENTRIES },
    });
    await verifier.warmUp();
    const localJwks = createLocalJWKSet(jwks);
    const joseOptions = { issuer: issuer.issuer, audience: AUDIENCE, algorithms: ['RS256', 'ES256'] };
    const m2mRejects = (token) => {
      try {
        const r = verifier.verify(token);
        if (isThenable(r)) return r.then(() => { throw new Error('bad token accepted'); }, () => {});
      } catch {
        return undefined;
      }
      throw new Error('bad token accepted');
    };
    const modes = {
      'node:crypto verify RS256 (the crypto limit)': (i) => {
        const [data, sig] = rsParts[i % POOL];
        if (!cryptoVerify('sha256', data, rsKey, sig)) throw new Error('crypto verify failed');
      },
      'node:crypto verify ES256 (the crypto limit)': (i) => {
        const [data, sig] = esParts[i % POOL];
        if (!cryptoVerify('sha256', data, { key: esKey, dsaEncoding: 'ieee-p1363' }, sig)) throw new Error('crypto verify failed');
      },
      'express-m2m, same RS256 token (S1)': () => verifier.verify(rs[0]),
      'express-m2m, distinct RS256 tokens (S2)': (i) => verifier.verify(rs[i % POOL]),
      'express-m2m, distinct ES256 tokens (S3)': (i) => verifier.verify(es[i % POOL]),
      'express-m2m, bad signatures (S4)': (i) => m2mRejects(bad[i % POOL]),
      'jose jwtVerify, distinct RS256 tokens': (i) => jwtVerify(rs[i % POOL], localJwks, joseOptions),
      'jose jwtVerify, distinct ES256 tokens': (i) => jwtVerify(es[i % POOL], localJwks, joseOptions),
    };
    // Correctness first: every mode must do what it claims on a sample.
    for (const fn of Object.values(modes)) for (let i = 0; i < 20; i++) { const r = fn(i); if (isThenable(r)) await r; }
    // Warm-up: every mode once, long enough for the JIT, not measured.
    for (const fn of Object.values(modes)) await rate(fn, SLICE_MS / 2);
    const samples = Object.fromEntries(Object.keys(modes).map((k) => [k, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, fn] of Object.entries(modes)) samples[name].push(await rate(fn, SLICE_MS));
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const LIMIT_RS = 'node:crypto verify RS256 (the crypto limit)';
    const LIMIT_ES = 'node:crypto verify ES256 (the crypto limit)';
    // Share of the crypto limit: per round against the limit measured in the same round, then the
    // median, so that load from elsewhere on the machine cancels out as far as it can.
    const share = (name, limit) => Math.round(median(samples[name].map((x, r) => x / samples[limit][r])) * 100) / 100;
    const rows = Object.entries(samples).map(([name, xs]) => {
      const perSecond = median(xs);
      const row = { name, perSecond: Math.round(perSecond), usPerOp: Math.round(1e7 / perSecond) / 10 };
      if (!name.includes('S1')) row.ofCryptoLimit = share(name, name.includes('ES256') ? LIMIT_ES : LIMIT_RS);
      return row;
    });
    console.log(`Verifier, one thread, ${ROUNDS} rounds of ${SLICE_MS} ms per mode (medians; share of the crypto limit per round); pool ${POOL} tokens, express-m2m cache ${CACHE_ENTRIES} entries`);
    for (const r of rows) {
      console.log(`  ${r.name.padEnd(46)} ${String(r.perSecond).padStart(8)}/s  ${String(r.usPerOp).padStart(7)} us${r.ofCryptoLimit !== undefined ? `  ${r.ofCryptoLimit.toFixed(2)} of the crypto limit` : ''}`);
    }
    verifier.close();
    return { date: new Date().toISOString(), rounds: ROUNDS, sliceMs: SLICE_MS, pool: POOL, cacheEntries: CACHE_ENTRIES, rows };
  } finally {
    await issuer.close();
  }
}

setTimeout(() => {
  console.error('verifier benchmark: hard time limit reached');
  process.exit(2);
}, 300_000).unref();

main().then(
  (result) => {
    console.log(`RESULT ${JSON.stringify(result)}`);
    process.exit(0);
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
