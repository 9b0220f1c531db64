import { Part10Parser, toDicomJson } from '@loire/dicom';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withoutBulkData, type DicomJson } from '../index/dicom-json.js';
import { samplePath, storableSamples } from '../testing/samples.js';
import { metadataWithBulkDataUris, withBulkDataUris, type TagPath } from './metadata-json.js';

const uriOf = (path: TagPath): string => `http://h/bulkdata/${path.join('/')}`;

describe('metadataWithBulkDataUris', () => {
  it('replaces every binary value, byte range and marker with a BulkDataURI naming its tag path', () => {
    const stored: DicomJson = {
      '00080016': { vr: 'UI', Value: ['1.2'] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^J "quoted" \\ back}slash{' }] },
      '00282000': { vr: 'OB', InlineBinary: 'AAEC' },
      '00540016': { vr: 'SQ', Value: [
        { '00181071': { vr: 'DS', Value: [1.5] } },
        { '00280004': { vr: 'OW' }, '00081199': { vr: 'SQ', Value: [{ '00420011': { vr: 'OB', BulkDataURI: 'bytes=10-20' } }] } },
      ] },
      '00660023': { vr: 'OF' },
      '00700001': { vr: 'SQ', Value: [] },
      '00189999': { vr: 'UT', BulkDataURI: 'bytes=100-90000' },
      '7FE00010': { vr: 'OW' },
    };
    const text = metadataWithBulkDataUris(JSON.stringify(stored), uriOf);
    expect(JSON.parse(text)).toEqual({
      '00080016': { vr: 'UI', Value: ['1.2'] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^J "quoted" \\ back}slash{' }] },
      '00282000': { vr: 'OB', BulkDataURI: 'http://h/bulkdata/00282000' },
      '00540016': { vr: 'SQ', Value: [
        { '00181071': { vr: 'DS', Value: [1.5] } },
        { '00280004': { vr: 'OW', BulkDataURI: 'http://h/bulkdata/00540016/1/00280004' },
          '00081199': { vr: 'SQ', Value: [{ '00420011': { vr: 'OB', BulkDataURI: 'http://h/bulkdata/00540016/1/00081199/0/00420011' } }] } },
      ] },
      '00660023': { vr: 'OF', BulkDataURI: 'http://h/bulkdata/00660023' },
      '00700001': { vr: 'SQ', Value: [] },
      '00189999': { vr: 'UT', BulkDataURI: 'http://h/bulkdata/00189999' },
      '7FE00010': { vr: 'OW', BulkDataURI: 'http://h/bulkdata/7FE00010' },
    });
  });

  it('falls back to parsing for JSON it does not recognise, with the same result', () => {
    const stored: DicomJson = { '00080016': { vr: 'UI', Value: ['1.2'] }, '7FE00010': { vr: 'OB' } };
    const spaced = JSON.stringify(stored, null, 2);
    expect(JSON.parse(metadataWithBulkDataUris(spaced, uriOf))).toEqual(withBulkDataUris(stored, uriOf));
  });

  it('gives the same result as the parsed rewrite for every storable sample, as the index stores it', () => {
    let checked = 0;
    for (const sample of storableSamples()) {
      const parser = new Part10Parser();
      try {
        parser.push(readFileSync(samplePath(sample)));
      } catch {
        continue; // files the archive refuses are not in the index
      }
      let json: DicomJson;
      try {
        json = toDicomJson(parser.end().dataset) as DicomJson;
      } catch {
        continue;
      }
      const stored = withoutBulkData(json);
      const text = JSON.stringify(stored); // as the index keeps it (JSON has no -0)
      expect(JSON.parse(metadataWithBulkDataUris(text, uriOf)), sample.path).toEqual(withBulkDataUris(JSON.parse(text) as DicomJson, uriOf));
      checked++;
    }
    expect(checked).toBeGreaterThan(500);
  });
});
