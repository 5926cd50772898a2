import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{lib,server,scripts}/**/*.test.ts'],
          exclude: ['**/*.integration.test.ts', 'node_modules/**', 'e2e/**'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['{lib,server,scripts}/**/*.integration.test.ts'],
          exclude: ['node_modules/**', 'e2e/**'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 30_000,
          // Two files at a time (maxWorkers below): most of an integration test's time is waiting
          // (timers, sockets, a headless Chromium), so two overlap well on 2 cores (measured: 4.5 ->
          // 3.3 min). Each file starts its own server on port 0 with its own temp dir: no shared state.
        },
      },
    ],
  },
});
