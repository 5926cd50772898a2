import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
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
          fileParallelism: false,
        },
      },
    ],
  },
});
