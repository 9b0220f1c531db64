// Synthetic instances for robustness tests: many small distinct Secondary Capture images, and
// one very large multi-frame image whose pixel data is streamed to disk, never held in memory.
import { randomBytes } from 'node:crypto';
import { createWriteStream, writeFileSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { Dataset, encodeDataset, newUid, writePart10 } from '@loire/dicom';

export const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
export const MULTIFRAME_GRAYSCALE_WORD_SC = '1.2.840.10008.5.1.4.1.1.7.3';

export interface GeneratedInstance {
  file: string;
  studyUid: string;
  seriesUid: string;
  sopInstanceUid: string;
}

export { newUid };

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

export interface MultiframeShape {
  frames: number;
  rows: number;
  columns: number;
}

/**
 * The start of a multi-frame 16-bit grayscale image, explicit VR little endian: its attributes
 * and the header of its Pixel Data element, whose value (frames x rows x columns x 2 bytes) the
 * caller streams after it.
 */
export function multiframeHead(shape: MultiframeShape): { ids: Omit<GeneratedInstance, 'file'>; dataset: Dataset; pixelDataHeader: Buffer; pixelDataLength: number } {
  const ids = { studyUid: newUid(), seriesUid: newUid(), sopInstanceUid: newUid() };
  const dataset = imageHeader(MULTIFRAME_GRAYSCALE_WORD_SC, ids, 'ROBUSTLARGE');
  dataset.setString(0x00280008, 'IS', String(shape.frames));
  dataset.setString(0x00280010, 'US', String(shape.rows));
  dataset.setString(0x00280011, 'US', String(shape.columns));
  dataset.setString(0x00280100, 'US', '16');
  dataset.setString(0x00280101, 'US', '16');
  dataset.setString(0x00280102, 'US', '15');
  dataset.setString(0x00280103, 'US', '0');
  const pixelDataLength = shape.rows * shape.columns * 2 * shape.frames;
  if (pixelDataLength >= 0xffffffff) throw new Error(`pixel data of ${pixelDataLength} bytes does not fit a defined-length element`);
  // (7FE0,0010) OW, explicit VR little endian: tag, VR, 2 reserved bytes, 32-bit length.
  const pixelDataHeader = Buffer.alloc(12);
  pixelDataHeader.writeUInt16LE(0x7fe0, 0);
  pixelDataHeader.writeUInt16LE(0x0010, 2);
  pixelDataHeader.write('OW', 4, 'latin1');
  pixelDataHeader.writeUInt32LE(pixelDataLength, 8);
  return { ids, dataset, pixelDataHeader, pixelDataLength };
}

/** The attributes of a multi-frame image and its Pixel Data header, as a DIMSE dataset (no file meta). */
export function multiframeDatasetHead(shape: MultiframeShape): { ids: Omit<GeneratedInstance, 'file'>; bytes: Buffer; pixelDataLength: number } {
  const head = multiframeHead(shape);
  return { ids: head.ids, bytes: Buffer.concat([encodeDataset(head.dataset, { transferSyntaxUid: EXPLICIT_VR_LE }), head.pixelDataHeader]), pixelDataLength: head.pixelDataLength };
}

/**
 * Writes a multi-frame 16-bit grayscale image file: the header with the writer, then the pixel
 * data streamed frame by frame, so that a file of gigabytes never sits in memory.
 */
export async function writeLargeMultiframe(file: string, shape: MultiframeShape): Promise<GeneratedInstance> {
  const { ids, dataset, pixelDataHeader } = multiframeHead(shape);
  const frameBytes = shape.rows * shape.columns * 2;
  const out = createWriteStream(file);
  const write = async (chunk: Uint8Array): Promise<void> => {
    if (!out.write(chunk)) await once(out, 'drain');
  };
  await write(writePart10(dataset, { transferSyntaxUid: EXPLICIT_VR_LE }));
  await write(pixelDataHeader);
  for (let f = 0; f < shape.frames; f++) {
    // Each frame differs (shifted by its number) so that misplaced frames would show.
    const frame = Buffer.alloc(frameBytes);
    for (let i = 0; i < frameBytes; i += 2) frame.writeUInt16LE((i / 2 + f * 7) & 0xffff, i);
    await write(frame);
  }
  out.end();
  await once(out, 'finish');
  return { file, ...ids };
}
