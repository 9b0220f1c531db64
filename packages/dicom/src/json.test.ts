import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Dataset, type DataElement } from './dataset.js';
import { fromDicomJson, toDicomJson, type DicomJson } from './json.js';
import { readPart10File } from './reader/index.js';
import { Tag } from './tag.js';

const repoRoot = path.resolve(__dirname, '../../..');
const sample = (rel: string): string => path.resolve(repoRoot, '../shared/dicom-samples', rel);

describe('toDicomJson', () => {
  it('encodes PN components, IS/DS as numbers, AT as hex and empty values without Value', async () => {
    const { dataset } = await readPart10File(sample('ct-series/furuhashi-lspine-ct-20180201-sagittal3mm/CT000003'));
    dataset.setString(0x00101010, 'AS', '');
    dataset.setNumber(0x00209165, 'AT', [0x00100010, 0x7fe00010]);
    const json = toDicomJson(dataset);
    expect(json['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'FURUHASHI TAICHI', Ideographic: '古橋　大地', Phonetic: 'ﾌﾙﾊｼ ﾀｲﾁ' }] });
    expect(json['00280010']).toEqual({ vr: 'US', Value: [512] });
    expect(json['00280030']!.Value!.every((v) => typeof v === 'number')).toBe(true);
    expect(json['00101010']).toEqual({ vr: 'AS' });
    expect(json['00209165']).toEqual({ vr: 'AT', Value: ['00100010', '7FE00010'] });
    expect(json['00020010']).toBeUndefined(); // the meta header is not part of the data set
    expect(Object.keys(json).every((k) => /^[0-9A-F]{8}$/.test(k))).toBe(true);
    // Pixel data was skipped as bulk data and no URI was offered: the attribute has no value.
    expect(json['7FE00010']).toEqual({ vr: 'OW' });
  });

  it('converts only the top-level tags asked for, with the character set of the whole data set', async () => {
    const { dataset } = await readPart10File(sample('ct-series/furuhashi-lspine-ct-20180201-sagittal3mm/CT000003'));
    const only = new Set([0x00100010, 0x0020000d, 0x00400009]); // PatientName, StudyInstanceUID, and a tag it lacks
    const json = toDicomJson(dataset, { only });
    const full = toDicomJson(dataset);
    expect(json).toEqual({ '00100010': full['00100010'], '0020000D': full['0020000D'] });
    expect((json['00100010']!.Value![0] as { Ideographic: string }).Ideographic).toBe('古橋　大地');
  });

  it('inlines binary values and asks the callback for bulk data URIs with the element path', async () => {
    const { dataset } = await readPart10File(sample('modalities/seg/DicomSeg.dcm'));
    const paths: number[][] = [];
    const json = toDicomJson(dataset, {
      bulkDataUri: (el: DataElement, p: number[]) => {
        paths.push(p);
        return el.value ? undefined : `bulk/${p.map((n) => n.toString(16)).join('.')}`;
      },
    });
    expect(json['7FE00010']).toEqual({ vr: 'OB', BulkDataURI: 'bulk/7fe00010' });
    expect(paths).toContainEqual([Tag.PixelData]);
    const seq = json['00620002']!.Value![0] as DicomJson; // SegmentSequence item
    expect(seq['00620008']).toEqual({ vr: 'CS', Value: expect.any(Array) });
  });

  it('writes numbers of SV/UV exactly, as strings beyond 2^53', () => {
    const ds = new Dataset({ explicitVR: true, littleEndian: true });
    const v = new Uint8Array(16);
    new DataView(v.buffer).setBigUint64(0, 5n, true);
    new DataView(v.buffer).setBigUint64(8, 2n ** 63n + 1n, true);
    ds.setBytes(0x00101000, 'UV', v);
    expect(toDicomJson(ds)['00101000']).toEqual({ vr: 'UV', Value: [5, '9223372036854775809'] });
  });
});

describe('fromDicomJson', () => {
  it('builds a UTF-8 data set when text is not ASCII', () => {
    const json: DicomJson = {
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' }] },
      '00100020': { vr: 'LO', Value: ['ID1'] },
      '00280030': { vr: 'DS', Value: [0.5, 0.25] },
      '00200013': { vr: 'IS', Value: [7] },
      '00280010': { vr: 'US', Value: [256] },
      '00081115': { vr: 'SQ', Value: [{ '00081150': { vr: 'UI', Value: ['1.2.3'] }, '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Émile' }] } }] },
      '00091001': { vr: 'OB', InlineBinary: Buffer.from([1, 2, 3]).toString('base64') },
      '00101010': { vr: 'AS' },
    };
    const ds = fromDicomJson(json);
    expect(ds.explicitVR && ds.littleEndian).toBe(true);
    expect(ds.string(Tag.SpecificCharacterSet)).toBe('ISO_IR 192');
    expect(ds.string(Tag.PatientName)).toBe('Yamada^Tarou=山田^太郎');
    expect(ds.numbers(0x00280030)).toEqual([0.5, 0.25]);
    expect(ds.number(0x00200013)).toBe(7);
    expect(ds.get(0x00081115)!.items![0]!.string(Tag.PatientName)).toBe('Émile');
    expect([...ds.get(0x00091001)!.value!]).toEqual([1, 2, 3, 0]);
    expect(ds.get(0x00101010)!.length).toBe(0);
  });

  it('leaves ASCII data sets without a character set', () => {
    expect(fromDicomJson({ '00100020': { vr: 'LO', Value: ['A'] } }).has(Tag.SpecificCharacterSet)).toBe(false);
  });

  it('rejects attributes without a valid VR with a message naming the tag', () => {
    expect(() => fromDicomJson({ '00100020': { vr: 'XX', Value: ['A'] } })).toThrow(/\(0010,0020\)/);
  });

  it('round-trips real files through JSON', async () => {
    for (const rel of ['modalities/sr/sr_document.dcm', 'malformed/charsets/chrX1.dcm', 'modalities/rt/RT.dcm']) {
      const { dataset } = await readPart10File(sample(rel), { bulkDataThreshold: 1 << 30 });
      const json = toDicomJson(dataset);
      expect(toDicomJson(fromDicomJson(JSON.parse(JSON.stringify(json)) as DicomJson)), rel).toEqual(json);
    }
  });
});

describe('toDicomJson with UN values of known tags', () => {
  it('gives them their dictionary VR and decoded values', () => {
    const ds = new Dataset({ explicitVR: true, littleEndian: true });
    ds.set({ tag: 0x0020000d, vr: 'UN', length: 8, value: new TextEncoder().encode('1.2.3.4\0') });
    ds.set({ tag: 0x00091001, vr: 'UN', length: 2, value: new Uint8Array([1, 2]) });
    const json = toDicomJson(ds);
    expect(json['0020000D']).toEqual({ vr: 'UI', Value: ['1.2.3.4'] });
    expect(json['00091001']).toEqual({ vr: 'UN', InlineBinary: 'AQI=' });
  });
});
