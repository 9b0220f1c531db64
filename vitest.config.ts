import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['loire-source'] },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two test files at a time even on two cores (vitest's default there is one): the slow
    // files mostly wait on the servers and peers they start. Measured on 2 cores, the SQLite
    // suite took 723 s instead of 966 s.
    poolOptions: { forks: { maxForks: Math.max(2, availableParallelism() - 1) } },
  },
});
