// DICOM files (PS3.10 section 7): a 128-byte preamble, "DICM", the File Meta Information
// (group 0002, always Explicit VR Little Endian) and the data set in the transfer syntax the
// meta header names. Also reads files without preamble or meta header (old ACR-NEMA style
// files and raw data sets), detecting their syntax from the first element.
import { createReadStream } from 'node:fs';
import type { Dataset } from '../dataset.js';
import { Tag } from '../tag.js';
import { DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian, transferSyntax } from '../uids.js';
import { isVR } from '../vr.js';
import { DatasetParser, DEFAULT_BULK_DATA_THRESHOLD, DEFAULT_MAX_DEPTH, type ParseOptions } from './dataset-parser.js';
import { ElementParser } from './element-parser.js';
import { DicomParseError } from './errors.js';

export interface Part10 {
  /** The File Meta Information, undefined for a file without it. */
  meta: Dataset | undefined;
  dataset: Dataset;
  /** From the meta header, else the syntax detected from the first element. */
  transferSyntaxUid: string;
  /**
   * Absolute offset of the first byte of the data set. Element positions are absolute file
   * offsets, except in a deflated data set where they count inflated bytes from here.
   */
  datasetOffset: number;
}

export type Part10Options = Omit<ParseOptions, 'transferSyntaxUid' | 'startOffset'>;

const PREAMBLE = 128;
const MAGIC = [0x44, 0x49, 0x43, 0x4d]; // "DICM"
/** Bytes of the data set needed to detect its syntax. */
const SNIFF = 6;

/** Detects the syntax of a data set from its first element header (PS3.5 7.1). */
export function sniffTransferSyntax(b: Uint8Array): string {
  if (b.length < SNIFF) return ImplicitVRLittleEndian;
  const vrText = String.fromCharCode(b[4]!, b[5]!);
  const groupLE = b[0]! | (b[1]! << 8);
  // A big-endian group such as 0008 reads 0x0800 in little endian.
  if (isVR(vrText) && b[0] === 0 && b[1] !== 0) return ExplicitVRBigEndian;
  if (isVR(vrText) && groupLE !== 0xfffe) return ExplicitVRLittleEndian;
  return ImplicitVRLittleEndian;
}

function hasMagicAt(b: Uint8Array, at: number): boolean {
  return b.length >= at + 4 && MAGIC.every((m, i) => b[at + i] === m);
}

/**
 * A deflated data set starts with compressed bytes that may happen to look like a group 0002
 * tag: there, trust the group length. Elsewhere group lengths are often wrong and the first
 * tag outside group 0002 ends the meta header.
 */
function deflatedMetaEnd(meta: Dataset, metaStart: number, offset: number): boolean {
  const groupLength = meta.number(Tag.FileMetaInformationGroupLength);
  const ts = meta.string(Tag.TransferSyntaxUID);
  if (groupLength === undefined || !ts || !transferSyntax(ts)?.deflated) return false;
  return offset >= metaStart + 12 + groupLength;
}

type Phase = 'head' | 'meta' | 'sniff' | 'dataset';

/** Streaming reader of a Part 10 file (or of a bare data set): push() chunks, end() for the result. */
export class Part10Parser {
  private phase: Phase = 'head';
  private head: Uint8Array[] = [];
  private headLength = 0;
  private metaParser: ElementParser | undefined;
  private meta: Dataset | undefined;
  private datasetParser: DatasetParser | undefined;
  private transferSyntaxUid = '';
  private datasetOffset = 0;
  private readonly opts: Part10Options;

  constructor(opts: Part10Options = {}) {
    this.opts = opts;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    switch (this.phase) {
      case 'head':
      case 'sniff':
        this.head.push(chunk);
        this.headLength += chunk.length;
        if (this.phase === 'head' && this.headLength >= PREAMBLE + 4 + SNIFF) this.startMeta(this.takeHead());
        else if (this.phase === 'sniff' && this.headLength >= SNIFF) this.startDataset(this.takeHead());
        return;
      case 'meta':
        this.pushMeta(chunk);
        return;
      case 'dataset':
        this.datasetParser!.push(chunk);
    }
  }

  /** The File Meta Information once it is read: undefined before, and for a data set without one. */
  get fileMeta(): Dataset | undefined {
    return this.meta;
  }

  /**
   * Bytes of a bulk value (Pixel Data, a large fragment…) the parser would only skip: a caller reading
   * a file by position may jump over them with skipAhead(n) instead of pushing them. 0 in the meta header.
   */
  get skippable(): number {
    return this.phase === 'dataset' ? this.datasetParser!.skippable : 0;
  }

  skipAhead(n: number): void {
    if (this.phase !== 'dataset') throw new Error('skipAhead() before the data set');
    this.datasetParser!.skipAhead(n);
  }

  end(): Part10 {
    if (this.phase === 'head') this.startMeta(this.takeHead());
    if (this.phase === 'meta') this.finishMeta(new Uint8Array(0));
    if (this.phase === 'sniff') this.startDataset(this.takeHead());
    const dataset = this.datasetParser!.end();
    return { meta: this.meta, dataset, transferSyntaxUid: this.transferSyntaxUid, datasetOffset: this.datasetOffset };
  }

  private takeHead(): Uint8Array {
    const all = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head, this.headLength);
    this.head = [];
    this.headLength = 0;
    return all;
  }

  private startMeta(bytes: Uint8Array): void {
    let metaStart: number;
    if (hasMagicAt(bytes, PREAMBLE)) metaStart = PREAMBLE + 4;
    else if (hasMagicAt(bytes, 0)) metaStart = 4; // "DICM" without preamble
    else {
      this.phase = 'sniff';
      this.datasetOffset = 0;
      this.startDataset(bytes);
      return;
    }
    // The meta header must be Explicit VR LE; some old writers used implicit VR: detect it.
    const metaSyntax = sniffTransferSyntax(bytes.subarray(metaStart)) === ImplicitVRLittleEndian
      ? { explicitVR: false, littleEndian: true } : { explicitVR: true, littleEndian: true };
    this.metaParser = new ElementParser({
      syntax: metaSyntax,
      // Meta values are always kept (the reader needs the transfer syntax), whatever the caller's threshold.
      bulkDataThreshold: DEFAULT_BULK_DATA_THRESHOLD,
      maxDepth: this.opts.maxDepth ?? DEFAULT_MAX_DEPTH,
      startOffset: metaStart,
      stopBefore: (tag, offset, meta) => tag >>> 16 !== 0x0002 || deflatedMetaEnd(meta, metaStart, offset),
    });
    this.phase = 'meta';
    this.pushMeta(bytes.subarray(metaStart));
  }

  private pushMeta(chunk: Uint8Array): void {
    const parser = this.metaParser!;
    parser.push(chunk);
    if (parser.stopped) this.finishMeta(parser.unconsumed());
  }

  private finishMeta(rest: Uint8Array): void {
    const parser = this.metaParser!;
    // Not stopped: the file ends within or right after the meta header (end() checks truncation).
    this.meta = parser.stopped ? parser.root : parser.end();
    this.datasetOffset = parser.offset;
    this.metaParser = undefined;
    this.phase = 'sniff';
    this.head = rest.length ? [rest.slice()] : [];
    this.headLength = rest.length;
    if (this.headLength >= SNIFF) this.startDataset(this.takeHead());
  }

  /** Chooses the data set's syntax (meta header, else detection) and starts its parser. */
  private startDataset(first: Uint8Array): void {
    const declared = this.meta?.string(Tag.TransferSyntaxUID)?.replace(/\0/g, '');
    const sniffed = sniffTransferSyntax(first);
    let parseAs: string;
    if (!declared) {
      parseAs = sniffed;
    } else {
      const ts = transferSyntax(declared);
      const deflated = declared === DeflatedExplicitVRLittleEndian || ts?.deflated === true;
      // Some writers declare one VR encoding and use the other: believe the bytes when they disagree.
      if (!deflated && first.length >= SNIFF && (ts?.explicitVR ?? true) && sniffed === ImplicitVRLittleEndian) parseAs = ImplicitVRLittleEndian;
      else if (!deflated && first.length >= SNIFF && ts?.explicitVR === false && sniffed === ExplicitVRLittleEndian) parseAs = ExplicitVRLittleEndian;
      else parseAs = declared;
    }
    this.transferSyntaxUid = declared || sniffed;
    this.datasetParser = new DatasetParser({ ...this.opts, transferSyntaxUid: parseAs, startOffset: this.datasetOffset });
    this.phase = 'dataset';
    if (first.length) this.datasetParser.push(first);
  }
}

/** Parses a whole Part 10 file (or bare data set) held in memory. */
export function parsePart10(bytes: Uint8Array, opts?: Part10Options): Part10 {
  const p = new Part10Parser(opts);
  p.push(bytes);
  return p.end();
}

/** Streams a file from disk through the parser; bulk values are left in the file (see positions). */
export async function readPart10File(path: string, opts?: Part10Options): Promise<Part10> {
  const p = new Part10Parser(opts);
  const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
  for await (const chunk of stream) p.push(chunk as Buffer);
  return p.end();
}

export { DicomParseError };
