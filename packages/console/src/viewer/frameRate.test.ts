import { describe, expect, it } from 'vitest';
import type { DicomJsonDataset } from '../dicom-json';
import { recommendedFrameRate } from './frameRate';

const ds = (values: Record<string, number>): DicomJsonDataset =>
  Object.fromEntries(Object.entries(values).map(([tag, v]) => [tag, { vr: 'IS', Value: [v] }]));

describe('recommended frame rate', () => {
  it('prefers Recommended Display Frame Rate, then Cine Rate, then 1000 / Frame Time', () => {
    expect(recommendedFrameRate(ds({ '00082144': 25, '00180040': 30, '00181063': 40 }))).toBe(25);
    expect(recommendedFrameRate(ds({ '00180040': 30, '00181063': 40 }))).toBe(30);
    expect(recommendedFrameRate(ds({ '00181063': 33.3 }))).toBe(30);
    expect(recommendedFrameRate(ds({ '00082144': 0, '00181063': 40 }))).toBe(25);
  });

  it('says nothing when the object does not', () => {
    expect(recommendedFrameRate({})).toBeUndefined();
  });
});
