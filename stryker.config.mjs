// Mutation testing of the security-critical modules (docs/mutation-testing.md): `npm run mutation`.
// Slow on 2 cores, so not part of .ci/run. Incremental: a re-run only tests the mutants whose code
// or covering tests changed since the last run (reports/stryker-incremental.json, not committed).

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.mutation.config.cjs',
    enableFindRelatedTests: false,
  },
  coverageAnalysis: 'perTest',
  concurrency: 2,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  timeoutMS: 5000,
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false },
  ignorePatterns: ['dist', 'dist-before', 'coverage', 'reports', 'bench', 'example-api', 'docs/reference'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  mutate: [
    // credential extraction (RFC 6750 header, query, body)
    'src/inbound/credentials/extract-credentials.ts',
    // header, signature and claim checks of the JWT verifier
    'src/inbound/verifiers/jwt/algorithms.ts',
    'src/inbound/verifiers/jwt/check-header.ts',
    'src/inbound/verifiers/jwt/check-claims.ts',
    'src/inbound/verifiers/jwt/decode-segments.ts',
    'src/inbound/verifiers/jwt/verify-signature.ts',
    'src/inbound/verifiers/claim-rules.ts',
    // the verified-token cache
    'src/inbound/verifiers/jwt/verified-token-cache.ts',
    // issuer matching before verification
    'src/inbound/issuers/issuer-key.ts',
    'src/inbound/issuers/peek-issuer.ts',
    // key selection (key import and the algorithm table: stryker.keys.config.mjs)
    'src/keys/key-set.ts',
    // the outbound cache key
    'src/outbound/shared/token-cache-key.ts',
    // single flight
    'src/lib/refreshable.ts',
    'src/outbound/reuse/reusing-source.ts',
    // the Redis lock
    'src/caches/redis/redis-token-cache.ts',
  ],
};
