import { describe, expect, it } from 'vitest';
import type { DicomJsonDataset } from '../dicom-json';
import { srLines } from './sr-text';

const code = (value: string, meaning: string) => ({ vr: 'SQ', Value: [{ '00080100': { vr: 'SH', Value: [value] }, '00080102': { vr: 'SH', Value: ['DCM'] }, '00080104': { vr: 'LO', Value: [meaning] } }] });

describe('srLines', () => {
  it('writes the content tree as nested "concept: value" lines', () => {
    const report: DicomJsonDataset = {
      '0040A040': { vr: 'CS', Value: ['CONTAINER'] }, '0040A043': code('126000', 'Imaging Measurement Report'),
      '0040A730': { vr: 'SQ', Value: [
        { '0040A010': { vr: 'CS', Value: ['HAS OBS CONTEXT'] }, '0040A040': { vr: 'CS', Value: ['PNAME'] }, '0040A043': code('121008', 'Person Observer Name'), '0040A123': { vr: 'PN', Value: [{ Alphabetic: 'Noël^Ève' }] } },
        { '0040A010': { vr: 'CS', Value: ['CONTAINS'] }, '0040A040': { vr: 'CS', Value: ['CONTAINER'] }, '0040A043': code('125007', 'Measurement Group'),
          '0040A730': { vr: 'SQ', Value: [
            { '0040A010': { vr: 'CS', Value: ['CONTAINS'] }, '0040A040': { vr: 'CS', Value: ['NUM'] }, '0040A043': code('410668003', 'Length'),
              '0040A300': { vr: 'SQ', Value: [{ '0040A30A': { vr: 'DS', Value: [39.06] }, '004008EA': code('mm', 'millimeter') }] } },
            { '0040A010': { vr: 'CS', Value: ['CONTAINS'] }, '0040A040': { vr: 'CS', Value: ['TEXT'] }, '0040A043': code('121071', 'Finding'), '0040A160': { vr: 'UT', Value: ['Ventricles normal'] } },
          ] } },
      ] },
    } as DicomJsonDataset;
    expect(srLines(report).map((l) => `${'  '.repeat(l.depth)}${l.concept}${l.value ? `: ${l.value}` : ''}`)).toEqual([
      'Imaging Measurement Report',
      '  Person Observer Name: Noël Ève',
      '  Measurement Group',
      '    Length: 39.06 mm',
      '    Finding: Ventricles normal',
    ]);
  });
});
