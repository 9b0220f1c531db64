// A stored object opened for reading parts of it (DICOMweb frames, bulk data, rendering): its
// data set parsed without bulk values, and those values read on demand by byte range.
import { inflateRawSync } from 'node:zlib';
import {
  decodeFrame, ExplicitVRLittleEndian, nativeFrame, nativeFrameCount, Part10Parser, pixelFormat,
  splitEncapsulatedFrames, transferSyntax, type ByteRange, type Dataset, type DecodedFrame, type PixelFormat,
} from '@loire/dicom';
import type { StorageRecord } from '../index/index.js';
import type { ObjectStorage } from '../storage/storage.js';

const PIXEL_DATA = 0x7fe00010;
const EXTENDED_OFFSET_TABLE = 0x7fe00001;
const NUMBER_OF_FRAMES = 0x00280008;

export interface StoredInstance {
  readonly record: StorageRecord;
  /** The syntax the data set is encoded in as read here (a deflated object is inflated first). */
  readonly transferSyntaxUid: string;
  readonly dataset: Dataset;
  /** A value the parser left in the object as bulk data. */
  readBulk(range: ByteRange): Promise<Uint8Array>;
}

/** Parses a stored object; bulk values stay on disk until readBulk() asks for them. */
export async function openStoredInstance(storage: ObjectStorage, record: StorageRecord): Promise<StoredInstance> {
  const deflated = transferSyntax(record.transferSyntaxUid)?.deflated === true;
  if (deflated) {
    // Positions in a deflated data set count inflated bytes: keep the inflated data set in memory.
    const file = await storage.readAll(record.storageKey);
    const probe = new Part10Parser();
    probe.push(file);
    const { datasetOffset } = probe.end();
    const inflated = inflateRawSync(file.subarray(datasetOffset));
    const parser = new Part10Parser();
    parser.push(inflated);
    const { dataset } = parser.end();
    return {
      record, transferSyntaxUid: ExplicitVRLittleEndian, dataset,
      readBulk: async (range) => inflated.subarray(range.offset, range.offset + range.length),
    };
  }
  const { dataset, transferSyntaxUid } = await parseSkippingBulk(storage, record.storageKey, record.size);
  return {
    record, transferSyntaxUid, dataset,
    readBulk: async (range) => {
      if (range.length === 0) return new Uint8Array(0);
      const chunks: Buffer[] = [];
      for await (const chunk of storage.read(record.storageKey, { start: range.offset, end: range.offset + range.length - 1 })) chunks.push(chunk as Buffer);
      return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    },
  };
}

const FIRST_READ = 64 * 1024;
const NEXT_READS = 1024 * 1024;

/**
 * Parses a stored object of `size` bytes reading only what the parser needs: bulk values (Pixel
 * Data, large fragments) are jumped over by position instead of read, so opening a 500 KiB CT
 * slice reads its header, not its pixels.
 */
export async function parseSkippingBulk(storage: ObjectStorage, key: string, size: number): Promise<{ dataset: Dataset; transferSyntaxUid: string }> {
  const parser = new Part10Parser();
  let position = 0;
  let readLength = FIRST_READ;
  while (position < size) {
    const end = Math.min(size, position + readLength) - 1;
    // The first read holds the header of most objects: read at once where the storage can.
    if (position === 0 && storage.readRangeSync) parser.push(storage.readRangeSync(key, { start: 0, end }));
    else for await (const chunk of storage.read(key, { start: position, end })) parser.push(chunk as Buffer);
    position = end + 1;
    readLength = NEXT_READS;
    const skip = Math.min(parser.skippable, size - position);
    if (skip > 0) {
      parser.skipAhead(skip);
      position += skip;
    }
  }
  const { dataset, transferSyntaxUid } = parser.end();
  return { dataset, transferSyntaxUid };
}

/** The frames of an image object, as stored (compressed bitstreams or native bytes) or decoded. */
export interface FrameSource {
  readonly format: PixelFormat;
  readonly numberOfFrames: number;
  readonly transferSyntaxUid: string;
  readonly encapsulated: boolean;
  /** Frame `index` (0-based) as stored: one compressed bitstream, or native bytes in the stored byte order. */
  storedFrame(index: number): Promise<Uint8Array>;
  /** Frame `index` (0-based) as native little-endian pixels, colour-by-pixel. */
  decodedFrame(index: number): Promise<DecodedFrame>;
}

/** The frame source of an opened instance, or undefined when it has no Pixel Data. */
export function frameSource(instance: StoredInstance): FrameSource | undefined {
  const pixel = instance.dataset.get(PIXEL_DATA);
  if (!pixel) return undefined;
  const format = pixelFormat(instance.dataset);
  const syntax = transferSyntax(instance.transferSyntaxUid);
  const encapsulated = syntax?.encapsulated === true || pixel.fragments !== undefined;
  const declaredFrames = Math.max(1, instance.dataset.number(NUMBER_OF_FRAMES) ?? 1);
  const readPixelData = (): Promise<Uint8Array> => (pixel.value ? Promise.resolve(pixel.value) : instance.readBulk(pixel.position!));
  let encapsulatedFrames: Promise<Uint8Array[]> | undefined;
  const storedFrame = async (index: number): Promise<Uint8Array> => {
    if (!Number.isInteger(index) || index < 0 || index >= declaredFrames) throw new RangeError(`frame ${index + 1} does not exist: the instance has ${declaredFrames}`);
    if (encapsulated) {
      encapsulatedFrames ??= (async () => {
        const eot = instance.dataset.get(EXTENDED_OFFSET_TABLE);
        const eotValue = eot ? eot.value ?? (eot.position ? await instance.readBulk(eot.position) : undefined) : undefined;
        return splitEncapsulatedFrames(await readPixelData(), {
          numberOfFrames: declaredFrames, transferSyntaxUid: instance.transferSyntaxUid,
          ...(eotValue ? { extendedOffsetTable: eotValue } : {}),
        });
      })();
      const frames = await encapsulatedFrames;
      const frame = frames[index];
      if (!frame) throw new RangeError(`frame ${index + 1} is missing from the encapsulated Pixel Data (${frames.length} found)`);
      return frame;
    }
    const length = Math.ceil((format.rows * format.columns * format.samplesPerPixel * format.bitsAllocated) / 8);
    if (pixel.value || format.bitsAllocated % 8 !== 0) {
      const value = await readPixelData();
      if (index >= nativeFrameCount(value, format)) throw new RangeError(`frame ${index + 1} is beyond the end of the Pixel Data`);
      return nativeFrame(value, index, format);
    }
    // Native byte-aligned frames: read just this frame's bytes.
    const position = pixel.position!;
    if ((index + 1) * length > position.length) throw new RangeError(`frame ${index + 1} is beyond the end of the Pixel Data`);
    return instance.readBulk({ offset: position.offset + index * length, length });
  };
  return {
    format, numberOfFrames: declaredFrames, transferSyntaxUid: instance.transferSyntaxUid, encapsulated,
    storedFrame,
    decodedFrame: async (index) => decodeFrame(instance.transferSyntaxUid, await storedFrame(index), format),
  };
}

/**
 * A bounded LRU of opened (parsed, bulk data left on disk) instances, keyed by storage key: a
 * stored object never changes under its key, so an entry cannot go stale. Viewers ask for the
 * frames of one instance in several requests; each after the first reads only frame bytes.
 */
export class OpenedInstances {
  private readonly entries = new Map<string, Promise<StoredInstance>>();

  constructor(private readonly storage: ObjectStorage, private readonly capacity = 512) {}

  open(record: StorageRecord): Promise<StoredInstance> {
    // A deflated object is held inflated in memory once opened: not worth keeping.
    if (transferSyntax(record.transferSyntaxUid)?.deflated) return openStoredInstance(this.storage, record);
    const cached = this.entries.get(record.storageKey);
    if (cached) {
      this.entries.delete(record.storageKey);
      this.entries.set(record.storageKey, cached);
      return cached;
    }
    const opening = openStoredInstance(this.storage, record);
    this.entries.set(record.storageKey, opening);
    opening.catch(() => this.entries.delete(record.storageKey));
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return opening;
  }
}
