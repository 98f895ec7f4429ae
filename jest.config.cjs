/** Jest runs the TypeScript sources through SWC (no type-check: `npm run typecheck` does that). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
    }],
  },
  // jose 6 and oauth4webapi 3 are ESM-only: Jest's CommonJS loader needs them transformed.
  transformIgnorePatterns: ['/node_modules/(?!(jose|oauth4webapi)/)'],
  moduleNameMapper: {
    '^express-m2m$': '<rootDir>/src/index.ts',
    '^express-m2m/testing$': '<rootDir>/src/testing/index.ts',
    '^express-m2m/redis$': '<rootDir>/src/redis.ts',
    '^express-m2m/otel$': '<rootDir>/src/otel.ts',
    '^express-m2m/extend$': '<rootDir>/src/extend.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 20000,
};
