// One benchmark contender: an Express 5 app with GET /api/data answering a small JSON, protected
// (or not, for "bare") by the contender's middleware. Started by run.mjs in its own process;
// prints "READY <port>" once listening on 127.0.0.1.
//   CONTENDER=bare|express-m2m|express-oauth2-jwt-bearer|express-jwt, or the calibrations noop (a
//   middleware that only reads the header) and crypto (signature check through node:crypto only;
//   crypto-next: refusing through next(err)), or the rungs of express-m2m's cost ladder
//   (part-extract, part-verify, part-verify-nocache: pair.mjs only, see below)
//   ISSUER, AUDIENCE, JWKS_URI; ALGS (comma-separated, default RS256,ES256); ISSUER2, JWKS_URI2:
//   a second trusted issuer (S7); ALLOCATION_STATS=1: the allocation meter on stdin (see below)
import express from 'express';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { distPath } from './lib/paths.mjs';
import { allocationMeter } from './lib/allocation.mjs';

// express-m2m@<dir>: express-m2m built into another directory (a copy of an earlier dist/, to
// compare a change against it with bench/pair.mjs).
const [contender, otherDist] = (process.env.CONTENDER ?? 'bare').split('@');
const issuer = process.env.ISSUER;
const audience = process.env.AUDIENCE;
const jwksUri = process.env.JWKS_URI;
const algorithms = (process.env.ALGS ?? 'RS256,ES256').split(',');
// DPOP=1 (scenario S6): DPoP on, in each contender's own way.
const dpop = process.env.DPOP === '1';
/** The file URL of a built entry of express-m2m (of `otherDist` when one is named). */
const builtEntry = (file) => pathToFileURL(otherDist ? resolve(otherDist, file) : distPath(file)).href;
const second = process.env.ISSUER2 ? { issuer: process.env.ISSUER2, jwksUri: process.env.JWKS_URI2 } : undefined;

/** Renders an error the way a production app would: status, its headers, a small JSON body. */
function peerErrorHandler(err, req, res, _next) {
  const status = Number.isInteger(err?.status) ? err.status : 500;
  if (err?.headers && typeof err.headers === 'object') res.set(err.headers);
  res.status(status).json({ error: err?.code ?? 'error' });
}

/** `onEvent` of express-m2m/otel on a MeterProvider of the OpenTelemetry SDK with an in-memory exporter. */
async function otelOnEvent() {
  const { otelEvents } = await import(builtEntry('otel.js'));
  const { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } = await import('@opentelemetry/sdk-metrics');
  const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 60_000 });
  return otelEvents({ meterProvider: new MeterProvider({ readers: [reader] }) });
}

async function middlewareFor(name) {
  // noop-only-<module>: the no-op app with one built module of express-m2m imported (`~` for `/`,
  // e.g. noop-only-express~require-auth.js), to find what the import cost comes with (pair.mjs only).
  if (name.startsWith('noop-only-')) {
    await import(builtEntry(name.slice('noop-only-'.length).replaceAll('~', '/')));
    return middlewareFor('noop');
  }
  switch (name) {
    case 'bare':
      return { before: [], after: [] };
    case 'noop':
    case 'noop-imported':
      // Calibration, not a contender: the cost of any middleware that reads the header and sets
      // req.auth. noop-imported: the same with express-m2m loaded and nothing of it used, the cost
      // of importing the package.
      if (name === 'noop-imported') await import(builtEntry('index.js'));
      return {
        before: [(req, res, next) => {
          req.auth = { token: req.headers.authorization };
          next();
        }],
        after: [],
      };
    case 'crypto':
    case 'crypto-next': {
      // Calibration, not a contender: the floor under HTTP. Splits the token and checks its
      // signature with node:crypto against keys imported once at start-up, parses the payload and
      // checks nothing else. What any verifying middleware must at least spend per new token.
      // crypto-next: the same, but a bad signature is refused through next(err) and answered by an
      // error handler, as by every middleware that lets the app's error handlers answer
      // (express-m2m's way): the difference to "crypto" in S4 is Express's error routing.
      const { createPublicKey, verify } = await import('node:crypto');
      // S7: the keys of both issuers in one map (the floor does not check which issuer signed).
      const keys = [];
      for (const uri of [jwksUri, second?.jwksUri].filter(Boolean)) keys.push(...(await (await fetch(uri)).json()).keys);
      const byKid = new Map(keys.map((jwk) => [jwk.kid, { key: createPublicKey({ key: jwk, format: 'jwk' }), alg: jwk.alg }]));
      const refusal = Object.freeze({ status: 401, headers: Object.freeze({ 'WWW-Authenticate': 'Bearer error="invalid_token"' }), code: 'invalid_token' });
      const reject = name === 'crypto-next'
        ? (res, next) => next(refusal)
        : (res) => res.status(401).set('WWW-Authenticate', 'Bearer error="invalid_token"').json({ error: 'invalid_token' });
      // S6: the floor of DPoP with a reused token is one ES256 check of the proof (its key imported
      // once per proof header, as a verifier would remember it); the token itself is not checked again.
      const proofKeys = new Map();
      const checkProof = (req, res, next) => {
        const proof = req.headers.dpop;
        const a = proof.indexOf('.');
        const b = proof.indexOf('.', a + 1);
        const head = proof.slice(0, a);
        let key = proofKeys.get(head);
        if (!key) {
          key = createPublicKey({ key: JSON.parse(Buffer.from(head, 'base64url').toString()).jwk, format: 'jwk' });
          proofKeys.set(head, key);
        }
        if (!verify('sha256', Buffer.from(proof.slice(0, b), 'latin1'), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(proof.slice(b + 1), 'base64url'))) return reject(res, next);
        req.auth = { token: req.headers.authorization.slice(5) };
        next();
      };
      return {
        before: [(req, res, next) => {
          const h = req.headers.authorization;
          if (dpop && typeof h === 'string' && h.startsWith('DPoP ') && typeof req.headers.dpop === 'string') return checkProof(req, res, next);
          if (typeof h !== 'string' || !h.startsWith('Bearer ')) return res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized' });
          const token = h.slice(7);
          const a = token.indexOf('.');
          const b = token.indexOf('.', a + 1);
          const header = JSON.parse(Buffer.from(token.slice(0, a), 'base64url').toString());
          const entry = byKid.get(header.kid);
          if (!entry) return reject(res, next);
          const options = entry.alg === 'ES256' ? { key: entry.key, dsaEncoding: 'ieee-p1363' } : entry.key;
          if (!verify('sha256', Buffer.from(token.slice(0, b), 'latin1'), options, Buffer.from(token.slice(b + 1), 'base64url'))) return reject(res, next);
          req.auth = { token, payload: JSON.parse(Buffer.from(token.slice(a + 1, b), 'base64url').toString()) };
          next();
        }],
        after: name === 'crypto-next' ? [peerErrorHandler] : [],
      };
    }
    case 'part-extract':
    case 'part-verify':
    case 'part-verify-nocache': {
      // The cost ladder of express-m2m (bench/README.md, "What the remaining cost is made of"): its
      // parts, taken from its build, one more per rung, each answering like the no-op app.
      //   part-extract: the request adapter and the RFC 6750 extraction, then req.auth = { token };
      //   part-verify: + the JWT verifier (verified-token cache, key selection, every check), its
      //   result as req.auth; part-verify-nocache: the verifier without its verified-token cache.
      // The full middleware adds the issuer step, the binding checks and what it remembers for the guards.
      const { ExpressInboundRequest } = await import(builtEntry('express/express-inbound-request.js'));
      const { extractCredentials } = await import(builtEntry('inbound/credentials/extract-credentials.js'));
      const policy = {};
      const verifier = name === 'part-extract' ? undefined : (await import(builtEntry('index.js'))).createVerifier({
        issuer, jwksUri, audience, algorithms, ...(name === 'part-verify-nocache' ? { verifiedTokenCache: false } : {}),
      });
      return {
        before: [(req, res, next) => {
          let result;
          try {
            const { token } = extractCredentials(new ExpressInboundRequest(req), policy);
            result = verifier === undefined ? { token } : verifier.verify(token);
          } catch (error) {
            return next(error);
          }
          if (typeof result?.then !== 'function') {
            req.auth = result;
            return next();
          }
          result.then((auth) => {
            req.auth = auth;
            next();
          }, next);
        }],
        after: [peerErrorHandler],
      };
    }
    case 'express-m2m':
    case 'express-m2m-otel': {
      const m2m = await import(builtEntry('index.js'));
      if (typeof m2m.requireAuth !== 'function') throw new Error('express-m2m: requireAuth is not built yet');
      // express-m2m-otel: the same, with its events recorded as OpenTelemetry metrics by the real SDK
      // (a MeterProvider whose reader exports once a minute), the cost of issue 14's instrumentation.
      const onEvent = name === 'express-m2m-otel' ? await otelOnEvent() : undefined;
      const guard = m2m.requireAuth({
        ...(onEvent === undefined ? {} : { onEvent }),
        // S7: both issuers, each with its own JWKS; audience and algorithms shared.
        ...(second ? { issuers: [{ issuer, jwksUri }, second] } : { issuer, jwksUri }),
        audience,
        algorithms,
        // VERIFIED_TOKEN_CACHE=off: the memory benchmark's comparison run.
        ...(process.env.VERIFIED_TOKEN_CACHE === 'off' ? { verifiedTokenCache: false } : {}),
        ...(dpop ? { dpop: { algorithms: ['ES256'] } } : {}),
      });
      const handler = typeof m2m.authErrorHandler === 'function' ? m2m.authErrorHandler() : peerErrorHandler;
      return { before: [guard], after: [handler, peerErrorHandler] };
    }
    case 'express-oauth2-jwt-bearer': {
      const { auth } = await import('express-oauth2-jwt-bearer');
      // No tokenSigningAlg (it takes one algorithm only); the alg validator allows exactly `algorithms`.
      const guard = auth({ issuer, audience, jwksUri, validators: { alg: (alg) => algorithms.includes(alg) }, ...(dpop ? { dpop: { enabled: true } } : {}) });
      return { before: [guard], after: [peerErrorHandler] };
    }
    case 'express-jwt': {
      const { expressjwt } = await import('express-jwt');
      const { default: jwksRsa } = await import('jwks-rsa');
      const guard = expressjwt({
        secret: jwksRsa.expressJwtSecret({ jwksUri, cache: true, rateLimit: true, jwksRequestsPerMinute: 10 }),
        issuer,
        audience,
        algorithms,
      });
      return { before: [guard], after: [peerErrorHandler] };
    }
    default:
      throw new Error(`unknown contender "${name}"`);
  }
}

const { before, after } = await middlewareFor(contender);
const app = express();
if (process.env.MEMORY_STATS === '1') {
  // Memory benchmark only (node --expose-gc): memory after two full collections.
  app.get('/__memory', (req, res) => {
    globalThis.gc?.();
    globalThis.gc?.();
    res.json(process.memoryUsage());
  });
}
app.get('/api/data', ...before, (req, res) => {
  res.json({ ok: true, items: [1, 2, 3] });
});
for (const h of after) app.use(h);

const server = app.listen(0, '127.0.0.1', () => {
  console.log(`READY ${server.address().port}`);
});
if (process.env.ALLOCATION_STATS === '1') allocationMeter(server);
server.keepAliveTimeout = 60_000;
// CPU_PROFILE_FILE: SIGUSR2 starts the V8 sampling profiler (after the warm-up), SIGTERM writes
// the profile there and exits. Only run.mjs --profile sets it.
let profiler;
if (process.env.CPU_PROFILE_FILE) {
  const { Session } = await import('node:inspector');
  process.on('SIGUSR2', () => {
    if (profiler) return;
    profiler = new Session();
    profiler.connect();
    profiler.post('Profiler.enable', () => profiler.post('Profiler.start'));
  });
}
const quit = () => {
  server.closeAllConnections?.();
  if (!profiler) process.exit(0);
  profiler.post('Profiler.stop', async (err, result) => {
    const { writeFileSync } = await import('node:fs');
    if (!err) writeFileSync(process.env.CPU_PROFILE_FILE, JSON.stringify(result.profile));
    process.exit(0);
  });
};
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
