import { readFileSync } from 'node:fs';
import { ExplicitVRLittleEndian, fromDicomJson, parsePart10, toDicomJson, writePart10, type DicomJson } from '@loire/dicom';
import { describe, expect, it } from 'vitest';
import { samplePath } from '../testing/samples.js';
import {
  isMeasurementReport, measurementGroupOf, measurementReportContent, readMeasurementReport, withObserver, type MeasurementInput,
} from './measurement-report.js';

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
    expect(read.map(({ quantities: _q, ...m }) => m)).toEqual(measurements.map((m, i) => ({ group: i + 1, ...m })));
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

  it('copies the groups it keeps as they were written, each under the observer of the report it comes from', () => {
    const other = toDicomJson(parsePart10(readFileSync(samplePath('modalities/sr/sr_document_with_multiple_groups.dcm'))).dataset);
    const before = readMeasurementReport(other);
    const kept = before.map((m) => withObserver(measurementGroupOf(other, m.group)!, 'Doe^John'));
    const added: MeasurementInput & { image: { sopClassUid: string; sopInstanceUid: string } } = {
      trackingUid: '2.25.5', label: 'New', kind: 'length', image: { sopClassUid: CT_IMAGE, sopInstanceUid: '1.2.3' }, points: [[1, 1], [1, 9]], values: { length: 8 }, pixelUnit: 'none',
    };
    const document = roundTrip({ '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.88.34'] }, '00080018': { vr: 'UI', Value: ['2.25.98'] }, ...measurementReportContent([added], 'Dr Reader', kept) });
    const read = readMeasurementReport(document);
    expect(read).toHaveLength(before.length + 1);
    // Kept first, in order, their values and regions unchanged, now with their own observer.
    expect(read.slice(0, -1)).toEqual(before.map((m) => ({ ...m, author: 'Doe^John' })));
    expect(read.at(-1)).toMatchObject({ group: before.length + 1, trackingUid: '2.25.5', kind: 'length', values: { length: 8 } });
    expect(read.at(-1)!.author).toBeUndefined();
    // Their images join the report's image library.
    const library = JSON.stringify(document);
    for (const m of before) if (m.image) expect(library.split(m.image.sopInstanceUid).length).toBeGreaterThan(2);
    // A group that names its observer keeps it; a position past the end names nothing.
    expect(readMeasurementReport({ ...document, ...measurementReportContent([], 'Someone else', [withObserver(measurementGroupOf(document, 1)!, 'Another')]) })[0]!.author).toBe('Doe^John');
    expect(measurementGroupOf(document, before.length + 2)).toBeUndefined();
  });
});
