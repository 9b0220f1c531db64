// WADO-RS content negotiation (PS3.18 §8.7.3): which media type and transfer syntax a response
// part is sent in, from the Accept header and the syntax the object is stored in.
import { canDecode, canEncode, canTranscode, ExplicitVRLittleEndian, transferSyntax } from '@loire/dicom';
import { parseAccept, type MediaRange } from './accept.js';
import { HttpError } from './http-error.js';

export const DICOM_MEDIA_TYPE = 'application/dicom';
export const OCTET_STREAM = 'application/octet-stream';

/**
 * Media types of pixel data and the transfer syntaxes each may carry, default first
 * (PS3.18 Table 8.7.3-5 and §8.7.3.3.2).
 */
export const PIXEL_MEDIA_TYPES: Readonly<Record<string, readonly string[]>> = {
  'image/jpeg': ['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70'],
  'image/jls': ['1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81'],
  'image/jp2': ['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91'],
  'image/jpx': ['1.2.840.10008.1.2.4.92', '1.2.840.10008.1.2.4.93'],
  'image/jphc': ['1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.202', '1.2.840.10008.1.2.4.203'],
  'image/dicom-rle': ['1.2.840.10008.1.2.5'],
  // The name PS3.18 used before 2017, still sent by dicomweb-client and the viewers built on it.
  'image/x-dicom-rle': ['1.2.840.10008.1.2.5'],
};

/** The media type of pixel data in a transfer syntax: a compressed image type, else application/octet-stream. */
export function pixelMediaType(transferSyntaxUid: string): string {
  for (const [type, syntaxes] of Object.entries(PIXEL_MEDIA_TYPES)) if (syntaxes.includes(transferSyntaxUid)) return type;
  return OCTET_STREAM;
}

function isNative(transferSyntaxUid: string): boolean {
  return transferSyntax(transferSyntaxUid)?.encapsulated === false;
}

function checkSyntaxParameter(value: string): string {
  if (value === '*' || /^[0-9.]{1,64}$/.test(value)) return value;
  throw HttpError.badRequest(`Accept: transfer-syntax "${value}" is neither "*" nor a transfer syntax UID`);
}

/** Lists the ranges of an Accept header with, for multipart/related ones, the part type they ask for. */
function partRanges(accept: string | undefined): { range: MediaRange; partType: string | undefined; syntax: string | undefined; multipart: boolean }[] {
  return parseAccept(accept).map((range) => {
    const syntaxParameter = range.parameters['transfer-syntax'];
    const syntax = syntaxParameter === undefined ? undefined : checkSyntaxParameter(syntaxParameter);
    if (range.type === 'multipart/related' || range.type === 'multipart/*') {
      return { range, partType: range.parameters.type?.toLowerCase(), syntax, multipart: true };
    }
    return { range, partType: range.type, syntax, multipart: range.type === '*/*' };
  });
}

// ---------------------------------------------------------------- whole instances

/** What an instance retrieve accepts, in order of preference: '*' (as stored) or transfer syntax UIDs. */
export interface InstanceAcceptance {
  readonly syntaxes: readonly string[];
}

/**
 * Study, series and instance retrieve: `multipart/related; type="application/dicom"` only
 * (PS3.18 §10.4.1.1). No transfer-syntax parameter means Explicit VR Little Endian (PS3.18
 * §8.7.3.5.2); "*" means as stored.
 */
export function instanceAcceptance(accept: string | undefined): InstanceAcceptance {
  const syntaxes: string[] = [];
  for (const { partType, syntax } of partRanges(accept)) {
    const dicom = partType === undefined || partType === DICOM_MEDIA_TYPE || partType === '*/*' || partType === 'application/*';
    if (!dicom) continue;
    const wanted = syntax ?? ExplicitVRLittleEndian;
    if (!syntaxes.includes(wanted)) syntaxes.push(wanted);
  }
  if (syntaxes.length === 0) {
    throw HttpError.notAcceptable(`instances are sent only as multipart/related; type="${DICOM_MEDIA_TYPE}" (with an optional transfer-syntax parameter); the Accept header "${accept}" allows none of that`);
  }
  return { syntaxes };
}

/** How one stored instance is sent: its stored bytes, or transcoded to `transferSyntaxUid`. */
export type InstancePlan = { kind: 'stored'; transferSyntaxUid: string } | { kind: 'transcode'; transferSyntaxUid: string };

export function planInstance(acceptance: InstanceAcceptance, stored: string): InstancePlan | undefined {
  for (const wanted of acceptance.syntaxes) {
    if (wanted === '*' || wanted === stored) return { kind: 'stored', transferSyntaxUid: stored };
    if (canTranscode(stored, wanted)) return { kind: 'transcode', transferSyntaxUid: wanted };
  }
  return undefined;
}

// ---------------------------------------------------------------- pixel data (frames, bulk data)

/** How frames are sent: as stored, decoded to native little endian, or decoded and re-encoded. */
export interface PixelPlan {
  readonly mediaType: string;
  readonly transferSyntaxUid: string;
  readonly action: 'stored' | 'decode' | 'encode';
  readonly multipart: boolean;
}

function pixelPlanFor(target: string, stored: string, mediaType: string, multipart: boolean): PixelPlan | undefined {
  if (target === stored || (isNative(stored) && transferSyntax(stored)?.littleEndian && target === ExplicitVRLittleEndian)) {
    return { mediaType, transferSyntaxUid: target, action: 'stored', multipart };
  }
  if (!canDecode(stored)) return undefined;
  if (target === ExplicitVRLittleEndian) return { mediaType, transferSyntaxUid: target, action: 'decode', multipart };
  if (canEncode(target)) return { mediaType, transferSyntaxUid: target, action: 'encode', multipart };
  return undefined;
}

/**
 * Frames and pixel bulk data (PS3.18 §8.7.3.5.2, §10.4.1.1.3): application/octet-stream is native
 * little endian (transfer-syntax "*": the stored bytes whatever they are); image/jls, image/jp2,
 * image/jphc, image/jpeg, image/dicom-rle, image/jpx carry their compressed syntaxes, each with a
 * default. "*\/*" takes the frames as stored.
 */
export function planPixels(accept: string | undefined, stored: string): PixelPlan | undefined {
  for (const { partType, syntax, multipart } of partRanges(accept)) {
    const type = partType ?? OCTET_STREAM;
    if (type === '*/*' || (type === 'image/*' && !isNative(stored))) {
      const plan = pixelPlanFor(isNative(stored) ? ExplicitVRLittleEndian : stored, stored, pixelMediaType(stored), multipart);
      if (plan) return plan;
      continue;
    }
    if (type === OCTET_STREAM) {
      if (syntax === '*') return { mediaType: OCTET_STREAM, transferSyntaxUid: isNative(stored) ? ExplicitVRLittleEndian : stored, action: isNative(stored) && !transferSyntax(stored)?.littleEndian ? 'decode' : 'stored', multipart };
      const plan = pixelPlanFor(syntax ?? ExplicitVRLittleEndian, stored, OCTET_STREAM, multipart);
      if (plan) return plan;
      continue;
    }
    const syntaxes = PIXEL_MEDIA_TYPES[type];
    if (!syntaxes) continue;
    let target = syntax ?? syntaxes[0]!;
    if (syntax === '*') target = syntaxes.includes(stored) ? stored : syntaxes[0]!;
    if (!syntaxes.includes(target)) {
      throw HttpError.badRequest(`Accept: transfer syntax ${target} cannot be sent as ${type}; ${type} carries ${syntaxes.join(', ')}`);
    }
    const plan = pixelPlanFor(target, stored, type, multipart);
    if (plan) return plan;
  }
  return undefined;
}

/** The 406 when no Accept range can be served for pixel data stored in `stored`. */
export function pixelsNotAcceptable(accept: string | undefined, stored: string): HttpError {
  const storedType = pixelMediaType(stored);
  const offers = [`${OCTET_STREAM} (uncompressed)`, `${storedType}; transfer-syntax=${stored} (as stored)`, 'image/dicom-rle, image/jls, image/jp2, image/jphc (lossless, encoded on request)'];
  return HttpError.notAcceptable(`cannot send these frames as "${accept}": they are stored as ${transferSyntax(stored)?.name ?? stored}; available: ${offers.join('; ')}`);
}

/** Content-Type of a part carrying pixel data in the plan's syntax. */
export function pixelPartType(plan: PixelPlan): string {
  return `${plan.mediaType}; transfer-syntax=${plan.transferSyntaxUid}`;
}
