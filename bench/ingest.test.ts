import { describe, expect, it } from 'vitest';
import { medianRun } from './ingest.mjs';

describe('medianRun', () => {
  const ok = (seconds: number) => ({ status: 'ok' as const, seconds, instancesPerSecond: 100 / seconds });

  it('keeps the run of median time and says how many runs it stands for', () => {
    expect(medianRun([ok(3), ok(1), ok(2)])).toMatchObject({ seconds: 2, runs: 3 });
    expect(medianRun([ok(4), ok(1)])).toMatchObject({ seconds: 1, runs: 2 });
  });

  it('reports a failure rather than hiding it behind the successful runs', () => {
    expect(medianRun([ok(1), { status: 'error', reason: '9 of 10 instances stored' }])).toMatchObject({ status: 'error' });
  });
});
