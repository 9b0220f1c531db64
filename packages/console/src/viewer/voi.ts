// A window that shows nothing is replaced by the image's own range. Some objects carry a
// Window Center/Width that cannot apply to the values as drawn (an RT Image's 0.1 Gy window over
// raw stored values when no rescale applies, a window copied from another image): the image
// would be one flat colour. The image's minimum to maximum is what a user would set by hand.
import type { StackViewport } from '@cornerstonejs/core';

/** True when the window [lower, upper] and the values [min, max] do not overlap at all. */
export function windowMissesValues(window: { lower: number; upper: number }, min: number, max: number): boolean {
  return max > min && (window.upper <= min || window.lower >= max);
}

export function ensureVisibleWindow(viewport: StackViewport): void {
  const image = viewport.getCornerstoneImage();
  const { voiRange } = viewport.getProperties();
  if (!image || !voiRange) return;
  if (windowMissesValues(voiRange, image.minPixelValue, image.maxPixelValue)) {
    viewport.setProperties({ voiRange: { lower: image.minPixelValue, upper: image.maxPixelValue } });
  }
}
