import { readFileSync } from 'node:fs';
import { ExplicitVRLittleEndian, fromDicomJson, parsePart10, toDicomJson, writePart10, type DicomJson } from '@loire/dicom';
import { describe, expect, it } from 'vitest';
import { samplePath } from '../testing/samples.js';
import { isMeasurementReport, measurementReportContent, readMeasurementReport, type MeasurementInput } from './measurement-report.js';

const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';

function roundTrip(json: DicomJson): DicomJson {
  return toDicomJson(parsePart10(writePart10(fromDicomJson(json), { transferSyntaxUid: ExplicitVRLittleEndian })).dataset);
}

describe('TID 1500 measurement reports', () => {
  it('reads back what it writes, through the Part 10 encoding', () => {
    const measurements: (MeasurementInput & { image: { sopClassUid: string; sopInstanceUid: string; frame?: number } })[] = [
      { trackingUid: '2.25.1', label: 'A', kind: 'length', image: { sopClassUid: CT_IMAGE, sopInstanceUid: '1.2.3' }, points: [[1, 2], [3, 4]], values: { length: 2.8284 }, pixelUnit: 'none' },
      { trackingUid: '2.25.2', label: 'B', kind: 'angle', image: { sopClassUid: CT_IMAGE, sopInstanceUid: '1.2.4', frame: 3 }, points: [[0, 0], [10, 0], [10, 10]], values: { angle: 90 }, pixelUnit: 'none' },
      { trackingUid: '2.25.3', label: 'C', kind: 'rectangle', image: { sopClassUid: CT_IMAGE, sopInstanceUid: '1.2.3' }, points: [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], values: { area: 16, mean: -3.5, stdDev: 1.25 }, pixelUnit: 'HU' },
    ];
    const document = roundTrip({ '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.88.33'] }, '00080018': { vr: 'UI', Value: ['2.25.99'] }, ...measurementReportContent(measurements, 'Dr Ève Noël') });
    expect(isMeasurementReport(document)).toBe(true);
    const read = readMeasurementReport(document);
    expect(read.map(({ quantities: _q, ...m }) => m)).toEqual(measurements);
    expect(read[2]!.quantities).toEqual([
      { name: 'Area', value: 16, unit: 'mm2' }, { name: 'Mean', value: -3.5, unit: "[hnsf'U]" }, { name: 'Standard Deviation', value: 1.25, unit: "[hnsf'U]" },
    ]);
  });

  it('reads a report another program wrote (highdicom, Comprehensive 3D SR, regions at group level)', () => {
    const document = toDicomJson(parsePart10(readFileSync(samplePath('modalities/sr/sr_document_with_multiple_groups.dcm'))).dataset);
    expect(isMeasurementReport(document)).toBe(true);
    const read = readMeasurementReport(document);
    expect(read.map((m) => [m.label, m.kind, m.quantities.map((q) => `${q.name} ${q.value} ${q.unit}`)])).toEqual([
      ['Image0001', 'other', ["Intensity Histogram Mean -119.07385253906 [hnsf'U]"]],
      ['LungNodule0001', 'other', ['Diameter 10 mm']],
      ['Aorta0001', 'other', ['Diameter 20 mm']],
      ['Vertebra0001', 'other', ['Volume 200 mm3']],
    ]);
    expect(read[0]!.pixelUnit).toBe('HU');
    expect(read[0]!.image?.sopInstanceUid).toMatch(/^[\d.]+$/);
    expect(read[1]!.points).toHaveLength(2); // CIRCLE: centre and a point on the circle
    expect(read[3]!.points).toBeUndefined(); // SCOORD3D: patient coordinates, not image ones
  });
});
