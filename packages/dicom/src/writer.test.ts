import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Dataset, type ByteRange } from './dataset.js';
import { DatasetParser, parsePart10, type Part10 } from './reader/index.js';
import { Tag, tagHex } from './tag.js';
import { ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian, transferSyntax } from './uids.js';
import { createFileMeta, encodeDataset, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, writePart10 } from './writer.js';

const repoRoot = path.resolve(__dirname, '../../..');
const sample = (rel: string): string => path.resolve(repoRoot, '../shared/dicom-samples', rel);

const FILES = [
  'ct-series/furuhashi-lspine-ct-20180201-sagittal3mm/CT000003', // explicit LE, ISO 2022 Japanese
  'syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.dcm', // implicit VR
  'syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.2.dcm', // big endian
  'syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.1.99.dcm', // deflated
  'syntaxes/misc/LenaTwiceWithFragments.dcm', // encapsulated, several fragments
  'syntaxes/misc/D_CLUNIE_CT1_RLE_FRAGS.dcm',
  'modalities/rt/RT.dcm', // implicit VR, nested sequences
  'modalities/sr/sr_document.dcm', // deep SR tree
  'modalities/seg/DicomSeg.dcm', // functional groups
  'pydicom-test-files/UN_sequence.dcm',
  'modalities/enhanced-mr/MOVEKNEE.dcm',
  'malformed/charsets/chrSQEncoding1.dcm',
  'modalities/vl-visible-light/JPEGwithIcon.dcm', // encapsulated pixel data inside a sequence item
  'modalities/us/GH364.dcm', // a stray item without its sequence: skipped on read
];

/** Reads bulk values back from the file (or, for a deflated file, from its inflated data set). */
function bulkReader(bytes: Uint8Array, r: Part10): (range: ByteRange) => Uint8Array {
  if (transferSyntax(r.transferSyntaxUid)?.deflated) {
    const inflated = zlib.inflateRawSync(bytes.subarray(r.datasetOffset));
    return (range) => inflated.subarray(range.offset - r.datasetOffset, range.offset - r.datasetOffset + range.length);
  }
  return (range) => bytes.subarray(range.offset, range.offset + range.length);
}

/** Every element's VR and value (bulk values read back and hashed), independent of positions. */
function contents(ds: Dataset, read: (r: ByteRange) => Uint8Array, indent = ''): string[] {
  const out: string[] = [];
  for (const tag of ds.tags()) {
    if ((tag & 0xffff) === 0) continue; // group lengths are not written
    const el = ds.get(tag)!;
    let v: string;
    if (el.items) v = `${el.items.length} items`;
    else if (el.fragments) v = el.fragments.map((f) => hash(read(f))).join(',');
    else v = hash(el.value ?? (el.position ? read(el.position) : new Uint8Array(0)));
    out.push(`${indent}${tagHex(tag)} ${el.vr} ${v}`);
    el.items?.forEach((item) => out.push(...contents(item, read, indent + ' ')));
  }
  return out;
}
function hash(b: Uint8Array): string {
  const padded = b.length % 2 ? Buffer.concat([b, Buffer.from([0])]) : b; // the writer pads odd values
  return createHash('sha1').update(padded).digest('hex').slice(0, 12);
}

describe('round trip: parse → write → parse', () => {
  for (const rel of FILES) {
    it(rel, () => {
      const bytes = readFileSync(sample(rel));
      const first = parsePart10(bytes);
      const read1 = bulkReader(bytes, first);
      const written = writePart10(first.dataset, {
        transferSyntaxUid: first.transferSyntaxUid, readBulk: read1,
        // a few test files lack SOP UIDs in the data set
        sopClassUid: first.dataset.string(Tag.SOPClassUID) ?? '1.2.840.10008.5.1.4.1.1.7',
        sopInstanceUid: first.dataset.string(Tag.SOPInstanceUID) ?? '2.25.1',
      });
      const second = parsePart10(written);
      expect(second.transferSyntaxUid).toBe(first.transferSyntaxUid);
      expect(second.meta!.string(Tag.MediaStorageSOPInstanceUID)).toBe(first.dataset.string(Tag.SOPInstanceUID) ?? '2.25.1');
      expect(contents(second.dataset, bulkReader(written, second))).toEqual(contents(first.dataset, read1));
    });
  }
});

describe('conversion between native syntaxes', () => {
  it('explicit LE → big endian → explicit LE keeps every value byte', () => {
    const bytes = readFileSync(sample('modalities/seg/DicomSeg.dcm'));
    const src = parsePart10(bytes);
    const read = bulkReader(bytes, src);
    const be = encodeDataset(src.dataset, { transferSyntaxUid: ExplicitVRBigEndian, readBulk: read });
    const p = new DatasetParser({ transferSyntaxUid: ExplicitVRBigEndian });
    p.push(be);
    const beDs = p.end();
    expect(beDs.number(Tag.Rows)).toBe(src.dataset.number(Tag.Rows));
    expect(beDs.numbers(0x00280030)).toEqual(src.dataset.numbers(0x00280030));
    const beRead = (r: ByteRange): Uint8Array => be.subarray(r.offset, r.offset + r.length);
    const back = encodeDataset(beDs, { transferSyntaxUid: ExplicitVRLittleEndian, readBulk: beRead });
    const q = new DatasetParser({ transferSyntaxUid: ExplicitVRLittleEndian });
    q.push(back);
    const backRead = (r: ByteRange): Uint8Array => back.subarray(r.offset, r.offset + r.length);
    expect(contents(q.end(), backRead)).toEqual(contents(src.dataset, read));
  });

  it('explicit → implicit VR keeps values and numbers', () => {
    const bytes = readFileSync(sample('modalities/rt/CT01.dcm'));
    const src = parsePart10(bytes);
    const read = bulkReader(bytes, src);
    const implicit = encodeDataset(src.dataset, { transferSyntaxUid: ImplicitVRLittleEndian, readBulk: read });
    const p = new DatasetParser({ transferSyntaxUid: ImplicitVRLittleEndian });
    p.push(implicit);
    const ds = p.end();
    for (const tag of src.dataset.tags()) {
      const el = src.dataset.get(tag)!;
      if (el.items || !el.value || (tag & 0xffff) === 0) continue;
      expect(Buffer.from(ds.get(tag)!.value!).equals(Buffer.from(el.value.length % 2 ? Buffer.concat([el.value, Buffer.from([0x20])]) : el.value)), tagHex(tag)).toBe(true);
      if ((tag >>> 16) % 2 === 1) expect(ds.get(tag)!.vr).toMatch(/^(UN|LO)$/); // private: unknown in implicit VR
      else expect(ds.strings(tag), tagHex(tag)).toEqual(src.dataset.strings(tag));
    }
  });
});

describe('createFileMeta', () => {
  it('writes the preamble, DICM and a group length that covers group 0002', () => {
    const meta = createFileMeta({ sopClassUid: '1.2.840.10008.5.1.4.1.1.7', sopInstanceUid: '1.2.3.4', transferSyntaxUid: ExplicitVRLittleEndian, sourceAeTitle: 'LOIRE' });
    expect(Buffer.from(meta.subarray(128, 132)).toString()).toBe('DICM');
    const r = parsePart10(meta);
    expect(r.meta!.number(Tag.FileMetaInformationGroupLength)).toBe(meta.length - 132 - 12);
    expect(r.meta!.string(Tag.ImplementationClassUID)).toBe(IMPLEMENTATION_CLASS_UID);
    expect(r.meta!.string(Tag.ImplementationVersionName)).toBe(IMPLEMENTATION_VERSION_NAME);
    expect(r.meta!.string(Tag.SourceApplicationEntityTitle)).toBe('LOIRE');
    expect(r.meta!.string(Tag.MediaStorageSOPInstanceUID)).toBe('1.2.3.4');
    expect(r.dataset.tags()).toEqual([]);
    expect(IMPLEMENTATION_CLASS_UID).toMatch(/^2\.25\.[1-9]\d*$/);
    expect(IMPLEMENTATION_CLASS_UID.length).toBeLessThanOrEqual(64);
  });
});

describe('createFileMeta, written directly', () => {
  it('gives the same bytes as the generic writer would', () => {
    for (const sourceAeTitle of [undefined, 'LOIRE', 'ODD_AE']) {
      const opts = { sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: '1.2.3.45', transferSyntaxUid: '1.2.840.10008.1.2.4.70', ...(sourceAeTitle ? { sourceAeTitle } : {}) };
      const meta = new Dataset({ explicitVR: true, littleEndian: true });
      meta.setBytes(Tag.FileMetaInformationVersion, 'OB', new Uint8Array([0, 1]));
      meta.setString(Tag.MediaStorageSOPClassUID, 'UI', opts.sopClassUid);
      meta.setString(Tag.MediaStorageSOPInstanceUID, 'UI', opts.sopInstanceUid);
      meta.setString(Tag.TransferSyntaxUID, 'UI', opts.transferSyntaxUid);
      meta.setString(Tag.ImplementationClassUID, 'UI', IMPLEMENTATION_CLASS_UID);
      meta.setString(Tag.ImplementationVersionName, 'SH', IMPLEMENTATION_VERSION_NAME);
      if (sourceAeTitle) meta.setString(Tag.SourceApplicationEntityTitle, 'AE', sourceAeTitle);
      const body = encodeDataset(meta, { transferSyntaxUid: ExplicitVRLittleEndian });
      const group = new Dataset({ explicitVR: true, littleEndian: true });
      group.setNumber(Tag.FileMetaInformationGroupLength, 'UL', body.length);
      const expected = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), encodeDataset(group, { transferSyntaxUid: ExplicitVRLittleEndian }), body]);
      expect(Buffer.from(createFileMeta(opts)).equals(expected)).toBe(true);
    }
  });
});

describe('values built from JavaScript', () => {
  it('setString, setNumber and sequences survive every native syntax', () => {
    const ds = new Dataset({ explicitVR: true, littleEndian: true });
    ds.setString(Tag.SpecificCharacterSet, 'CS', 'ISO_IR 192');
    ds.setString(Tag.PatientName, 'PN', 'Müller^Jürgen=山田^太郎');
    ds.setString(0x00080008, 'CS', ['ORIGINAL', 'PRIMARY']);
    ds.setNumber(0x00280030, 'DS', [0.48828125, 1 / 3]);
    ds.setNumber(0x00200013, 'IS', 42);
    ds.setNumber(Tag.Rows, 'US', 512);
    ds.setNumber(0x00189087, 'FD', 2.5);
    ds.setNumber(0x00209165, 'AT', [0x00100010]);
    const item = ds.createItem();
    item.setString(Tag.PatientName, 'PN', 'Ærø');
    ds.setItems(0x00081115, [item]);
    for (const uid of [ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian, '1.2.840.10008.1.2.1.99']) {
      const p = new DatasetParser({ transferSyntaxUid: uid });
      p.push(encodeDataset(ds, { transferSyntaxUid: uid }));
      const r = p.end();
      expect(r.string(Tag.PatientName)).toBe('Müller^Jürgen=山田^太郎');
      expect(r.strings(0x00080008)).toEqual(['ORIGINAL', 'PRIMARY']);
      expect(r.numbers(0x00280030)[0]).toBe(0.48828125);
      expect(r.numbers(0x00280030)[1]).toBeCloseTo(1 / 3, 12);
      expect(r.strings(0x00280030)[1]!.length).toBeLessThanOrEqual(16);
      expect(r.number(0x00200013)).toBe(42);
      expect(r.number(Tag.Rows)).toBe(512);
      expect(r.number(0x00189087)).toBe(2.5);
      expect(r.number(0x00209165)).toBe(0x00100010);
      expect(r.get(0x00081115)!.items![0]!.string(Tag.PatientName)).toBe('Ærø'); // charset inherited
    }
  });

  it('pads odd values with the VR padding byte', () => {
    const ds = new Dataset({ explicitVR: true, littleEndian: true });
    ds.setString(Tag.SOPInstanceUID, 'UI', '1.2.3');
    ds.setString(Tag.PatientID, 'LO', 'ABC');
    expect(Buffer.from(ds.get(Tag.SOPInstanceUID)!.value!).toString('hex')).toBe('312e322e3300');
    expect(Buffer.from(ds.get(Tag.PatientID)!.value!).toString('latin1')).toBe('ABC ');
  });
});
