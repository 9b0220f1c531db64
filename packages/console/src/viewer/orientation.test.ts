import { describe, expect, it } from 'vitest';
import { directionLetters, edgeLabels, scaleBarLength } from './orientation';

describe('orientation letters', () => {
  it('labels an axial image as radiologists read it (IOP 1\\0\\0\\0\\1\\0)', () => {
    expect(edgeLabels([1, 0, 0], [0, 1, 0])).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
  });

  it('swaps left and right after a horizontal flip', () => {
    expect(edgeLabels([-1, 0, 0], [0, 1, 0])).toEqual({ left: 'L', right: 'R', top: 'A', bottom: 'P' });
  });

  it('labels sagittal and coronal planes with head and foot', () => {
    expect(edgeLabels([0, 1, 0], [0, 0, -1])).toEqual({ left: 'A', right: 'P', top: 'H', bottom: 'F' });
    expect(edgeLabels([1, 0, 0], [0, 0, -1])).toEqual({ left: 'R', right: 'L', top: 'H', bottom: 'F' });
  });

  it('combines letters for an oblique direction, strongest first', () => {
    expect(directionLetters([0.9, 0, 0.43])).toBe('LH');
    expect(directionLetters([-0.5, 0.6, -0.62])).toBe('FPR');
    expect(directionLetters([0.99, 0.1, 0])).toBe('L');
  });
});

describe('scale bar', () => {
  it('picks the longest round length that fits', () => {
    expect(scaleBarLength(0.5, 100)).toBe(50);
    expect(scaleBarLength(0.5, 90)).toBe(20);
    expect(scaleBarLength(0.25, 100)).toBe(20);
    expect(scaleBarLength(2, 30)).toBe(50);
    expect(scaleBarLength(0, 30)).toBeUndefined();
  });
});
