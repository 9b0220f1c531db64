import { describe, expect, it } from 'vitest';
import { presetIdOf, presetOfWindow, withPreset } from './userPresets';

describe('the reader\'s own window presets', () => {
  it('makes a profile id from the label', () => {
    expect(presetIdOf('Foie (portal)')).toBe('foie-portal');
    expect(presetIdOf('Lung')).toBe('lung');
    expect(presetIdOf('  Élargie  ')).toBe('elargie');
    expect(presetIdOf('???')).toMatch(/^preset-[a-z0-9]+$/);
  });

  it('rounds the window on screen, keeps a key only when given, and needs a label', () => {
    expect(presetOfWindow('Liver', '7', { width: 150.4, center: 89.6 })).toEqual({ id: 'liver', label: 'Liver', width: 150, center: 90, key: '7' });
    expect(presetOfWindow('Liver', ' ', { width: 0.2, center: 3 })).toEqual({ id: 'liver', label: 'Liver', width: 1, center: 3 });
    expect(presetOfWindow('  ', '7', { width: 150, center: 90 })).toBeUndefined();
    expect(presetOfWindow('Liver', '', { width: 0, center: 90 })).toBeUndefined();
  });

  it('adds a preset, or replaces the one of the same id in place', () => {
    const liver = { id: 'liver', label: 'Liver', width: 150, center: 90 };
    const spine = { id: 'spine', label: 'Spine', width: 2000, center: 300 };
    expect(withPreset(undefined, liver)).toEqual([liver]);
    expect(withPreset([liver, spine], { ...liver, width: 180 })).toEqual([{ ...liver, width: 180 }, spine]);
  });
});
