import { describe, expect, it } from 'vitest';
import { windowMissesValues } from './voi';

describe('windowMissesValues', () => {
  it('is true only when the window lies wholly outside the values', () => {
    expect(windowMissesValues({ lower: 0, upper: 0.214 }, 61, 38903)).toBe(true);
    expect(windowMissesValues({ lower: 40000, upper: 50000 }, 61, 38903)).toBe(true);
    expect(windowMissesValues({ lower: 0, upper: 0.214 }, 0.0003, 0.218)).toBe(false);
    expect(windowMissesValues({ lower: -160, upper: 240 }, -1024, 3071)).toBe(false);
    // A flat image has nothing to show whatever the window.
    expect(windowMissesValues({ lower: 0, upper: 1 }, 5, 5)).toBe(false);
  });
});
