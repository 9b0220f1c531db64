import { describe, expect, it } from 'vitest';
import { CONSOLE_GOALS, consoleTable, consoleVerdicts } from './console.mjs';

describe('console scenario', () => {
  const rows = [
    { case: 'first image of the 70-slice head CT', status: 'ok', value: 250, unit: 'ms', rounds: 5 },
    { case: 'whole series loaded (scrollable)', status: 'ok', value: 3200, unit: 'ms', rounds: 5 },
    { case: 'scrolling the stack', status: 'ok', value: 31.4, unit: 'frames/s', rounds: 5 },
    { case: '170-slice MR in MPR: page memory', status: 'ok', value: 980, unit: 'MiB', rounds: 1, detail: 'renderer 700 MiB + GPU process 280 MiB' },
  ] as const;

  it('judges each figure against the issue\'s goal', () => {
    expect(CONSOLE_GOALS).toEqual({ firstImageMs: 300, seriesLoadedMs: 3000, scrollFps: 30, mprMemoryMiB: 1024 });
    expect(consoleVerdicts([...rows]).map((v) => [v.case, v.measured, v.verdict])).toEqual([
      ['first image of the 70-slice head CT', '250 ms', 'PASS'],
      ['whole series loaded (scrollable)', '3,200 ms', 'FAIL'],
      ['scrolling the stack', '31.4 frames/s', 'PASS'],
      ['170-slice MR in MPR: page memory', '980 MiB', 'PASS'],
    ]);
  });

  it('says why nothing was measured', () => {
    const missing = [{ case: 'console', status: 'not available', reason: 'no Chromium' }] as const;
    expect(consoleVerdicts([...missing]).every((v) => v.verdict === 'n/a')).toBe(true);
    expect(consoleTable([...missing]).lines).toEqual([['console', '', '', 'not available: no Chromium']]);
  });
});
