import { describe, expect, it } from 'vitest';
import { qidoPath, securityVerdicts, variantConfig, VARIANTS, medianOf } from './security.mjs';

describe('security-overhead scenario', () => {
  it('configures each variant, leaving the authentication switch out of builds without it', () => {
    expect(variantConfig(VARIANTS[0]!, true)).toEqual({ dicomNodes: [{ name: 'bench', aeTitle: 'BENCH' }], audit: { enabled: false }, security: { authentication: false } });
    expect(variantConfig(VARIANTS[2]!, true)).toEqual({ dicomNodes: [{ name: 'bench', aeTitle: 'BENCH' }], audit: { enabled: true }, security: { authentication: true } });
    expect(variantConfig(VARIANTS[1]!, false)).toEqual({ dicomNodes: [{ name: 'bench', aeTitle: 'BENCH' }], audit: { enabled: true } });
  });

  it('asks QIDO-RS what the C-FIND mix asks', () => {
    expect(qidoPath({ keys: { patientId: 'P 1' } })).toBe('/dicom-web/studies?PatientID=P+1');
    expect(qidoPath({ keys: { patientName: 'DOE^J*' } })).toBe('/dicom-web/studies?PatientName=DOE%5EJ*');
  });

  it('judges each variant against the baseline, within 10%', () => {
    const rows = [
      { variant: 'off', status: 'ok' as const, instancesPerSecond: 100, find: { p50: 1, p95: 10 }, qido: { p50: 1, p95: 20 } },
      { variant: 'on', status: 'ok' as const, instancesPerSecond: 91, find: { p50: 1, p95: 12 } },
    ];
    expect(securityVerdicts(rows).map((v) => [v.goal, v.measured, v.verdict])).toEqual([
      ['ingest rate ≥ 90% of baseline', '91%', 'PASS'],
      ['C-FIND p95 ≤ 110% of baseline', '120%', 'FAIL'],
      ['QIDO-RS p95 ≤ 110% of baseline', 'not measured', 'n/a'],
    ]);
  });
});

describe('medianOf', () => {
  it('takes each figure\'s median on its own, across rounds', () => {
    const rows = [
      { variant: 'v', status: 'ok', instancesPerSecond: 300, find: { p50: 1, p95: 9 }, qido: { p50: 2, p95: 4 } },
      { variant: 'v', status: 'ok', instancesPerSecond: 100, find: { p50: 3, p95: 5 }, qido: { p50: 1, p95: 8 } },
      { variant: 'v', status: 'ok', instancesPerSecond: 200, find: { p50: 2, p95: 7 }, qido: { p50: 3, p95: 6 } },
    ] as const;
    expect(medianOf('v', [...rows])).toEqual({ variant: 'v', status: 'ok', instancesPerSecond: 200, find: { p50: 2, p95: 7 }, qido: { p50: 2, p95: 6 } });
  });

  it('reports the failure when no round succeeded', () => {
    expect(medianOf('v', [{ variant: 'v', status: 'error', reason: 'boom' }])).toEqual({ variant: 'v', status: 'error', reason: 'boom' });
  });
});
