import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "{ingress,workers,schemas,analytics,bus,config,runtime}/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // Each file gets its own process: tests start servers and signal handlers of their own.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
