import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // E2E tests spawn the CLI; two cores run two files at once.
    pool: "forks",
    maxWorkers: 2,
  },
});
