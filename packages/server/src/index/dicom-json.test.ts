import { describe, expect, it } from 'vitest';
import { withoutBulkData, type DicomJson } from './dicom-json.js';

describe('withoutBulkData', () => {
  const largeBinary = 'A'.repeat(2000);
  const plainItem: DicomJson = { '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] } };
  const itemWithIcon: DicomJson = { '00280010': { vr: 'US', Value: [64] }, '7FE00010': { vr: 'OW', BulkDataURI: 'bytes=10-20' } };
  const source = (): DicomJson => ({
    '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] },
    '00081140': { vr: 'SQ', Value: [plainItem] },
    '00880200': { vr: 'SQ', Value: [itemWithIcon, plainItem] },
    '00282000': { vr: 'OB', InlineBinary: largeBinary },
    '00291010': { vr: 'OB', InlineBinary: 'AAEC' },
    '7FE00010': { vr: 'OW', BulkDataURI: 'bytes=100-8291' },
  });

  it('keeps the VR of pixel data and large binaries and drops their values, at any depth', () => {
    expect(withoutBulkData(source())).toEqual({
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] },
      '00081140': { vr: 'SQ', Value: [plainItem] },
      '00880200': { vr: 'SQ', Value: [{ '00280010': { vr: 'US', Value: [64] }, '7FE00010': { vr: 'OW' } }, plainItem] },
      '00282000': { vr: 'OB' },
      '00291010': { vr: 'OB', InlineBinary: 'AAEC' },
      '7FE00010': { vr: 'OW' },
    });
  });

  it('leaves its input as it was and keeps the order of the attributes', () => {
    const json = source();
    const stripped = withoutBulkData(json);
    expect(json).toEqual(source());
    expect(Object.keys(stripped)).toEqual(Object.keys(json));
  });

  it('shares what holds no bulk data instead of copying it', () => {
    const json = source();
    const stripped = withoutBulkData(json);
    expect(stripped).not.toBe(json);
    expect(stripped['00081140']).toBe(json['00081140']);
    expect((stripped['00880200']!.Value as DicomJson[])[1]).toBe(plainItem);
    const noBulk: DicomJson = { '00100020': { vr: 'LO', Value: ['P1'] }, '00081140': { vr: 'SQ', Value: [plainItem] } };
    expect(withoutBulkData(noBulk)).toBe(noBulk);
  });

  it('does not copy a document whose pixel data is already only its VR', () => {
    const bare: DicomJson = { '00100020': { vr: 'LO', Value: ['P1'] }, '7FE00010': { vr: 'OW' } };
    expect(withoutBulkData(bare)).toBe(bare);
    const inline: DicomJson = { '00100020': { vr: 'LO', Value: ['P1'] }, '7FE00010': { vr: 'OW', InlineBinary: 'AAAA' } };
    expect(withoutBulkData(inline)['7FE00010']).toEqual({ vr: 'OW' });
  });
});
