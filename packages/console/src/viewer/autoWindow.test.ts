import { describe, expect, it } from 'vitest';
import { AUTO_WINDOW_SAMPLES, percentileWindow } from './autoWindow';

describe('the MR auto window', () => {
  it('spans the 1st to the 99th percentile, leaving out the extreme pixels', () => {
    // 0…999 once each, and a few far outliers at both ends.
    const values = [...Array.from({ length: 1000 }, (_, i) => i), -5000, -5000, 90000, 90000];
    const window = percentileWindow(Int16Array.from(values.map((v) => Math.max(-32768, Math.min(32767, v)))));
    const sorted = [...values].map((v) => Math.max(-32768, Math.min(32767, v))).sort((a, b) => a - b);
    expect(window).toEqual({ lower: sorted[Math.round(0.01 * 1003)], upper: sorted[Math.round(0.99 * 1003)] });
    expect(window!.lower).toBeGreaterThan(0);
    expect(window!.upper).toBeLessThan(1000);
  });

  it('works in modality values through the rescale', () => {
    const stored = Uint16Array.from({ length: 101 }, (_, i) => i);
    expect(percentileWindow(stored, 2, -100)).toEqual({ lower: 2 * 1 - 100, upper: 2 * 99 - 100 });
  });

  it('gives a flat image a window one wide, and nothing to an empty one', () => {
    expect(percentileWindow(new Uint8Array(64).fill(7))).toEqual({ lower: 7, upper: 8 });
    expect(percentileWindow(new Uint8Array(0))).toBeUndefined();
  });

  it('samples a large image evenly', () => {
    const large = Float32Array.from({ length: AUTO_WINDOW_SAMPLES * 4 }, (_, i) => i % 1000);
    const window = percentileWindow(large)!;
    expect(window.lower).toBeGreaterThanOrEqual(0);
    expect(window.lower).toBeLessThan(30);
    expect(window.upper).toBeGreaterThan(970);
  });
});
