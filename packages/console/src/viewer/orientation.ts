// Patient orientation letters (PS3.3 C.7.6.1.1.1) for the edges of a displayed image, and the
// length of a scale bar. Pure functions of the patient-space direction that each screen axis
// points to, so that rotation, flips and oblique planes all come from the viewport's camera.

/** Patient axes in DICOM's LPS system: +x toward the patient's left, +y posterior, +z head. */
const AXES: readonly (readonly [positive: string, negative: string])[] = [['L', 'R'], ['P', 'A'], ['H', 'F']];

/**
 * The letters of a direction, strongest component first: one letter for a direction along an
 * axis, two or three for an oblique one. Components under `threshold` (of the unit vector) are left out.
 */
export function directionLetters(direction: readonly number[], threshold = 0.25): string {
  const length = Math.hypot(...direction);
  if (!(length > 0)) return '';
  return direction
    .map((value, axis) => ({ value: value / length, axis }))
    .filter((c) => Math.abs(c.value) >= threshold)
    .sort((a, b) => Math.abs(b.value) - Math.abs(a.value))
    .map((c) => (c.value > 0 ? AXES[c.axis]![0] : AXES[c.axis]![1]))
    .join('');
}

export interface EdgeLabels { left: string; right: string; top: string; bottom: string }

/** Edge letters from the patient directions of the screen's right (+x) and down (+y) axes. */
export function edgeLabels(right: readonly number[], down: readonly number[]): EdgeLabels {
  const negate = (v: readonly number[]) => v.map((x) => -x);
  return {
    left: directionLetters(negate(right)),
    right: directionLetters(right),
    top: directionLetters(negate(down)),
    bottom: directionLetters(down),
  };
}

/**
 * A round scale-bar length (1, 2 or 5 × 10^k mm) that fits in `maxPixels` screen pixels at
 * `mmPerPixel`; undefined when none does.
 */
export function scaleBarLength(mmPerPixel: number, maxPixels: number): number | undefined {
  if (!(mmPerPixel > 0) || !(maxPixels > 0)) return undefined;
  const maxMm = mmPerPixel * maxPixels;
  const decade = 10 ** Math.floor(Math.log10(maxMm));
  for (const step of [5, 2, 1]) {
    if (step * decade <= maxMm) return step * decade;
  }
  return undefined;
}
