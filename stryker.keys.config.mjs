// The mutation run of the key modules with the narrower test set of jest.mutation-keys.config.cjs
// (docs/mutation-testing.md, "Running it"): `npx stryker run stryker.keys.config.mjs --mutate src/keys/algorithms.ts`.
import base from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  jest: { ...base.jest, configFile: 'jest.mutation-keys.config.cjs' },
  incrementalFile: 'reports/stryker-incremental-keys.json',
  mutate: ['src/keys/algorithms.ts', 'src/keys/import-jwk.ts'],
};
