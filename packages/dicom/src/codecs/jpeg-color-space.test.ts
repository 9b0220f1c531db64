import { describe, expect, it } from 'vitest';
import { readJpegColorSignal } from './codestream-headers.js';
import { planJpegColorConversion } from './jpeg-color-space.js';

/** The header of a three-component baseline JPEG: SOI, optional APP segments, SOF0 with the given component ids. */
function jpegHeader(componentIds: readonly number[], appSegments: number[][] = []): Uint8Array {
  const sof = [0xff, 0xc0, 0x00, 0x11, 8, 0, 16, 0, 16, 3, ...componentIds.flatMap((id) => [id, 0x11, 0])];
  return Uint8Array.from([0xff, 0xd8, ...appSegments.flat(), ...sof, 0xff, 0xda]);
}

const ascii = (text: string): number[] => [...text].map((char) => char.charCodeAt(0));
const jfif = [0xff, 0xe0, 0x00, 0x10, ...ascii('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0];
const adobe = (transform: number): number[] => [0xff, 0xee, 0x00, 0x0e, ...ascii('Adobe'), 0, 100, 0, 0, 0, 0, transform];
const truncatedAdobe = [0xff, 0xee, 0x00, 0x0c, ...ascii('Adobe'), 0, 0, 0, 0, 0];

describe('readJpegColorSignal', () => {
  it('reads the colour space a JPEG stream signals, in libjpeg order', () => {
    expect(readJpegColorSignal(jpegHeader([1, 2, 3]))).toBe('YCbCr');
    expect(readJpegColorSignal(jpegHeader(ascii('RGB')))).toBe('RGB');
    expect(readJpegColorSignal(jpegHeader([0, 1, 2]))).toBe('unsignalled');
    expect(readJpegColorSignal(jpegHeader([0, 1, 2], [jfif]))).toBe('YCbCr');
    expect(readJpegColorSignal(jpegHeader([1, 2, 3], [adobe(0)]))).toBe('RGB'); // Adobe before component ids
    expect(readJpegColorSignal(jpegHeader(ascii('RGB'), [adobe(1)]))).toBe('YCbCr');
    expect(readJpegColorSignal(jpegHeader([0, 1, 2], [truncatedAdobe]))).toBe('unsignalled'); // too short for libjpeg
  });
});

describe('planJpegColorConversion', () => {
  it('lets the stream decide when it signals its colour space, whatever the Photometric Interpretation', () => {
    const ycbcrLabelledRgb = jpegHeader([1, 2, 3]);
    expect(planJpegColorConversion(ycbcrLabelledRgb, 'RGB')).toEqual({ stream: ycbcrLabelledRgb, photometricInterpretation: 'RGB' });
    const rgb = jpegHeader([1, 2, 3], [adobe(0)]);
    expect(planJpegColorConversion(rgb, 'RGB')).toEqual({ stream: rgb, photometricInterpretation: 'RGB' });
    expect(planJpegColorConversion(rgb, 'YBR_FULL_422').photometricInterpretation).toBe('YBR_FULL');
  });

  it('follows the Photometric Interpretation when the stream says nothing', () => {
    const silent = jpegHeader([0, 1, 2]);
    expect(planJpegColorConversion(silent, 'YBR_FULL_422')).toEqual({ stream: silent, photometricInterpretation: 'RGB' });
    const kept = planJpegColorConversion(silent, 'RGB');
    expect(kept.photometricInterpretation).toBe('RGB');
    // An Adobe marker with transform 0 now tells libjpeg not to convert; the rest of the stream is unchanged.
    expect(readJpegColorSignal(kept.stream)).toBe('RGB');
    expect(kept.stream.subarray(2 + adobe(0).length)).toEqual(silent.subarray(2));
  });
});
