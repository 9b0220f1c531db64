import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DICOMWEB_GOALS, dicomwebTable, dicomwebVerdicts, ensureMetadataSeries, qidoSearches } from './dicomweb.mjs';

describe('dicomweb benchmark scenario', () => {
  it('turns the C-FIND query mix into QIDO-RS query strings', () => {
    expect(qidoSearches([
      { kind: 'PatientID', keys: { patientId: 'BENCH-SM-00001' } },
      { kind: 'PatientName prefix*', keys: { patientName: 'BENCH^SM0000*' } },
      { kind: 'StudyInstanceUID', keys: { studyUid: '2.25.1' } },
      { kind: 'AccessionNumber', keys: { accession: 'ASM0000001' } },
    ])).toEqual(['PatientID=BENCH-SM-00001', 'PatientName=BENCH%5ESM0000*', 'StudyInstanceUID=2.25.1', 'AccessionNumber=ASM0000001']);
  });

  it('writes the metadata series once, with the UIDs the requests use', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'loire-bench-dicomweb-'));
    try {
      const series = ensureMetadataSeries(out, { count: 20, rows: 16 });
      const files = fs.readdirSync(series.dir).filter((f) => f.endsWith('.dcm'));
      expect(files).toHaveLength(20);
      const first = fs.readFileSync(path.join(series.dir, files[0]!));
      expect(first.includes(Buffer.from(series.seriesUid))).toBe(true);
      expect(first.includes(Buffer.from(series.studyUid))).toBe(true);
      expect(ensureMetadataSeries(out, { count: 20, rows: 16 })).toEqual(series);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('judges the goals from the measured rows, and says n/a for what was not measured', () => {
    const rows = [
      { scenario: 'dicomweb', target: 'orthanc', case: 'ref', status: 'ok' as const, metadata: { p50: 400, p95: 450, max: 460, bytes: 2e6, requests: 30 }, qido: { p50: 5, p95: 9, max: 10, requests: 200, empty: 50 } },
      { scenario: 'dicomweb', target: 'loire', case: '1M', status: 'ok' as const, metadata: { p50: 20, p95: 30, max: 31, bytes: 2e6, requests: 30 }, qido: { p50: 2, p95: 25, max: 30, requests: 200, empty: 0 } },
    ];
    expect(dicomwebVerdicts(rows).map((v) => [v.goal, v.measured, v.verdict])).toEqual([
      [`p95 under ${DICOMWEB_GOALS.metadataMaxMs} ms`, '30.0 ms', 'PASS'],
      [`at least ${DICOMWEB_GOALS.metadataMinSpeedup}x Orthanc (median)`, '20.0x', 'PASS'],
      [`p95 under ${DICOMWEB_GOALS.qidoP95MaxMs} ms`, '25.0 ms', 'FAIL'],
    ]);
    expect(dicomwebVerdicts([{ ...rows[1]!, status: 'error', metadata: undefined, qido: undefined }]).every((v) => v.verdict === 'n/a')).toBe(true);
    expect(dicomwebTable(rows).lines[1]).toEqual(['loire', '1M', '20.0', '30.0', '2.00', '2.0', '25.0', '200 (0)', 'ok']);
  });
});
