import { describe, expect, it } from 'vitest';
import { Dataset, formatDecimalString } from './dataset.js';
import { Tag } from './tag.js';

const le = { explicitVR: true, littleEndian: true };

describe('Dataset', () => {
  it('lists tags in ascending order whatever the insertion order', () => {
    const ds = new Dataset(le);
    ds.setString(0x00200013, 'IS', '1');
    ds.setString(0x00080060, 'CS', 'CT');
    ds.setString(0x00100010, 'PN', 'A');
    expect(ds.tags()).toEqual([0x00080060, 0x00100010, 0x00200013]);
    ds.delete(0x00100010);
    expect(ds.tags()).toEqual([0x00080060, 0x00200013]);
    expect(ds.has(0x00100010)).toBe(false);
  });

  it('splits multi-valued text but not LT/ST/UT/UR, and trims padding', () => {
    const ds = new Dataset(le);
    ds.setBytes(0x00080008, 'CS', Buffer.from(' ORIGINAL\\PRIMARY '));
    ds.setBytes(0x00081030, 'LT', Buffer.from('  a\\b  '));
    ds.setBytes(Tag.SOPInstanceUID, 'UI', Buffer.from('1.2.3\0'));
    expect(ds.strings(0x00080008)).toEqual(['ORIGINAL', 'PRIMARY']);
    expect(ds.strings(0x00081030)).toEqual(['  a\\b']);
    expect(ds.string(Tag.SOPInstanceUID)).toBe('1.2.3');
    expect(ds.string(0x00100010)).toBeUndefined();
  });

  it('reads numbers in the data set byte order, IS/DS from text, AT as tags', () => {
    const be = new Dataset({ explicitVR: true, littleEndian: false });
    be.setBytes(Tag.Rows, 'US', new Uint8Array([0x02, 0x00]));
    expect(be.number(Tag.Rows)).toBe(512);
    const ds = new Dataset(le);
    ds.setBytes(0x00280030, 'DS', Buffer.from('0.5\\1e-3 '));
    ds.setBytes(0x00200013, 'IS', Buffer.from('x '));
    ds.setBytes(0x00209165, 'AT', new Uint8Array([0x10, 0x00, 0x20, 0x00]));
    expect(ds.numbers(0x00280030)).toEqual([0.5, 0.001]);
    expect(ds.number(0x00200013)).toBeUndefined();
    expect(ds.numbers(0x00200013)).toEqual([NaN]);
    expect(ds.number(0x00209165)).toBe(0x00100020);
  });

  it('reads UN values of known tags with the dictionary VR', () => {
    const ds = new Dataset(le);
    ds.setBytes(Tag.Rows, 'UN', new Uint8Array([0x00, 0x02]));
    ds.setBytes(Tag.PatientID, 'UN', Buffer.from('ID7 '));
    expect(ds.number(Tag.Rows)).toBe(512);
    expect(ds.string(Tag.PatientID)).toBe('ID7');
  });

  it('lets sequence items inherit the Specific Character Set', () => {
    const ds = new Dataset(le);
    ds.setString(Tag.SpecificCharacterSet, 'CS', 'ISO_IR 100');
    const item = ds.createItem();
    item.setBytes(Tag.PatientName, 'PN', new Uint8Array([0xc9, 0x6d, 0x69, 0x6c, 0x65]));
    expect(item.string(Tag.PatientName)).toBe('Émile');
  });

  it('formats Decimal Strings in at most 16 characters', () => {
    for (const v of [1 / 3, -1 / 3, 123456789.123456789, 1e-20, -1.5e300, 0.5]) {
      const s = formatDecimalString(v);
      expect(s.length).toBeLessThanOrEqual(16);
      expect(Number(s)).toBeCloseTo(v, 5);
    }
  });
});
