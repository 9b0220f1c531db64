// Comparing what the console's viewport draws with a rendering computed in the test from the raw
// pixels (pydicom): the viewport publishes the affine map from pixel index to canvas
// (data-index-to-canvas), the test reads the canvas back and windows the reference itself.
import type { Locator } from 'playwright-core';

/** Float32 values (row-major) from base64, as the pydicom reference scripts print them. */
export function floats(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** VOI LUT function LINEAR (PS3.3 C.11.2.1.2.1) to 8 bits. */
export function windowed(value: number, width: number, center: number): number {
  const low = center - 0.5 - (width - 1) / 2;
  const high = center - 0.5 + (width - 1) / 2;
  if (value <= low) return 0;
  if (value > high) return 255;
  return ((value - (center - 0.5)) / (width - 1) + 0.5) * 255;
}

/** The affine map from pixel index (column i, row j) to canvas CSS pixels that each viewport publishes. */
export interface IndexToCanvas { ox: number; oy: number; cx: number; cy: number; rx: number; ry: number }

export function parseAffine(text: string): IndexToCanvas {
  const [ox, oy, cx, cy, rx, ry] = text.split(',').map(Number) as [number, number, number, number, number, number];
  return { ox, oy, cx, cy, rx, ry };
}

export function canvasToIndex(a: IndexToCanvas, x: number, y: number): [number, number] {
  const det = a.cx * a.ry - a.rx * a.cy;
  const dx = x - a.ox;
  const dy = y - a.oy;
  return [(dx * a.ry - a.rx * dy) / det, (a.cx * dy - dx * a.cy) / det];
}

export interface CanvasPixels { width: number; height: number; cssWidth: number; cssHeight: number; gray: Buffer }

/** What the page's canvas offers that the read-back uses (this module is compiled without the DOM types). */
interface PageCanvas {
  width: number;
  height: number;
  clientWidth: number;
  clientHeight: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}

/** The red channel (grey images) of a viewport's canvas, read back through its 2D context. */
export async function readCanvas(canvas: Locator): Promise<CanvasPixels> {
  const result = await canvas.evaluate((element: PageCanvas) => {
    const context = element.getContext('2d');
    if (!context) throw new Error('the viewport canvas has no 2D context');
    const { data } = context.getImageData(0, 0, element.width, element.height);
    let gray = '';
    for (let i = 0; i < data.length; i += 4) gray += String.fromCharCode(data[i]!);
    return { width: element.width, height: element.height, cssWidth: element.clientWidth, cssHeight: element.clientHeight, gray: btoa(gray) };
  });
  return { ...result, gray: Buffer.from(result.gray, 'base64') };
}

/**
 * Compares the canvas with the slice rendered here through the published index → canvas map:
 * for each canvas pixel over the image, the slice's value bilinearly interpolated at that place
 * (as the GPU samples the texture), then windowed. Returns the mean and the 99th percentile of
 * |canvas − reference| in grey levels.
 */
export function compareWithReference(canvas: CanvasPixels, affine: IndexToCanvas, values: Float32Array, cols: number, rows: number, width: number, center: number) {
  const scale = canvas.width / canvas.cssWidth;
  const differences: number[] = [];
  for (let y = 0; y < canvas.height; y += 2) {
    for (let x = 0; x < canvas.width; x += 2) {
      const [i, j] = canvasToIndex(affine, (x + 0.5) / scale, (y + 0.5) / scale);
      // Inside the image by a pixel, so that every sample has four neighbours.
      if (!(i >= 1 && j >= 1 && i <= cols - 2 && j <= rows - 2)) continue;
      const i0 = Math.floor(i);
      const j0 = Math.floor(j);
      const fi = i - i0;
      const fj = j - j0;
      const at = (c: number, r: number) => values[r * cols + c]!;
      const value = (at(i0, j0) * (1 - fi) + at(i0 + 1, j0) * fi) * (1 - fj) + (at(i0, j0 + 1) * (1 - fi) + at(i0 + 1, j0 + 1) * fi) * fj;
      differences.push(Math.abs(canvas.gray[y * canvas.width + x]! - windowed(value, width, center)));
    }
  }
  differences.sort((a, b) => a - b);
  const mean = differences.reduce((s, v) => s + v, 0) / differences.length;
  return { samples: differences.length, mean, p99: differences[Math.floor(differences.length * 0.99)]! };
}

/**
 * Where on the page a viewport draws pixel index (i, j), in whole CSS pixels as a mouse lands
 * (`toPage`), and the fractional pixel index under a page point (`toIndex`).
 */
export async function pageMapping(canvas: Locator, affine: IndexToCanvas) {
  const { left, top } = await canvas.evaluate((element: { getBoundingClientRect(): { left: number; top: number } }) => {
    const r = element.getBoundingClientRect();
    return { left: r.left, top: r.top };
  });
  return {
    toPage: (i: number, j: number) => ({
      x: Math.round(left + affine.ox + i * affine.cx + j * affine.rx),
      y: Math.round(top + affine.oy + i * affine.cy + j * affine.ry),
    }),
    toIndex: (p: { x: number; y: number }) => canvasToIndex(affine, p.x - left, p.y - top),
  };
}
