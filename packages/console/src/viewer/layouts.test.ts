import { describe, expect, it } from 'vitest';
import { cellCount, layoutById, MAX_CELLS } from './layouts';

describe('viewport layouts', () => {
  it('takes any rows x columns up to 4x4 from a profile, and 1x1 for anything else', () => {
    expect(layoutById('2x2')).toEqual({ id: '2x2', rows: 2, columns: 2 });
    expect(layoutById('1x3')).toEqual({ id: '1x3', rows: 1, columns: 3 });
    expect(cellCount(layoutById('4x4'))).toBe(MAX_CELLS);
    expect(layoutById('5x1').id).toBe('1x1');
    expect(layoutById('').id).toBe('1x1');
  });
});
