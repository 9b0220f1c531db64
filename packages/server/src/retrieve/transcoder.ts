// Converts a stored object to another transfer syntax when a receiver accepts none of the
// stored ones. Lossless conversions only: decompression to a native syntax, or between native syntaxes.
import { Readable } from 'node:stream';
import {
  DatasetParser, encodeDatasetChunks, transferSyntax, type ByteRange,
} from '@loire/dicom';
import type { ObjectStorage } from '../storage/storage.js';
import { datasetOffset } from './stored-dataset.js';

export interface TranscodeSource {
  sopInstanceUid: string;
  storageKey: string;
  size: number;
  transferSyntaxUid: string;
}

export interface Transcoder {
  /** The dataset (no file meta) encoded in `targetTransferSyntaxUid`. */
  transcode(source: TranscodeSource, targetTransferSyntaxUid: string): Promise<Readable>;
}

export class TranscodeError extends Error {
  override name = 'TranscodeError';
}

export class StorageTranscoder implements Transcoder {
  constructor(private readonly storage: ObjectStorage) {}

  async transcode(source: TranscodeSource, target: string): Promise<Readable> {
    const from = transferSyntax(source.transferSyntaxUid);
    const to = transferSyntax(target);
    if (!from || !to) throw new TranscodeError(`unknown transfer syntax ${from ? target : source.transferSyntaxUid}`);
    if (to.encapsulated) throw new TranscodeError(`compressing to ${to.name} on retrieval is not supported`);
    const bytes = await this.storage.readAll(source.storageKey);
    const start = datasetOffset(bytes);
    const parser = new DatasetParser({ transferSyntaxUid: source.transferSyntaxUid, startOffset: start, bulkDataThreshold: Number.MAX_SAFE_INTEGER });
    parser.push(bytes.subarray(start));
    const dataset = parser.end();
    if (from.encapsulated) {
      throw new TranscodeError(`decompressing ${from.name} on retrieval is not available yet`);
    }
    const readBulk = (range: ByteRange): Uint8Array => bytes.subarray(range.offset, range.offset + range.length);
    return Readable.from(encodeDatasetChunks(dataset, { transferSyntaxUid: target, readBulk }));
  }
}
