// WADO-RS content negotiation: Accept header → media type and transfer syntax of the parts.
import { describe, expect, it } from 'vitest';
import { HttpError } from './http-error.js';
import { instanceAcceptance, planInstance, planPixels } from './wado-negotiation.js';

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const BIG_ENDIAN = '1.2.840.10008.1.2.2';
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
const JPEG_LS = '1.2.840.10008.1.2.4.80';
const HTJ2K_LOSSLESS = '1.2.840.10008.1.2.4.201';
const MPEG2 = '1.2.840.10008.1.2.4.100';

describe('instance retrieve negotiation', () => {
  it('defaults to explicit VR little endian, and "*" keeps the stored syntax (PS3.18 §8.7.3.5.2)', () => {
    expect(instanceAcceptance(undefined).syntaxes).toEqual([EXPLICIT_LE]);
    expect(instanceAcceptance('multipart/related; type="application/dicom"').syntaxes).toEqual([EXPLICIT_LE]);
    expect(planInstance(instanceAcceptance('multipart/related; type="application/dicom"; transfer-syntax=*'), JPEG_BASELINE))
      .toEqual({ kind: 'stored', transferSyntaxUid: JPEG_BASELINE });
    expect(planInstance(instanceAcceptance(undefined), JPEG_BASELINE)).toEqual({ kind: 'transcode', transferSyntaxUid: EXPLICIT_LE });
    expect(planInstance(instanceAcceptance(undefined), EXPLICIT_LE)).toEqual({ kind: 'stored', transferSyntaxUid: EXPLICIT_LE });
  });

  it('takes the first acceptable syntax in preference order, and nothing it cannot produce', () => {
    const acceptance = instanceAcceptance(`multipart/related; type="application/dicom"; transfer-syntax=${JPEG_BASELINE}, multipart/related; type="application/dicom"; transfer-syntax=${JPEG_LS}; q=0.5`);
    expect(planInstance(acceptance, JPEG_BASELINE)).toEqual({ kind: 'stored', transferSyntaxUid: JPEG_BASELINE });
    expect(planInstance(acceptance, IMPLICIT_LE)).toEqual({ kind: 'transcode', transferSyntaxUid: JPEG_LS });
    expect(planInstance(instanceAcceptance(`multipart/related; type="application/dicom"; transfer-syntax=${JPEG_BASELINE}`), EXPLICIT_LE)).toBeUndefined();
    expect(planInstance(instanceAcceptance(undefined), MPEG2)).toBeUndefined();
  });

  it('refuses other media types (406) and malformed transfer-syntax parameters (400)', () => {
    expect(() => instanceAcceptance('application/json')).toThrow(expect.objectContaining({ statusCode: 406 }) as HttpError);
    expect(() => instanceAcceptance('multipart/related; type="image/jpeg"')).toThrow(/application\/dicom/);
    expect(() => instanceAcceptance('multipart/related; type="application/dicom"; transfer-syntax="../x"')).toThrow(expect.objectContaining({ statusCode: 400 }) as HttpError);
  });
});

describe('pixel data negotiation (frames, bulk data)', () => {
  it('sends native frames as stored bytes for octet-stream, and decodes compressed ones', () => {
    expect(planPixels('multipart/related; type="application/octet-stream"', EXPLICIT_LE)).toMatchObject({ action: 'stored', mediaType: 'application/octet-stream', transferSyntaxUid: EXPLICIT_LE });
    expect(planPixels('multipart/related; type="application/octet-stream"', IMPLICIT_LE)).toMatchObject({ action: 'stored', transferSyntaxUid: EXPLICIT_LE });
    expect(planPixels('multipart/related; type="application/octet-stream"', BIG_ENDIAN)).toMatchObject({ action: 'decode', transferSyntaxUid: EXPLICIT_LE });
    expect(planPixels('multipart/related; type="application/octet-stream"', JPEG_LS)).toMatchObject({ action: 'decode', transferSyntaxUid: EXPLICIT_LE });
  });

  it('keeps the stored syntax for transfer-syntax=* and */*', () => {
    expect(planPixels('multipart/related; type="application/octet-stream"; transfer-syntax=*', JPEG_LS)).toMatchObject({ action: 'stored', mediaType: 'application/octet-stream', transferSyntaxUid: JPEG_LS });
    expect(planPixels('*/*', JPEG_LS)).toMatchObject({ action: 'stored', mediaType: 'image/jls', transferSyntaxUid: JPEG_LS, multipart: true });
    expect(planPixels(undefined, EXPLICIT_LE)).toMatchObject({ action: 'stored', mediaType: 'application/octet-stream' });
  });

  it('honours compressed media types with their default syntax, encoding losslessly when needed', () => {
    expect(planPixels('multipart/related; type="image/jls"', JPEG_LS)).toMatchObject({ action: 'stored', mediaType: 'image/jls' });
    expect(planPixels('multipart/related; type="image/jls"', EXPLICIT_LE)).toMatchObject({ action: 'encode', transferSyntaxUid: JPEG_LS });
    expect(planPixels('multipart/related; type="image/jphc"', JPEG_BASELINE)).toMatchObject({ action: 'encode', transferSyntaxUid: HTJ2K_LOSSLESS });
    expect(planPixels('multipart/related; type="image/jpeg"', EXPLICIT_LE)).toBeUndefined();
    expect(planPixels('multipart/related; type="image/jpeg"; transfer-syntax=*', JPEG_BASELINE)).toMatchObject({ action: 'stored' });
    expect(planPixels('multipart/related; type="image/jpeg", multipart/related; type="application/octet-stream"; q=0.1', EXPLICIT_LE))
      .toMatchObject({ action: 'stored', mediaType: 'application/octet-stream' });
    expect(planPixels('multipart/related; type="video/mpeg"', MPEG2)).toBeUndefined();
  });

  it('refuses a transfer syntax its media type cannot carry (400)', () => {
    expect(() => planPixels(`multipart/related; type="image/jls"; transfer-syntax=${JPEG_BASELINE}`, EXPLICIT_LE)).toThrow(expect.objectContaining({ statusCode: 400 }) as HttpError);
  });

  it('allows a single body only for a bare media type', () => {
    expect(planPixels('application/octet-stream', EXPLICIT_LE)).toMatchObject({ multipart: false });
    expect(planPixels('image/jls', EXPLICIT_LE)).toMatchObject({ multipart: false, action: 'encode' });
  });
});
