/**
 * Jest for the mutation runs of the key modules (`src/keys/algorithms.ts`, `src/keys/import-jwk.ts`;
 * stryker.keys.config.mjs): the mutation test set narrowed again to the key and signature tests.
 * Most of these modules' mutants are "static" (the algorithm table is built when the module loads,
 * and test files import keys in `beforeAll`), and Stryker runs every test of the set for a static
 * mutant: about 55 s each with the whole set, a few seconds with this one. A mutant that only a
 * test outside this set would kill counts as survived here, so the score is a lower bound, and each
 * survivor is checked against `npm test` by hand (docs/mutation-testing.md).
 */
const base = require('./jest.mutation.config.cjs');

module.exports = {
  ...base,
  testMatch: [
    '<rootDir>/test/keys/**/*.test.ts',
    '<rootDir>/test/inbound/jwt/algorithm-table.test.ts',
    '<rootDir>/test/inbound/jwt/mutation-verify-signature.test.ts',
    '<rootDir>/test/inbound/jwt/mutation-check-header.test.ts',
    '<rootDir>/test/inbound/jwt/verifier-checks.test.ts',
    '<rootDir>/test/inbound/jwt/verifier-options.test.ts',
    '<rootDir>/test/inbound/issuers/**/*.test.ts',
  ],
};
