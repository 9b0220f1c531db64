// The "MR auto" window: from the values of the image on screen rather than from its header. MR
// values have no fixed scale (unlike CT's Hounsfield units) and many MR, US or secondary-capture
// images carry no window, or one that fits another image: the window then spans the 1st to the 99th
// percentile of the displayed slice's values, which leaves out the few extreme pixels (air noise,
// a bright vessel or fat spike) that would make a minimum-to-maximum window look flat.
import type { StackViewport } from '@cornerstonejs/core';

export const AUTO_WINDOW_PERCENTILES = { low: 0.01, high: 0.99 } as const;
/** Values looked at, at most: every pixel up to 512×512, an even sample of larger images (a 4k mammogram). */
export const AUTO_WINDOW_SAMPLES = 512 * 512;

export interface ValueRange { lower: number; upper: number }

/**
 * The `low` and `high` quantiles of `values` (nearest rank: the value at position round(q·(n−1))
 * of the sorted values), as a window's lower and upper bounds. `slope` and `intercept` turn stored
 * values into the modality's (Rescale Slope and Intercept). A flat image gets a window 1 wide.
 */
export function percentileWindow(values: ArrayLike<number>, slope = 1, intercept = 0,
  { low, high } = AUTO_WINDOW_PERCENTILES): ValueRange | undefined {
  const stride = Math.max(1, Math.ceil(values.length / AUTO_WINDOW_SAMPLES));
  const sample = new Float64Array(Math.ceil(values.length / stride));
  for (let i = 0; i < sample.length; i++) sample[i] = values[i * stride]! * slope + intercept;
  if (sample.length === 0) return undefined;
  sample.sort();
  const at = (q: number) => sample[Math.min(sample.length - 1, Math.max(0, Math.round(q * (sample.length - 1))))]!;
  const lower = at(low);
  const upper = at(high);
  return { lower, upper: upper > lower ? upper : lower + 1 };
}

/** The auto window of the image the viewport shows; undefined for colour images (a window means nothing there) or none yet. */
export function autoWindowOf(viewport: StackViewport): ValueRange | undefined {
  const image = viewport.getCornerstoneImage();
  if (!image || image.color || image.rgba) return undefined;
  // Cornerstone scales stored values to modality values as it loads them (preScale) unless it could not.
  const scaled = image.preScale?.scaled === true;
  return percentileWindow(image.getPixelData(), scaled ? 1 : image.slope ?? 1, scaled ? 0 : image.intercept ?? 0);
}
