import { describe, expect, it } from 'vitest';
import { allStorageSopClasses, isStorageSopClass, lookupKeyword, lookupTag, transferSyntax } from './index.js';

describe('generated tables', () => {
  it('knows data elements by tag and keyword, including repeating groups', () => {
    expect(lookupKeyword('PatientName')?.tag).toBe(0x00100010);
    expect(lookupTag(0x00100010)?.vr).toBe('PN');
    expect(lookupTag(0x60023000)?.keyword).toBe('OverlayData');
  });

  it('describes transfer syntaxes', () => {
    expect(transferSyntax('1.2.840.10008.1.2')?.explicitVR).toBe(false);
    expect(transferSyntax('1.2.840.10008.1.2.2')?.littleEndian).toBe(false);
    expect(transferSyntax('1.2.840.10008.1.2.4.50')?.encapsulated).toBe(true);
    expect(transferSyntax('1.2.840.10008.1.2.4.201')?.encapsulated).toBe(true);
    expect(transferSyntax('1.2.840.10008.1.2.1.99')?.deflated).toBe(true);
  });

  it('lists storage SOP classes and no query/retrieve classes', () => {
    const all = allStorageSopClasses();
    expect(all).toContain('1.2.840.10008.5.1.4.1.1.2'); // CT Image Storage
    expect(all).toContain('1.2.840.10008.5.1.4.1.1.77.1.6'); // VL Whole Slide Microscopy
    expect(all).not.toContain('1.2.840.10008.5.1.4.1.2.2.1'); // Study Root FIND
    expect(isStorageSopClass('1.2.840.10008.5.1.4.1.2.2.1')).toBe(false);
    expect(isStorageSopClass('1.3.46.670589.11.0.0.12.1')).toBe(true); // private
  });
});
