/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/test'],
  testMatch: ['**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '\\.scale\\.test\\.ts$'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }],
    // hyparquet and hyparquet-writer are ES modules only, which Jest cannot require on Node 20: compiled to CommonJS
    // for the tests (the built packages import them natively).
    '/node_modules/(\\.pnpm/[^/]+/node_modules/)?hyparquet(-writer)?/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022', isolatedModules: true } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(\\.pnpm/)?hyparquet)'],
  moduleNameMapper: {
    '^@inferlog/core/adapter$': '<rootDir>/packages/core/src/adapter.ts',
    '^@inferlog/core/audit$': '<rootDir>/packages/core/src/audit/index.ts',
    '^@inferlog/(core|express|koa|cli|embedded|console)$': '<rootDir>/packages/$1/src/index.ts',
  },
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  // The embedded PostgreSQL runs one query at a time for the whole process: test files take turns.
  maxWorkers: process.env.DATABASE_URL ? 2 : 1,
  testTimeout: 60_000,
  reporters: ['default', '<rootDir>/test/setup/summary-reporter.js'],
};
