// The public push parser of one encoded data set in a given transfer syntax.
import type { Dataset } from '../dataset.js';
import { transferSyntax } from '../uids.js';
import { ElementParser } from './element-parser.js';
import { DicomParseError } from './errors.js';
import { RawInflater } from './inflate.js';

export interface ParseOptions {
  /** Transfer syntax of the data set (for Part 10 files the reader takes it from the meta header). */
  transferSyntaxUid: string;
  /** Values longer than this (default 65536 bytes) are not kept, only their position. Pixel data is always bulk. */
  bulkDataThreshold?: number;
  /** Sequence nesting limit (default 64); deeper nesting is a DicomParseError. */
  maxDepth?: number;
  /** Absolute offset of the first byte pushed (default 0). */
  startOffset?: number;
}

export const DEFAULT_BULK_DATA_THRESHOLD = 65536;
export const DEFAULT_MAX_DEPTH = 64;

/** Encoding of a transfer syntax, or of an unknown one: explicit VR little endian (all compressed syntaxes). */
export function syntaxOf(uid: string): { explicitVR: boolean; littleEndian: boolean; deflated: boolean } {
  const ts = transferSyntax(uid);
  if (!ts) return { explicitVR: true, littleEndian: true, deflated: false };
  return { explicitVR: ts.explicitVR, littleEndian: ts.littleEndian, deflated: ts.deflated };
}

/**
 * Incremental parser: push() chunks as they arrive, end() returns the data set.
 * For the deflated syntax the pushed bytes are the deflate stream and the recorded
 * positions (ByteRange) are offsets in the INFLATED stream, counted from startOffset:
 * bulk data of a deflated data set cannot be read back from the file by position.
 */
export class DatasetParser {
  private readonly parser: ElementParser;
  private readonly inflater: RawInflater | undefined;

  constructor(opts: ParseOptions) {
    const syntax = syntaxOf(opts.transferSyntaxUid);
    const startOffset = opts.startOffset ?? 0;
    this.parser = new ElementParser({
      syntax,
      bulkDataThreshold: opts.bulkDataThreshold ?? DEFAULT_BULK_DATA_THRESHOLD,
      maxDepth: opts.maxDepth ?? DEFAULT_MAX_DEPTH,
      startOffset,
    });
    this.inflater = syntax.deflated ? new RawInflater(startOffset) : undefined;
  }

  push(chunk: Uint8Array): void {
    if (this.inflater) this.inflater.push(chunk, (out) => this.parser.push(out));
    else this.parser.push(chunk);
  }

  /** Bytes of a bulk value that may be skipped with skipAhead() rather than pushed (never for a deflated data set). */
  get skippable(): number {
    return this.inflater ? 0 : this.parser.skippable;
  }

  skipAhead(n: number): void {
    if (this.inflater) throw new Error('skipAhead() on a deflated data set');
    this.parser.skipAhead(n);
  }

  /** The parsed data set; throws DicomParseError if the input was truncated. */
  end(): Dataset {
    this.inflater?.end();
    return this.parser.end();
  }
}

export { DicomParseError };
