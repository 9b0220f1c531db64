import { describe, expect, it } from 'vitest';
import { isGroupLength, isPrivateCreator, isPrivateTag, makeTag, parseTag, tagElement, tagGroup, tagHex, tagString } from './tag.js';
import { hasLongExplicitLength, isVR, paddingByte } from './vr.js';

describe('tags', () => {
  it('formats and parses the usual notations', () => {
    const t = makeTag(0x7fe0, 0x0010);
    expect(t).toBe(0x7fe00010);
    expect(tagHex(t)).toBe('7FE00010');
    expect(tagString(0x00100010)).toBe('(0010,0010)');
    expect(tagHex(0xfffee0dd)).toBe('FFFEE0DD');
    for (const text of ['00100010', '(0010,0010)', '0010,0010', '(0010,0010) ']) expect(parseTag(text)).toBe(0x00100010);
    expect(parseTag('fffee000')).toBe(0xfffee000);
    expect(() => parseTag('0010001')).toThrow(/8 hex digits/);
    expect(tagGroup(0xfffee000)).toBe(0xfffe);
    expect(tagElement(0xfffee000)).toBe(0xe000);
  });

  it('classifies private, private creator and group length tags', () => {
    expect(isPrivateTag(0x00091001)).toBe(true);
    expect(isPrivateTag(0x00100010)).toBe(false);
    expect(isPrivateCreator(0x00090010)).toBe(true);
    expect(isPrivateCreator(0x00091010)).toBe(false);
    expect(isGroupLength(0x00080000)).toBe(true);
  });
});

describe('VRs', () => {
  it('knows which VRs use the 4-byte explicit length form', () => {
    for (const vr of ['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV'] as const) expect(hasLongExplicitLength(vr)).toBe(true);
    for (const vr of ['AE', 'CS', 'DS', 'LO', 'PN', 'SH', 'UI', 'US', 'FD', 'AT', 'LT', 'ST'] as const) expect(hasLongExplicitLength(vr)).toBe(false);
  });

  it('pads UI and binary values with NUL, text with spaces', () => {
    expect(paddingByte('UI')).toBe(0);
    expect(paddingByte('OB')).toBe(0);
    expect(paddingByte('LO')).toBe(0x20);
    expect(isVR('XX')).toBe(false);
    expect(isVR('SV')).toBe(true);
  });
});
