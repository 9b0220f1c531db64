// Converts a stored object to another transfer syntax when a receiver accepts none of the stored
// ones (decompression to a native syntax, or between native syntaxes). The original is untouched.
import { Readable } from 'node:stream';
import { inflateRawSync } from 'node:zlib';
import { DatasetParser, ExplicitVRLittleEndian, transcodeDataset, transferSyntax, type ByteRange } from '@loire/dicom';
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

export class StorageTranscoder implements Transcoder {
  constructor(private readonly storage: ObjectStorage) {}

  async transcode(source: TranscodeSource, target: string): Promise<Readable> {
    // Conversion works on the whole object in memory: it is the exception (most peers accept
    // the stored syntax) and decoders need whole frames anyway.
    const file = await this.storage.readAll(source.storageKey);
    const start = datasetOffset(file);
    // A deflated dataset is inflated first, so that bulk data positions point into `bytes`.
    const deflated = transferSyntax(source.transferSyntaxUid)?.deflated === true;
    const bytes = deflated ? inflateRawSync(file.subarray(start)) : file;
    const syntax = deflated ? ExplicitVRLittleEndian : source.transferSyntaxUid;
    const parser = new DatasetParser({ transferSyntaxUid: syntax, startOffset: deflated ? 0 : start });
    parser.push(deflated ? bytes : bytes.subarray(start));
    const readBulk = (range: ByteRange): Uint8Array => bytes.subarray(range.offset, range.offset + range.length);
    const chunks = await transcodeDataset({ dataset: parser.end(), transferSyntaxUid: syntax, readBulk }, target);
    return Readable.from(chunks);
  }
}
