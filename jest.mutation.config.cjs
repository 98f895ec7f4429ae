/**
 * Jest for the mutation run (`npm run mutation`, stryker.config.mjs): the project's Jest config,
 * narrowed to the fast in-process unit tests of the mutated modules. Left out: the package,
 * consumer and TypeScript-matrix tests, the example API, the docs and README runners, the Express
 * end-to-end suites, and the tests that mostly wait on real time, real issuers or child processes
 * (a mutant activated in the Jest process never reaches a child process anyway). A surviving
 * mutant runs every test that covers it, so each slow file here costs its time per survivor: the
 * jose differential test (12 s) and the JWKS-over-HTTP suites are left to `npm test`.
 */
const base = require('./jest.config.cjs');

module.exports = {
  ...base,
  roots: ['<rootDir>/test'],
  testMatch: [
    '<rootDir>/test/inbound/**/*.test.ts',
    '<rootDir>/test/keys/**/*.test.ts',
    '<rootDir>/test/lib/**/*.test.ts',
    '<rootDir>/test/outbound/cache-key.test.ts',
    '<rootDir>/test/outbound/token-caching.test.ts',
    '<rootDir>/test/outbound/refresh-ahead.test.ts',
    '<rootDir>/test/outbound/failures.test.ts',
    '<rootDir>/test/outbound/idle-no-timers.test.ts',
    '<rootDir>/test/outbound/deadline-default.test.ts',
    '<rootDir>/test/outbound/cache-fallback.test.ts',
    '<rootDir>/test/outbound/mutation-reusing-source.test.ts',
    // the provider's health view and the outbound metrics, derived from the reuse layer's state
    '<rootDir>/test/observability/health.test.ts',
    '<rootDir>/test/otel/metrics.test.ts',
    '<rootDir>/test/caches/**/*.test.ts',
  ],
  testPathIgnorePatterns: [
    '/node_modules/',
    // type-level tests: enforced by `npm run typecheck`, nothing to kill at run time
    '/types\\.test\\.ts$',
    // docs runners (they run the built package in dist/, which a mutant never reaches)
    '/docs\\.test\\.ts$',
    // remote JWKS fetching and issuer discovery: not mutated, and slow (real cooldowns)
    '/test/keys/jwks-cache\\.test\\.ts$',
    '/test/keys/jwks-outages\\.test\\.ts$',
    '/test/inbound/jwt/recovery\\.test\\.ts$',
    '/test/inbound/jwt/discovery-outage\\.test\\.ts$',
    // slow cross-checks through real local issuers or thousands of tokens: `npm test` runs them
    '/test/inbound/jwt/differential\\.test\\.ts$',
    '/test/inbound/jwt/verifier-jwks\\.test\\.ts$',
    '/test/inbound/jwt/cache-key-freshness\\.test\\.ts$',
    // real Redis Cluster and Sentinel topologies (6 and 5 redis-server processes per file, failovers):
    // `npm test` runs them; the Cluster-only lines of redis-token-cache.ts are checked by hand
    '/test/caches/redis-cluster\\.test\\.ts$',
    '/test/caches/redis-sentinel\\.test\\.ts$',
  ],
};
