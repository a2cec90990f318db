/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  // Type-checking is `npm run typecheck`'s job; transpiling only keeps the suite fast.
  transform: { "^.+\\.ts$": ["ts-jest", { isolatedModules: true, diagnostics: false }] },
  setupFiles: ["<rootDir>/__tests__/support/jest-setup.ts"],
  // One line, before anything runs, when nginx (the proxy tests' real server) is missing.
  globalSetup: "<rootDir>/__tests__/support/global-setup.ts",
  testTimeout: 60000,
  maxWorkers: 2,
};
