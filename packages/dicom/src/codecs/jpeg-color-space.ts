// Whether a baseline JPEG frame of three components is to be converted from YCbCr to RGB when decoded.
import { readJpegColorSignal, withAdobeNoTransformMarker } from './codestream-headers.js';

export interface JpegColorConversion {
  /** The stream to give libjpeg: the frame itself, or the frame with a marker that stops libjpeg's YCbCr guess. */
  readonly stream: Uint8Array;
  /** Photometric Interpretation of the decoded pixels. */
  readonly photometricInterpretation: string;
}

/**
 * The stream's own signalling decides first, as it does in every JPEG decoder (JFIF, Adobe APP14, component ids; see
 * readJpegColorSignal): some writers label YCbCr data RGB in the data set (GDCM's lossy encoder does), and their
 * images are only right when converted. A stream that says nothing (e.g. component ids 0, 1, 2 and no APP marker,
 * as in whole-slide tiles stored without colour transform) follows the Photometric Interpretation (PS3.5 8.2.1):
 * YBR_* is converted, RGB is not, where libjpeg alone would guess YCbCr and ruin the colours.
 */
export function planJpegColorConversion(frame: Uint8Array, photometricInterpretation: string): JpegColorConversion {
  const signal = readJpegColorSignal(frame);
  const converted = signal === 'unsignalled' ? photometricInterpretation.startsWith('YBR') : signal === 'YCbCr';
  if (converted) return { stream: frame, photometricInterpretation: 'RGB' };
  return {
    stream: signal === 'unsignalled' ? withAdobeNoTransformMarker(frame) : frame,
    // Decoded components are full resolution whatever the subsampling: YBR_FULL_422 data comes out YBR_FULL.
    photometricInterpretation: photometricInterpretation === 'YBR_FULL_422' ? 'YBR_FULL' : photometricInterpretation,
  };
}
