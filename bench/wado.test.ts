// The WADO-RS benchmark's verdicts: against the disk's O_DIRECT figure when there is one, and
// Loire's frame time against Orthanc's, per pass.
import { describe, expect, it } from 'vitest';
import { wadoTable, wadoVerdicts } from './wado.mjs';

const series = (target: string, mbPerSecond: number) => ({ scenario: 'wado-series', case: '200 CT instances', target, status: 'ok' as const, mbPerSecond, bytes: 1e8, seconds: 1e8 / 1e6 / mbPerSecond, requests: 1 });
const frames = (target: string, which: string, seconds: number) => ({ scenario: 'wado-frames', case: `70 frames, 6 in flight, ${which}`, target, status: 'ok' as const, seconds, requests: 70 });

describe('wadoVerdicts', () => {
  it('judges the series retrieve against the O_DIRECT read, not the page-cache one', () => {
    const rows = [series('disk read of the stored files (O_DIRECT)', 500), series('raw read of the stored files (page cache allowed)', 8000), series('loire WADO-RS series retrieve', 450)];
    expect(wadoVerdicts(rows)).toEqual([expect.objectContaining({ measured: '90%', verdict: 'PASS' })]);
    rows[2] = series('loire WADO-RS series retrieve', 300);
    expect(wadoVerdicts(rows)).toEqual([expect.objectContaining({ measured: '60%', verdict: 'FAIL' })]);
  });

  it('compares frame times per pass, and says what was not measured', () => {
    const verdicts = wadoVerdicts([frames('orthanc', 'first pass', 4), frames('loire', 'first pass', 1), frames('orthanc', 'later passes', 3), frames('loire', 'later passes', 2)]);
    expect(verdicts.map((v) => [v.case, v.measured, v.verdict])).toEqual([['first pass', '4.00x', 'PASS'], ['later passes', '1.50x', 'FAIL']]);
    expect(wadoVerdicts([frames('loire', 'first pass', 1)])[0]).toMatchObject({ measured: 'orthanc not measured', verdict: 'n/a' });
  });

  it('shows errors with their reason in the table', () => {
    const table = wadoTable([{ scenario: 'wado-frames', case: 'x', target: 'orthanc', status: 'not available', reason: 'plugin missing' }]);
    expect(table.lines[0]!.at(-1)).toBe('not available: plugin missing');
  });
});
