import { describe, expect, it } from 'vitest';
import { classifyFile, classifyHead, MediaStorageDirectorySopClass } from './file-kind.js';
import { sampleManifest, samplePath } from '../testing/samples.js';

describe('classifyFile', () => {
  it('keeps every DICOM sample for ingest, skips DICOMDIRs, and sets aside only files the manifest says are not DICOM', async () => {
    const wrong: string[] = [];
    for (const entry of sampleManifest()) {
      const kind = await classifyFile(samplePath(entry));
      const expected = !entry.isDicom ? 'not-dicom' : entry.sopClassUID === MediaStorageDirectorySopClass ? 'dicomdir' : 'dicom';
      // A non-DICOM file that starts like a data set is left to the parser, which rejects it.
      if (kind !== expected && !(expected === 'not-dicom' && kind === 'dicom')) wrong.push(`${entry.path}: ${kind}, expected ${expected}`);
    }
    expect(wrong).toEqual([]);
  }, 60_000);

  it('sets aside the HTML, JPEG and text files of a patient CD', async () => {
    const cd = 'media-cd/furuhashi-mr-20180107-wakasa-cd';
    expect(await classifyFile(samplePath(`${cd}/index.html`))).toBe('not-dicom');
    expect(await classifyFile(samplePath(`${cd}/LBLPRINT.JPG`))).toBe('not-dicom');
    expect(await classifyFile(samplePath(`${cd}/README.TXT`))).toBe('not-dicom');
    expect(await classifyFile(samplePath(`${cd}/DICOMDIR`))).toBe('dicomdir');
    expect(await classifyFile(samplePath(`${cd}/DCMDT/D0000000`))).toBe('dicom');
  });

  it('reads a bare data set (no preamble, no meta) as DICOM and tiny files as not DICOM', () => {
    // (0008,0005) CS "ISO_IR 100", explicit VR little endian.
    expect(classifyHead(Buffer.from('08000500435310004953', 'hex'))).toBe('dicom');
    // The same element in big endian.
    expect(classifyHead(Buffer.from('00080005435300104953', 'hex'))).toBe('dicom');
    expect(classifyHead(Buffer.from('abc'))).toBe('not-dicom');
  });
});
