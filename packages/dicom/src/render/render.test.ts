import { describe, expect, it } from 'vitest';
import type { PixelFormat } from '../codecs/pixel-layout.js';
import { Dataset } from '../dataset.js';
import { readRenderAttributes, type RenderAttributes } from './attributes.js';
import { expandSegmentedLut, parseLutData, parseLutDescriptor } from './lut.js';
import { renderFrame, storedValues, windowFunction } from './render.js';

const le = { explicitVR: true, littleEndian: true };
const noBulk = async (): Promise<undefined> => undefined;

function grey(columns: number, rows: number, extra: Partial<PixelFormat> = {}): PixelFormat {
  return {
    rows, columns, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 16, pixelRepresentation: 0,
    planarConfiguration: 0, photometricInterpretation: 'MONOCHROME2', ...extra,
  };
}

function words(values: number[], signed = false): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => (signed ? view.setInt16(i * 2, v, true) : view.setUint16(i * 2, v, true)));
  return out;
}

function attributes(format: PixelFormat, extra: Partial<RenderAttributes> = {}): RenderAttributes {
  return { format, rescale: { slope: 1, intercept: 0 }, windows: [], voiLuts: [], ...extra };
}

describe('VOI LUT functions (PS3.3 C.11.2.1.2)', () => {
  it('LINEAR maps the window edges as the standard writes them', () => {
    // c = 40, w = 400: x <= c - 0.5 - 199.5 = -160 → min, x > c - 0.5 + 199.5 = 239 → max.
    const f = windowFunction({ center: 40, width: 400, function: 'LINEAR' });
    expect(f(-160)).toBe(0);
    expect(f(-159)).toBeCloseTo((-159 - 39.5) / 399 + 0.5, 12);
    expect(f(239)).toBeCloseTo(1, 12);
    expect(f(239.01)).toBe(1);
    // Width 1 is a threshold at the center.
    const threshold = windowFunction({ center: 100, width: 1, function: 'LINEAR' });
    expect([threshold(99), threshold(99.5), threshold(100)]).toEqual([0, 0, 1]);
  });

  it('LINEAR_EXACT and SIGMOID', () => {
    const exact = windowFunction({ center: 0, width: 100, function: 'LINEAR_EXACT' });
    expect([exact(-50), exact(0), exact(25), exact(50), exact(51)]).toEqual([0, 0.5, 0.75, 1, 1]);
    const sigmoid = windowFunction({ center: 0, width: 100, function: 'SIGMOID' });
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(25)).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
  });
});

describe('stored values', () => {
  it('masks bits above Bits Stored and sign-extends signed values', () => {
    const format = grey(3, 1, { bitsStored: 12 });
    expect([...storedValues(words([0xf123, 0x0fff, 0x1000]), format)]).toEqual([0x123, 0xfff, 0]);
    const signed = grey(3, 1, { bitsStored: 12, pixelRepresentation: 1 });
    expect([...storedValues(words([0x0800, 0x07ff, 0xffff]), signed)]).toEqual([-2048, 2047, -1]);
  });

  it('unpacks 1-bit pixels least significant bit first', () => {
    const format = grey(10, 1, { bitsAllocated: 1, bitsStored: 1 });
    expect([...storedValues(Uint8Array.of(0b00000101, 0b10), format)]).toEqual([1, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
  });
});

describe('grayscale pipeline', () => {
  it('applies rescale then the window, and MONOCHROME1 comes out inverted', () => {
    const format = grey(4, 1, { pixelRepresentation: 1 });
    const pixels = words([-1024, 0, 1000, 3000], true);
    const window = { center: 40, width: 400, function: 'LINEAR' as const };
    const ct = attributes(format, { rescale: { slope: 1, intercept: -1024 } });
    const mono2 = renderFrame({ pixels, photometricInterpretation: 'MONOCHROME2' }, ct, { window });
    // HU -2048 and -1024 are below the window, -24 is inside, 1976 above.
    const inside = Math.round(((-24 - 39.5) / 399 + 0.5) * 255);
    expect([...mono2.data]).toEqual([0, 0, inside, 255]);
    const mono1 = renderFrame({ pixels, photometricInterpretation: 'MONOCHROME1' }, { ...ct, format: { ...format, photometricInterpretation: 'MONOCHROME1' } }, { window });
    expect([...mono1.data]).toEqual([255, 255, 255 - inside, 0]);
  });

  it('uses the first window of the object, else its VOI LUT, else the data range', () => {
    const format = grey(3, 1);
    const pixels = words([100, 150, 200]);
    const own = renderFrame({ pixels, photometricInterpretation: 'MONOCHROME2' },
      attributes(format, { windows: [{ center: 150, width: 100, function: 'LINEAR_EXACT' }, { center: 0, width: 1, function: 'LINEAR' }] }));
    expect([...own.data]).toEqual([0, 128, 255]);
    const voiLut = parseLutData(parseLutDescriptor([3, 100, 8], false, 'VOI'), words([10, 20, 255]), true, 'VOI');
    expect(voiLut.bitsPerEntry).toBe(8);
    const fromLut = renderFrame({ pixels, photometricInterpretation: 'MONOCHROME2' }, attributes(format, { voiLuts: [voiLut] }));
    expect([...fromLut.data]).toEqual([10, 255, 255]);
    const fromData = renderFrame({ pixels, photometricInterpretation: 'MONOCHROME2' }, attributes(format));
    expect([...fromData.data]).toEqual([0, 128, 255]);
  });

  it('reads a Modality LUT Sequence, Presentation LUT Shape INVERSE and per-frame windows from the data set', async () => {
    const ds = new Dataset(le);
    const item = ds.createItem();
    item.setNumber(0x00283002, 'US', [4, 0, 16]);
    item.setBytes(0x00283006, 'OW', words([0, 1000, 2000, 4000]));
    ds.setItems(0x00283000, [item]);
    // Some writers add Rescale Slope 1 beside the table: the table applies.
    ds.setNumber(0x00281053, 'DS', 1);
    ds.setNumber(0x00281052, 'DS', 0);
    ds.setString(0x20500020, 'CS', 'INVERSE');
    const format = grey(4, 1, { bitsStored: 2 });
    const attrs = await readRenderAttributes(ds, format, 0, noBulk);
    expect(attrs.modalityLut?.entries).toEqual(Uint16Array.of(0, 1000, 2000, 4000));
    const image = renderFrame({ pixels: words([0, 1, 2, 3]), photometricInterpretation: 'MONOCHROME2' }, attrs,
      { window: { center: 2000, width: 4000, function: 'LINEAR_EXACT' } });
    expect([...image.data]).toEqual([255, 191, 255 - 128, 0]);

    const enhanced = new Dataset(le);
    const frames = [0, 1].map((n) => {
      const frame = enhanced.createItem();
      const voi = frame.createItem();
      voi.setNumber(0x00281050, 'DS', 100 * (n + 1));
      voi.setNumber(0x00281051, 'DS', 50);
      frame.setItems(0x00289132, [voi]);
      return frame;
    });
    enhanced.setItems(0x52009230, frames);
    const shared = enhanced.createItem();
    const transform = shared.createItem();
    transform.setNumber(0x00281052, 'DS', -10);
    transform.setNumber(0x00281053, 'DS', 2);
    shared.setItems(0x00289145, [transform]);
    enhanced.setItems(0x52009229, [shared]);
    const second = await readRenderAttributes(enhanced, grey(1, 1), 1, noBulk);
    expect(second.windows).toEqual([{ center: 200, width: 50, function: 'LINEAR' }]);
    expect(second.rescale).toEqual({ slope: 2, intercept: -10 });
  });

  it('reads LUT data left on disk through the reader it is given', async () => {
    const ds = new Dataset(le);
    const item = ds.createItem();
    item.setNumber(0x00283002, 'US', [2, 0, 8]);
    item.set({ tag: 0x00283006, vr: 'OW', length: 4, position: { offset: 1000, length: 4 } });
    ds.setItems(0x00283010, [item]);
    const asked: number[] = [];
    const attrs = await readRenderAttributes(ds, grey(1, 1), 0, async (element) => {
      asked.push(element.position!.offset);
      return words([7, 9]);
    });
    expect(asked).toEqual([1000]);
    expect(attrs.voiLuts[0]?.entries).toEqual(Uint16Array.of(7, 9));
  });
});

describe('colour', () => {
  const rgbFormat = (photometricInterpretation: string): PixelFormat => ({
    rows: 1, columns: 2, samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, pixelRepresentation: 0, planarConfiguration: 0, photometricInterpretation,
  });

  it('converts YBR_FULL to RGB (PS3.3 C.7.6.3.1.2)', () => {
    // Pure red and mid grey in YBR_FULL: Y = .299 R, Cb = -.1687 R + 128, Cr = .5 R + 128.
    const red = [Math.round(0.299 * 255), Math.round(-0.168736 * 255 + 128), 255];
    const image = renderFrame({ pixels: Uint8Array.from([...red, 128, 128, 128]), photometricInterpretation: 'YBR_FULL' }, attributes(rgbFormat('YBR_FULL')));
    expect(image.channels).toBe(3);
    const [r, g, b, ...greyPixel] = image.data;
    expect(r).toBeGreaterThanOrEqual(253);
    expect(g).toBeLessThanOrEqual(2);
    expect(b).toBeLessThanOrEqual(2);
    expect(greyPixel).toEqual([128, 128, 128]);
  });

  it('keeps RGB and scales 16-bit RGB to 8 bits', () => {
    const image = renderFrame({ pixels: Uint8Array.of(1, 2, 3, 4, 5, 6), photometricInterpretation: 'RGB' }, attributes(rgbFormat('RGB')));
    expect([...image.data]).toEqual([1, 2, 3, 4, 5, 6]);
    const wide = { ...rgbFormat('RGB'), columns: 1, bitsAllocated: 16, bitsStored: 12 };
    const scaled = renderFrame({ pixels: words([0xfff, 0x800, 0]), photometricInterpretation: 'RGB' }, attributes(wide));
    expect([...scaled.data]).toEqual([255, 128, 0]);
  });

  it('looks up palette colours, including segmented palettes (PS3.3 C.7.9.2)', async () => {
    // Discrete 0, 10; linear to 50 over 4 entries; indirect copy of the first segment.
    const segments = words([0, 2, 0, 10, 1, 4, 50, 2, 1, 0, 0]);
    const descriptor = parseLutDescriptor([8, 0, 16], false, 'Red');
    const red = expandSegmentedLut(descriptor, segments, true, 'Red');
    expect([...red.entries]).toEqual([0, 10, 20, 30, 40, 50, 0, 10]);

    const ds = new Dataset({ explicitVR: false, littleEndian: true });
    for (let c = 0; c < 3; c++) {
      ds.setNumber(0x00281101 + c, 'US', [4, 0, 16]);
      ds.setBytes(0x00281201 + c, 'OW', words([0, 0x4000 * c, 0x8000, 0xffff]));
    }
    const format = { ...grey(4, 1, { bitsAllocated: 8, bitsStored: 8 }), photometricInterpretation: 'PALETTE COLOR' };
    const attrs = await readRenderAttributes(ds, format, 0, noBulk);
    const image = renderFrame({ pixels: Uint8Array.of(0, 1, 2, 9), photometricInterpretation: 'PALETTE COLOR' }, attrs);
    expect([...image.data]).toEqual([0, 0, 0, 0, 64, 128, 128, 128, 128, 255, 255, 255]);
  });
});
