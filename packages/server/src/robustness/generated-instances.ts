// Synthetic instances for robustness tests: many small distinct Secondary Capture images, and
// one very large multi-frame image whose pixel data is streamed to disk, never held in memory.
import { randomBytes } from 'node:crypto';
import { createWriteStream, writeFileSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { Dataset, writePart10 } from '@loire/dicom';

const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
const MULTIFRAME_GRAYSCALE_WORD_SC = '1.2.840.10008.5.1.4.1.1.7.3';

export interface GeneratedInstance {
  file: string;
  studyUid: string;
  seriesUid: string;
  sopInstanceUid: string;
}

/** A fresh UID under the UUID-derived root 2.25 (PS3.5 B.2). */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomBytes(16).toString('hex')}`).toString()}`;
}

function imageHeader(sopClassUid: string, ids: { studyUid: string; seriesUid: string; sopInstanceUid: string }, patientId: string): Dataset {
  const ds = new Dataset({ explicitVR: true, littleEndian: true });
  ds.setString(0x00080016, 'UI', sopClassUid);
  ds.setString(0x00080018, 'UI', ids.sopInstanceUid);
  ds.setString(0x00080060, 'CS', 'OT');
  ds.setString(0x00100010, 'PN', 'ROBUSTNESS^TEST');
  ds.setString(0x00100020, 'LO', patientId);
  ds.setString(0x0020000d, 'UI', ids.studyUid);
  ds.setString(0x0020000e, 'UI', ids.seriesUid);
  ds.setString(0x00280002, 'US', '1');
  ds.setString(0x00280004, 'CS', 'MONOCHROME2');
  return ds;
}

/**
 * Writes `count` distinct 32x32 8-bit images of one study and series into `dir` (explicit VR
 * little endian, each with its own SOP Instance UID and pixel values).
 */
export function writeSmallInstances(dir: string, count: number, patientId = 'ROBUST1'): GeneratedInstance[] {
  const studyUid = newUid();
  const seriesUid = newUid();
  const instances: GeneratedInstance[] = [];
  for (let i = 0; i < count; i++) {
    const sopInstanceUid = newUid();
    const ds = imageHeader(SECONDARY_CAPTURE, { studyUid, seriesUid, sopInstanceUid }, patientId);
    ds.setString(0x00200013, 'IS', String(i + 1));
    ds.setString(0x00280010, 'US', '32');
    ds.setString(0x00280011, 'US', '32');
    ds.setString(0x00280100, 'US', '8');
    ds.setString(0x00280101, 'US', '8');
    ds.setString(0x00280102, 'US', '7');
    ds.setString(0x00280103, 'US', '0');
    ds.setBytes(0x7fe00010, 'OB', randomBytes(32 * 32));
    const file = path.join(dir, `${String(i).padStart(5, '0')}.dcm`);
    writeFileSync(file, writePart10(ds, { transferSyntaxUid: EXPLICIT_VR_LE }));
    instances.push({ file, studyUid, seriesUid, sopInstanceUid });
  }
  return instances;
}

/**
 * Writes a multi-frame 16-bit grayscale image of `frames` frames of rows x columns: the header
 * with the writer, then the Pixel Data element header and its value streamed frame by frame.
 */
export async function writeLargeMultiframe(file: string, shape: { frames: number; rows: number; columns: number }): Promise<GeneratedInstance> {
  const ids = { studyUid: newUid(), seriesUid: newUid(), sopInstanceUid: newUid() };
  const ds = imageHeader(MULTIFRAME_GRAYSCALE_WORD_SC, ids, 'ROBUSTLARGE');
  ds.setString(0x00280008, 'IS', String(shape.frames));
  ds.setString(0x00280010, 'US', String(shape.rows));
  ds.setString(0x00280011, 'US', String(shape.columns));
  ds.setString(0x00280100, 'US', '16');
  ds.setString(0x00280101, 'US', '16');
  ds.setString(0x00280102, 'US', '15');
  ds.setString(0x00280103, 'US', '0');
  const frameBytes = shape.rows * shape.columns * 2;
  const pixelLength = frameBytes * shape.frames;
  if (pixelLength >= 0xffffffff) throw new Error(`pixel data of ${pixelLength} bytes does not fit a defined-length element`);
  // (7FE0,0010) OW, explicit VR little endian: tag, VR, 2 reserved bytes, 32-bit length.
  const pixelHeader = Buffer.alloc(12);
  pixelHeader.writeUInt16LE(0x7fe0, 0);
  pixelHeader.writeUInt16LE(0x0010, 2);
  pixelHeader.write('OW', 4, 'latin1');
  pixelHeader.writeUInt32LE(pixelLength, 8);

  const out = createWriteStream(file);
  const write = async (chunk: Uint8Array): Promise<void> => {
    if (!out.write(chunk)) await once(out, 'drain');
  };
  await write(writePart10(ds, { transferSyntaxUid: EXPLICIT_VR_LE }));
  await write(pixelHeader);
  const frame = Buffer.alloc(frameBytes);
  for (let f = 0; f < shape.frames; f++) {
    // Each frame differs (a frame number stamped in, over a gradient) so misplaced frames would show.
    for (let i = 0; i < frameBytes; i += 2) frame.writeUInt16LE((i / 2 + f * 7) & 0xffff, i);
    await write(Buffer.from(frame));
  }
  out.end();
  await once(out, 'finish');
  return { file, ...ids };
}
