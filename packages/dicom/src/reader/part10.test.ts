import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Dataset, UNDEFINED_LENGTH, type DataElement } from '../dataset.js';
import { Tag, tagHex } from '../tag.js';
import { ExplicitVRBigEndian, ImplicitVRLittleEndian } from '../uids.js';
import { encodeDataset } from '../writer.js';
import { DatasetParser, DicomParseError, Part10Parser, parsePart10, readPart10File, type Part10 } from './index.js';

const repoRoot = path.resolve(__dirname, '../../../..');
const samples = path.resolve(repoRoot, '../shared/dicom-samples');
const sample = (rel: string): string => path.join(samples, rel);

interface ManifestEntry {
  path: string; isDicom: boolean; transferSyntaxUID: string | null; sopInstanceUID: string | null;
  rows: number | null; cols: number | null; parseError: string | null;
}
const manifest = JSON.parse(readFileSync(sample('manifest.json'), 'utf8')) as ManifestEntry[];

// Files cut short or with lengths that overrun their container: pydicom reads them lazily
// and does not notice, but a declared length beyond the data is a truncation by our contract.
const KNOWN_TRUNCATED = new Set([
  'pydicom-test-files/MR_truncated.dcm',
  'pydicom-test-files/rtplan_truncated.dcm',
  'pydicom-test-files/dicomdirtests/DICOMDIR-nooffset',
]);

/** A comparable text form of a data set: tags, VRs, lengths, values, items and fragments. */
function dump(ds: Dataset, indent = ''): string[] {
  const out: string[] = [];
  for (const tag of ds.tags()) {
    const el = ds.get(tag)!;
    out.push(`${indent}${tagHex(tag)} ${el.vr} ${describeElement(el)}`);
    el.items?.forEach((item, i) => { out.push(`${indent} item ${i}`); out.push(...dump(item, indent + '  ')); });
  }
  return out;
}
function describeElement(el: DataElement): string {
  if (el.fragments) return `fragments ${el.fragments.map((f) => `${f.offset}+${f.length}`).join(',')}`;
  if (el.items) return `items ${el.items.length}`;
  return el.value ? Buffer.from(el.value).toString('hex') : `bulk ${el.position?.offset}+${el.position?.length}`;
}

describe('Part10Parser.fileMeta', () => {
  it('gives the File Meta Information as soon as its bytes are in, before the data set is', () => {
    const bytes = readFileSync(sample('ct-series/philips-head-ct-std-brain-1mm/I10'));
    const whole = parsePart10(bytes);
    const parser = new Part10Parser();
    expect(parser.fileMeta).toBeUndefined();
    for (let at = 0; at < 1024; at += 7) parser.push(bytes.subarray(at, at + 7));
    expect(parser.fileMeta?.string(Tag.MediaStorageSOPInstanceUID)).toBe(whole.dataset.string(Tag.SOPInstanceUID));
    expect(parser.fileMeta?.string(Tag.MediaStorageSOPClassUID)).toBe(whole.dataset.string(Tag.SOPClassUID));
  });
});

describe('every sample file against manifest.json', () => {
  const dicomFiles = manifest.filter((e) => e.isDicom);
  it('the manifest lists the samples', () => expect(dicomFiles.length).toBeGreaterThan(600));
  for (const entry of dicomFiles) {
    it(entry.path, async () => {
      let result;
      try {
        result = await readPart10File(sample(entry.path));
      } catch (e) {
        expect(e).toBeInstanceOf(DicomParseError);
        if (KNOWN_TRUNCATED.has(entry.path)) {
          expect((e as Error).message).toMatch(/truncated|runs past/);
          return;
        }
        expect(entry.parseError, `unexpected failure: ${(e as Error).message}`).not.toBeNull();
        return;
      }
      expect(KNOWN_TRUNCATED.has(entry.path), 'a truncated file parsed').toBe(false);
      if (entry.parseError) return; // pydicom failed: whatever we read is acceptable
      const ds = result.dataset;
      expect(ds.string(Tag.SOPInstanceUID) ?? null).toBe(entry.sopInstanceUID);
      expect(ds.number(Tag.Rows) ?? null).toBe(entry.rows);
      expect(ds.number(Tag.Columns) ?? null).toBe(entry.cols);
      if (entry.transferSyntaxUID) expect(result.transferSyntaxUid).toBe(entry.transferSyntaxUID);
    });
  }
});

describe('files that are not DICOM', () => {
  // pydicom needs force=True for this raw big-endian data set, so the manifest calls it non-DICOM.
  const RAW_DATASET = 'pydicom-test-files/ExplVR_BigEndNoMeta.dcm';
  const others = manifest.filter((e) => !e.isDicom);
  it('are rejected with DicomParseError (HTML, JPEG, CSS, text from the CD)', async () => {
    expect(others.length).toBeGreaterThan(200);
    for (const entry of others) {
      const r = await readPart10File(sample(entry.path)).catch((e: unknown) => e);
      if (entry.path === RAW_DATASET) {
        expect((r as Part10).transferSyntaxUid).toBe(ExplicitVRBigEndian);
        expect((r as Part10).dataset.string(Tag.SOPInstanceUID)).toBeTruthy();
      } else {
        expect(r, entry.path).toBeInstanceOf(DicomParseError);
      }
    }
  });
});

describe('streaming', () => {
  const files = [
    'syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.1.99.dcm', // deflated
    'syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.2.dcm', // big endian
    'syntaxes/misc/D_CLUNIE_CT1_RLE_FRAGS.dcm', // fragments
    'modalities/rt/RT.dcm', // implicit VR, deep sequences
    'pydicom-test-files/UN_sequence.dcm',
    'modalities/cr-dx/CR-MONO1-10-chest', // no meta header
  ];
  for (const rel of files) {
    it(`gives the same result whatever the chunk sizes: ${rel}`, () => {
      const bytes = readFileSync(sample(rel));
      const whole = parsePart10(bytes);
      for (const size of [1, 7, 131, 4096]) {
        const p = new Part10Parser();
        for (let o = 0; o < bytes.length; o += size) p.push(bytes.subarray(o, o + size));
        const r = p.end();
        expect(dump(r.dataset)).toEqual(dump(whole.dataset));
        expect(r.datasetOffset).toBe(whole.datasetOffset);
      }
    });
  }

  it('records pixel data positions that point into the file', async () => {
    const rel = 'syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.1.dcm';
    const { dataset } = await readPart10File(sample(rel));
    const px = dataset.get(Tag.PixelData)!;
    expect(px.value).toBeUndefined();
    const bytes = readFileSync(sample(rel));
    expect(px.position!.offset + px.position!.length).toBe(bytes.length);
    const rows = dataset.number(Tag.Rows)!;
    const cols = dataset.number(Tag.Columns)!;
    expect(px.length).toBe(rows * cols * (dataset.number(0x00280100)! / 8) * (dataset.number(0x00280002) ?? 1));
  });

  it('records the fragments of encapsulated pixel data, offset table first', async () => {
    const rel = 'syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.4.50.dcm';
    const { dataset } = await readPart10File(sample(rel));
    const px = dataset.get(Tag.PixelData)!;
    expect(px.length).toBe(UNDEFINED_LENGTH);
    expect(px.fragments!.length).toBeGreaterThanOrEqual(2);
    const bytes = readFileSync(sample(rel));
    const first = px.fragments![1]!;
    expect(bytes.subarray(first.offset, first.offset + 2).toString('hex')).toBe('ffd8'); // JPEG SOI
  });

  it('keeps values up to the bulk data threshold only', () => {
    const bytes = readFileSync(sample('modalities/rt/RT.dcm'));
    const small = parsePart10(bytes, { bulkDataThreshold: 16 });
    const uid = small.dataset.get(Tag.SOPInstanceUID)!;
    expect(uid.value).toBeUndefined();
    expect(Buffer.from(bytes.subarray(uid.position!.offset, uid.position!.offset + uid.length)).toString('latin1').replace(/\0$/, ''))
      .toBe(parsePart10(bytes).dataset.string(Tag.SOPInstanceUID));
  });

  it('positions of a deflated data set are offsets in the inflated stream', () => {
    const bytes = readFileSync(sample('syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.1.99.dcm'));
    const r = parsePart10(bytes, { bulkDataThreshold: 0 });
    const px = r.dataset.get(Tag.PixelData)!;
    expect(px.position!.offset + px.position!.length).toBeGreaterThan(bytes.length); // it inflated
  });
});

describe('hardening', () => {
  it('stops the deeply nested file at the depth limit without recursion', async () => {
    const err = await readPart10File(sample('malformed/2026-05-06-Deeply-Nested-Sequence.dcm')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DicomParseError);
    expect((err as Error).message).toMatch(/nested deeper than the limit of 64/);
  });

  it('walks the deeply nested file with no depth limit on the heap, not the call stack', async () => {
    const r = await readPart10File(sample('malformed/2026-05-06-Deeply-Nested-Sequence.dcm'), { maxDepth: 1e9 })
      .catch((e: unknown) => e);
    if (r instanceof Error) expect(r).toBeInstanceOf(DicomParseError);
    else expect(r).toHaveProperty('dataset');
  });

  it('reports truncation at end() with the offset', () => {
    const bytes = readFileSync(sample('syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.1.dcm'));
    const cut = bytes.subarray(0, bytes.length - 100);
    const err = (() => { try { parsePart10(cut); return undefined; } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(DicomParseError);
    expect((err as DicomParseError).offset).toBe(cut.length);
  });

  it('rejects an element that overruns its item', () => {
    const item = Buffer.from('feff00e00a000000' + '10001000' + '5000' /* implicit: length 0x0050 */ + '0000', 'hex');
    const seq = Buffer.concat([Buffer.from('08001511ffffffff', 'hex'), item, Buffer.from('feffdde000000000', 'hex')]);
    const p = new DatasetParser({ transferSyntaxUid: ImplicitVRLittleEndian });
    expect(() => { p.push(seq); p.end(); }).toThrow(DicomParseError);
  });

  it('never allocates from a declared length: a 4 GB declared value only waits for bytes', () => {
    const p = new DatasetParser({ transferSyntaxUid: ImplicitVRLittleEndian });
    p.push(Buffer.from('10001000feffff7f', 'hex')); // PatientName, 2 GB
    p.push(Buffer.from('Doe'));
    expect(() => p.end()).toThrow(/truncated/);
  });
});

describe('syntaxes', () => {
  function roundTrip(ds: Dataset, uid: string): Dataset {
    const p = new DatasetParser({ transferSyntaxUid: uid });
    p.push(encodeDataset(ds, { transferSyntaxUid: uid }));
    return p.end();
  }

  it('resolves US or SS by Pixel Representation in implicit VR', () => {
    const ds = new Dataset({ explicitVR: true, littleEndian: true });
    ds.setNumber(Tag.PixelRepresentation, 'US', 1);
    ds.setNumber(0x00280106, 'SS', -5); // SmallestImagePixelValue (US or SS)
    const back = roundTrip(ds, ImplicitVRLittleEndian);
    expect(back.get(0x00280106)!.vr).toBe('SS');
    expect(back.number(0x00280106)).toBe(-5);
    ds.setNumber(Tag.PixelRepresentation, 'US', 0);
    ds.setNumber(0x00280106, 'US', 65531);
    expect(roundTrip(ds, ImplicitVRLittleEndian).get(0x00280106)!.vr).toBe('US');
  });

  it('reads pixel data as OW and unknown private tags as UN in implicit VR', () => {
    const ds = new Dataset({ explicitVR: true, littleEndian: true });
    ds.setBytes(Tag.PixelData, 'OB', new Uint8Array([1, 2, 3, 4]));
    ds.setBytes(0x00091001, 'LO', Buffer.from('AB'));
    const back = new DatasetParser({ transferSyntaxUid: ImplicitVRLittleEndian, bulkDataThreshold: 1 });
    back.push(encodeDataset(ds, { transferSyntaxUid: ImplicitVRLittleEndian }));
    const r = back.end();
    expect(r.get(Tag.PixelData)!.vr).toBe('OW');
    expect(r.get(0x00091001)!.vr).toBe('UN');
  });

  it('parses an undefined-length UN element as an implicit VR sequence', async () => {
    const { dataset } = await readPart10File(sample('pydicom-test-files/UN_sequence.dcm'));
    const sequences = dataset.tags().map((t) => dataset.get(t)!).filter((el) => el.items);
    expect(sequences.length).toBeGreaterThan(0);
    expect(sequences[0]!.vr).toBe('SQ');
    expect(sequences[0]!.items!.length).toBeGreaterThan(0);
  });

  it('detects the syntax of files without meta header, big endian included', () => {
    const ds = new Dataset({ explicitVR: true, littleEndian: true });
    ds.setString(Tag.SOPInstanceUID, 'UI', '1.2.3');
    ds.setNumber(Tag.Rows, 'US', 512);
    for (const uid of [ImplicitVRLittleEndian, '1.2.840.10008.1.2.1', ExplicitVRBigEndian]) {
      const r = parsePart10(encodeDataset(ds, { transferSyntaxUid: uid }));
      expect(r.meta).toBeUndefined();
      expect(r.transferSyntaxUid).toBe(uid);
      expect(r.dataset.number(Tag.Rows)).toBe(512);
      expect(r.dataset.string(Tag.SOPInstanceUID)).toBe('1.2.3');
    }
  });

  it('reads a meta header without transfer syntax by detecting the data set syntax', async () => {
    const r = await readPart10File(sample('pydicom-test-files/meta_missing_tsyntax.dcm'));
    expect(r.meta).toBeDefined();
    expect(r.meta!.has(Tag.TransferSyntaxUID)).toBe(false);
    expect(r.dataset.tags().length).toBeGreaterThan(0);
  });

  it('counts offsets from startOffset', () => {
    const ds = new Dataset({ explicitVR: true, littleEndian: true });
    ds.setString(Tag.PatientID, 'LO', 'X1');
    const p = new DatasetParser({ transferSyntaxUid: '1.2.840.10008.1.2.1', startOffset: 1000 });
    p.push(encodeDataset(ds, { transferSyntaxUid: '1.2.840.10008.1.2.1' }));
    expect(p.end().get(Tag.PatientID)!.position).toEqual({ offset: 1008, length: 2 });
  });
});
