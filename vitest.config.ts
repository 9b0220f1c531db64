import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['loire-source'] },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
