import { describe, expect, it } from 'vitest';
import type { DicomJsonDataset } from './dicom-json';
import { checkVolume } from './volume-geometry';

function slice(z: number, iop = [1, 0, 0, 0, 1, 0], size = 256): DicomJsonDataset {
  return {
    '00280010': { vr: 'US', Value: [size] }, '00280011': { vr: 'US', Value: [size] },
    '00200037': { vr: 'DS', Value: iop }, '00200032': { vr: 'DS', Value: [-100, -100, z] },
  };
}

describe('checkVolume', () => {
  it('accepts a regular stack in any order and gives its spacing and normal', () => {
    const result = checkVolume([slice(2), slice(0), slice(1), slice(3)]);
    expect(result).toEqual({ ok: true, slices: 4, spacing: 1, normal: [0, 0, 1] });
  });

  it('refuses several stacks of different orientations, with the reason', () => {
    const result = checkVolume([slice(0), slice(1), slice(2), slice(3, [1, 0, 0, 0, 0.9, 0.43])]);
    expect(result).toMatchObject({ ok: false, reason: expect.stringContaining('same orientation') });
  });

  it('refuses gaps, duplicated positions, mixed sizes and too few slices', () => {
    expect(checkVolume([slice(0), slice(1), slice(4)])).toMatchObject({ ok: false, reason: expect.stringContaining('evenly spaced') });
    expect(checkVolume([slice(0), slice(0), slice(0)])).toMatchObject({ ok: false, reason: expect.stringContaining('share one position') });
    expect(checkVolume([slice(0), slice(1), slice(2, undefined, 128)])).toMatchObject({ ok: false, reason: expect.stringContaining('same size') });
    expect(checkVolume([slice(0), slice(1)])).toMatchObject({ ok: false, reason: expect.stringContaining('at least 3') });
  });
});
