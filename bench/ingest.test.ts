import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { medianRun, priorityNote, targetNiceness } from './ingest.mjs';
import { TARGET_NICENESS } from './lib/process.mjs';

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

describe('the targets\' priority', () => {
  it('is the senders\' own when asked for the same priority', () => {
    expect(targetNiceness({ samePriority: true })).toBeUndefined();
  });

  it('is raised where this process may raise it, and the report says which it was', () => {
    const niceness = targetNiceness();
    if (process.getuid?.() === 0) expect(niceness).toBe(TARGET_NICENESS);
    const senders = os.getPriority();
    expect(priorityNote(TARGET_NICENESS)).toContain(`Each target ran at niceness ${TARGET_NICENESS}, the senders at ${senders}`);
    expect(priorityNote(undefined)).toBe(`Targets and senders ran at the same priority (niceness ${senders}).`);
  });
});
