// Instance metadata is stored compressed. Measured on the sample set: DICOM JSON without bulk
// data averages ~33 kB per instance (enhanced multi-frame objects dominate) and raw deflate
// shrinks it 5-6x for ~0.1-0.25 ms per instance; at hundreds of millions of instances that is
// the difference between terabytes and hundreds of gigabytes of index.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { DicomJson } from './dicom-json.js';

/**
 * The document of an instance whose metadata is still to be made (see metadata-filler.ts). No
 * encoded document is empty: raw deflate of even an empty text takes two bytes.
 */
export const METADATA_TO_MAKE: Buffer = Buffer.alloc(0);

export function encodeMetadata(json: DicomJson): Buffer {
  // This runs on the ingest path. Level 1 with a 4 KiB window compresses DICOM JSON nearly as
  // well as the defaults, and the smaller state makes a call several times cheaper for the
  // few-kilobyte documents of ordinary images.
  return deflateRawSync(Buffer.from(JSON.stringify(json), 'utf8'), { level: 1, windowBits: 12, memLevel: 6 });
}

export function decodeMetadata(stored: Uint8Array): DicomJson {
  return JSON.parse(decodeMetadataText(stored)) as DicomJson;
}

/**
 * The stored DICOM JSON as text, for adapters that pass it on without parsing it. A document
 * still to make reads as empty: what an index opened without storage (a tool, a test) sees of
 * an instance just ingested; the server makes it before any read (see metadata-filler.ts).
 */
export function decodeMetadataText(stored: Uint8Array): string {
  if (stored.length === 0) return '{}';
  return inflateRawSync(stored).toString('utf8');
}
