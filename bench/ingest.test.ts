import { describe, expect, it } from 'vitest';
import { medianRun } from './ingest.mjs';

describe('medianRun', () => {
  const ok = (seconds: number) => ({ status: 'ok' as const, seconds, instancesPerSecond: 100 / seconds });

  it('keeps the run of median time and says how many runs it stands for', () => {
    expect(medianRun([ok(3), ok(1), ok(2)])).toMatchObject({ seconds: 2, runs: 3 });
    expect(medianRun([ok(4), ok(1)])).toMatchObject({ seconds: 1, runs: 2 });
  });

  it('keeps a failed round visible beside the median of the successful ones', () => {
    expect(medianRun([ok(1), { status: 'error', reason: '9 of 10 instances stored' }, ok(3)]))
      .toMatchObject({ status: 'ok', seconds: 1, runs: 2, failedRuns: 1, reason: '9 of 10 instances stored' });
  });

  it('reports the failure when no round succeeded', () => {
    expect(medianRun([{ status: 'error', reason: 'peer aborted' }])).toMatchObject({ status: 'error', reason: 'peer aborted' });
  });
});
