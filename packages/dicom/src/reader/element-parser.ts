// The incremental decoder of an encoded data set (PS3.5 section 7): a push state machine with
// an explicit stack of open sequences and items, so nesting costs heap, not call stack.
// It keeps only the current element's header (a leftover of under 12 bytes between chunks)
// and non-bulk values; bulk values are skipped and only their position is recorded.
import { Dataset, UNDEFINED_LENGTH, type ByteRange, type DataElement, type Syntax, type VR } from '../dataset.js';
import { isPixelDataTag, Tag, tagString } from '../tag.js';
import { hasLongExplicitLengthBytes, vrOfBytes } from '../vr.js';
import { DicomParseError } from './errors.js';
import { implicitVR } from './implicit-vr.js';

export interface ElementParserOptions {
  readonly syntax: Syntax;
  readonly bulkDataThreshold: number;
  readonly maxDepth: number;
  readonly startOffset: number;
  /** Stop before the first top-level element for which this returns true (used for the meta header). */
  readonly stopBefore?: (tag: number, offset: number, dataset: Dataset) => boolean;
}

const IMPLICIT_LE: Syntax = { explicitVR: false, littleEndian: true };
/**
 * Kept values are copied into shared blocks, the first of this many bytes, each next one twice
 * the size up to MAX_VALUE_BLOCK: one allocation for many small values (a separate copy of each
 * cost an allocation per element), and still no value pins the chunk it came in.
 */
const FIRST_VALUE_BLOCK = 1024;
const MAX_VALUE_BLOCK = 16384;
const NO_END = -1;

interface DatasetFrame {
  readonly kind: 'dataset';
  readonly dataset: Dataset;
  readonly syntax: Syntax;
  /** Absolute end offset of a defined-length item, NO_END otherwise. */
  readonly end: number;
  /** Nearest defined end of this frame or any enclosing one: nothing may run past it. */
  readonly limit: number;
}

interface SequenceFrame {
  readonly kind: 'sequence';
  readonly tag: number;
  readonly length: number;
  readonly valueOffset: number;
  readonly items: Dataset[];
  /** Syntax of the items (implicit VR LE for a UN sequence, PS3.5 6.2.2). */
  readonly syntax: Syntax;
  readonly owner: Dataset;
  readonly end: number;
  readonly limit: number;
}

interface FragmentsFrame {
  readonly kind: 'fragments';
  readonly tag: number;
  readonly vr: VR;
  readonly valueOffset: number;
  readonly fragments: ByteRange[];
  readonly owner: Dataset;
  readonly limit: number;
}

type Frame = DatasetFrame | SequenceFrame | FragmentsFrame;

interface PendingValue {
  readonly tag: number;
  readonly vr: VR;
  readonly length: number;
  readonly offset: number;
  readonly owner: Dataset;
  /** Whether the value is kept (false: bulk data, only its position is recorded). */
  readonly keep: boolean;
}

type State = 'header' | 'value' | 'skip' | 'stopped';

export class ElementParser {
  readonly root: Dataset;
  private readonly opts: ElementParserOptions;
  private readonly stack: Frame[];
  private sequenceDepth = 0;
  private state: State = 'header';

  /** Current chunk (possibly a small leftover joined with the new chunk) and read position. */
  private buf: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(this.buf.buffer);
  private pos = 0;
  /** Absolute offset of buf[0]. */
  private bufStart: number;

  private pending: PendingValue | undefined;
  private pieces: Uint8Array[] = [];
  /** Where the values of this data set are copied (see FIRST_VALUE_BLOCK). */
  private block = new Uint8Array(0);
  private blockUsed = 0;
  private remaining = 0;

  constructor(opts: ElementParserOptions) {
    this.opts = opts;
    this.bufStart = opts.startOffset;
    this.root = new Dataset(opts.syntax);
    this.stack = [{ kind: 'dataset', dataset: this.root, syntax: opts.syntax, end: NO_END, limit: NO_END }];
  }

  get stopped(): boolean { return this.state === 'stopped'; }

  /** Absolute offset of the next unread byte. */
  get offset(): number { return this.bufStart + this.pos; }

  /** Bytes pushed but not consumed (after a stop). */
  unconsumed(): Uint8Array { return this.buf.subarray(this.pos); }

  /**
   * Bytes of a bulk value (or fragment) still to be skipped beyond what was pushed: a caller
   * reading from a random-access source may jump over them with skipAhead() instead of pushing them.
   */
  get skippable(): number {
    return this.state === 'skip' && this.pos === this.buf.length ? this.remaining : 0;
  }

  /** Advances over `n` (at most `skippable`) bytes of the value being skipped, without reading them. */
  skipAhead(n: number): void {
    if (n <= 0) return;
    if (n > this.skippable) throw new Error(`skipAhead(${n}) beyond the ${this.skippable} skippable bytes`);
    const offset = this.offset + n;
    this.remaining -= n;
    this.setBuffer(new Uint8Array(0), offset);
    this.run();
  }

  push(chunk: Uint8Array): void {
    if (this.state === 'stopped') throw new Error('push() after the parser stopped');
    if (chunk.length === 0) return;
    const left = this.buf.length - this.pos;
    if (left === 0) {
      this.setBuffer(chunk, this.offset);
      this.run();
      return;
    }
    // A header straddles the chunks (under 12 bytes left): join it with just enough of the new
    // chunk to read it, instead of copying the whole chunk.
    const k = Math.min(chunk.length, 16 - left);
    const small = new Uint8Array(left + k);
    small.set(this.buf.subarray(this.pos));
    small.set(chunk.subarray(0, k), left);
    this.setBuffer(small, this.offset);
    this.run();
    const unread = small.length - this.pos;
    if (this.stopped) {
      const rest = new Uint8Array(unread + chunk.length - k);
      rest.set(small.subarray(this.pos));
      rest.set(chunk.subarray(k), unread);
      this.setBuffer(rest, this.offset);
    } else if (unread <= k) {
      // The unread bytes of the small buffer are the chunk's own bytes: continue in the chunk.
      this.setBuffer(chunk.subarray(k - unread), this.offset);
      this.run();
    } // else the whole chunk was too short to complete the header: keep waiting
  }

  /** Finishes parsing; throws DicomParseError if the input stopped inside an element. */
  end(): Dataset {
    if (this.state === 'stopped') return this.root;
    if (this.state === 'value' || this.state === 'skip') {
      const p = this.pending;
      const what = p ? `the value of ${tagString(p.tag)} (${p.length} bytes declared at offset ${p.offset})` : 'a fragment';
      throw new DicomParseError(`Data set is truncated: input ended inside ${what}`, this.offset);
    }
    this.closeFinishedFrames();
    const left = this.buf.length - this.pos;
    if (left > 0) throw new DicomParseError(`Data set is truncated: ${left} trailing bytes do not form an element header`, this.offset);
    if (this.stack.length > 1) {
      const top = this.stack[this.stack.length - 1]!;
      throw new DicomParseError(`Data set is truncated: input ended inside ${describeFrame(top)}`, this.offset);
    }
    return this.root;
  }

  private setBuffer(b: Uint8Array, absolute: number): void {
    this.buf = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.pos = 0;
    this.bufStart = absolute;
  }

  private run(): void {
    for (;;) {
      if (this.state === 'header') {
        if (!this.readHeader()) return;
      } else if (this.state === 'value') {
        if (!this.readValue()) return;
      } else if (this.state === 'skip') {
        if (!this.skipValue()) return;
      } else {
        return;
      }
    }
  }

  private top(): Frame { return this.stack[this.stack.length - 1]!; }

  private u16(at: number, le: boolean): number { return this.view.getUint16(this.pos + at, le); }
  private u32(at: number, le: boolean): number { return this.view.getUint32(this.pos + at, le); }
  private readTag(le: boolean): number { return (this.u16(0, le) * 0x10000 + this.u16(2, le)) >>> 0; }

  /** Pops frames whose defined length has been fully read. */
  private closeFinishedFrames(): void {
    for (;;) {
      const f = this.top();
      if (f.kind === 'fragments' || f.end === NO_END || this.offset < f.end) return;
      this.popFrame();
    }
  }

  /** Reads one header in the current frame; false when more input is needed. */
  private readHeader(): boolean {
    this.closeFinishedFrames();
    const frame = this.top();
    const avail = this.buf.length - this.pos;
    if (avail < 8) return false;
    const le = frame.kind === 'dataset' || frame.kind === 'sequence' ? frame.syntax.littleEndian : this.itemByteOrder(frame);
    const tag = this.readTag(le);
    if (frame.kind === 'sequence') return this.readSequenceHeader(frame, tag, this.u32(4, le));
    if (frame.kind === 'fragments') return this.readFragmentHeader(frame, tag, this.u32(4, le));
    if (tag >>> 16 === 0xfffe) return this.readDelimiterInDataset(frame, tag);
    if (frame === this.stack[0] && this.opts.stopBefore?.(tag, this.offset, frame.dataset)) {
      this.state = 'stopped';
      return false;
    }
    let vr: VR;
    let length: number;
    let headerLength: number;
    if (frame.syntax.explicitVR) {
      const c0 = this.buf[this.pos + 4]!;
      const c1 = this.buf[this.pos + 5]!;
      const known = vrOfBytes(c0, c1);
      if (known !== undefined) vr = known;
      else if (c0 >= 0x41 && c0 <= 0x5a && c1 >= 0x41 && c1 <= 0x5a) vr = 'UN'; // a VR newer than this code: 4-byte length form
      else throw new DicomParseError(`Invalid VR bytes 0x${hex2(c0)}${hex2(c1)} for element ${tagString(tag)}: the data set is not in the transfer syntax it declares, or is corrupt`, this.offset);
      if (known === undefined || hasLongExplicitLengthBytes(c0, c1)) {
        if (avail < 12) return false;
        length = this.u32(8, le);
        headerLength = 12;
      } else {
        length = this.u16(6, le);
        headerLength = 8;
      }
    } else {
      vr = implicitVR(tag, frame.dataset);
      length = this.u32(4, le);
      headerLength = 8;
    }
    const headerOffset = this.offset;
    this.pos += headerLength;
    this.startElement(frame, tag, vr, length, headerOffset);
    return true;
  }

  /** Item tags carry no VR: they use the byte order of the enclosing data set. */
  private itemByteOrder(frame: FragmentsFrame): boolean {
    return frame.owner.littleEndian;
  }

  private startElement(frame: DatasetFrame, tag: number, vr: VR, length: number, headerOffset: number): void {
    const valueOffset = this.offset;
    if (length === UNDEFINED_LENGTH) {
      if (vr === 'SQ' || (vr === 'UN' && !isPixelDataTag(tag))) {
        // An undefined-length UN holds a sequence encoded in Implicit VR Little Endian (PS3.5 6.2.2).
        this.pushSequence(frame, tag, length, valueOffset, vr === 'UN' ? IMPLICIT_LE : frame.syntax);
        return;
      }
      if (vr === 'OB' || vr === 'OW' || vr === 'UN' || isPixelDataTag(tag)) {
        this.stack.push({ kind: 'fragments', tag, vr: vr === 'UN' ? 'OB' : vr, valueOffset, fragments: [], owner: frame.dataset, limit: frame.limit });
        return;
      }
      throw new DicomParseError(`Element ${tagString(tag)} with VR ${vr} has an undefined length, which only SQ, OB, OW and UN may have`, headerOffset);
    }
    this.checkFits(frame.limit, valueOffset, length, 'value', tag, headerOffset);
    if (vr === 'SQ') {
      this.pushSequence(frame, tag, length, valueOffset, frame.syntax);
      return;
    }
    const keep = !isPixelDataTag(tag) && length <= this.opts.bulkDataThreshold;
    this.pending = { tag, vr, length, offset: valueOffset, owner: frame.dataset, keep };
    this.remaining = length;
    this.pieces = [];
    this.state = keep ? 'value' : 'skip';
  }

  /** Throws when a value of `length` bytes at `valueOffset` runs past `limit`. The message is made only then: once per element, it was a cost. */
  private checkFits(limit: number, valueOffset: number, length: number, kind: 'value' | 'item' | 'fragment' | 'stray item', tag: number | undefined, at: number): void {
    if (limit === NO_END || valueOffset + length <= limit) return;
    const of = tag === undefined ? '' : tagString(tag);
    const what = kind === 'value' ? `the value of ${of}` : kind === 'item' ? `an item of ${of}` : kind === 'fragment' ? `a fragment of ${of}` : 'an item outside any sequence';
    throw new DicomParseError(`Length of ${what} (${length} bytes) runs past the end of its enclosing item or sequence`, at);
  }

  private pushSequence(frame: DatasetFrame, tag: number, length: number, valueOffset: number, syntax: Syntax): void {
    if (this.sequenceDepth >= this.opts.maxDepth) {
      throw new DicomParseError(`Sequences are nested deeper than the limit of ${this.opts.maxDepth} at ${tagString(tag)}`, valueOffset);
    }
    this.sequenceDepth++;
    const end = length === UNDEFINED_LENGTH ? NO_END : valueOffset + length;
    this.stack.push({
      kind: 'sequence', tag, length, valueOffset, items: [], syntax, owner: frame.dataset, end,
      limit: end === NO_END ? frame.limit : end,
    });
  }

  private readSequenceHeader(frame: SequenceFrame, tag: number, length: number): boolean {
    const at = this.offset;
    if (tag === Tag.Item) {
      this.pos += 8;
      const end = length === UNDEFINED_LENGTH ? NO_END : this.offset + length;
      if (end !== NO_END) this.checkFits(frame.limit, this.offset, length, 'item', frame.tag, at);
      this.stack.push({
        kind: 'dataset', dataset: new Dataset(frame.syntax, frame.owner), syntax: frame.syntax, end,
        limit: end === NO_END ? frame.limit : end,
      });
      return true;
    }
    if (tag === Tag.SequenceDelimitationItem) {
      this.pos += 8;
      this.popFrame();
      return true;
    }
    if (tag === Tag.ItemDelimitationItem) {
      this.pos += 8; // a stray item delimiter after a defined-length item: harmless
      return true;
    }
    throw new DicomParseError(`Expected an item in sequence ${tagString(frame.tag)} but found ${tagString(tag)}`, at);
  }

  private readFragmentHeader(frame: FragmentsFrame, tag: number, length: number): boolean {
    const at = this.offset;
    if (tag === Tag.Item) {
      if (length === UNDEFINED_LENGTH) throw new DicomParseError(`A fragment of ${tagString(frame.tag)} has an undefined length`, at);
      this.pos += 8;
      this.checkFits(frame.limit, this.offset, length, 'fragment', frame.tag, at);
      frame.fragments.push({ offset: this.offset, length });
      this.pending = undefined;
      this.remaining = length;
      this.state = 'skip';
      return true;
    }
    if (tag === Tag.SequenceDelimitationItem) {
      this.pos += 8;
      this.popFrame();
      return true;
    }
    throw new DicomParseError(`Expected a fragment item in encapsulated ${tagString(frame.tag)} but found ${tagString(tag)}`, at);
  }

  /** Delimiters met where an element is expected. */
  private readDelimiterInDataset(frame: DatasetFrame, tag: number): boolean {
    const at = this.offset;
    if (tag === Tag.Item) {
      // An item whose sequence header is missing (seen from real ultrasound devices): skip it whole.
      const length = this.u32(4, frame.syntax.littleEndian);
      if (length === UNDEFINED_LENGTH) throw new DicomParseError('Found an item (FFFE,E000) of undefined length outside any sequence', at);
      this.pos += 8;
      this.checkFits(frame.limit, this.offset, length, 'stray item', undefined, at);
      this.pending = undefined;
      this.remaining = length;
      this.state = 'skip';
      return true;
    }
    this.pos += 8;
    if (frame === this.stack[0]) return true; // stray delimiter at top level: tolerated, like other toolkits
    if (tag === Tag.ItemDelimitationItem) {
      if (frame.end === NO_END) this.popFrame();
      return true; // in a defined-length item it is redundant
    }
    if (tag === Tag.SequenceDelimitationItem && frame.end === NO_END) {
      // The item delimiter is missing: the sequence delimiter closes both.
      this.popFrame();
      if (this.top().kind === 'sequence') this.popFrame();
      return true;
    }
    return true;
  }

  private popFrame(): void {
    const frame = this.stack.pop()!;
    const parent = this.top();
    if (frame.kind === 'dataset') {
      if (parent.kind === 'sequence') parent.items.push(frame.dataset);
      return;
    }
    const length = this.offset - frame.valueOffset;
    if (frame.kind === 'sequence') {
      this.sequenceDepth--;
      frame.owner.set({ tag: frame.tag, vr: 'SQ', length: frame.length, items: frame.items, position: { offset: frame.valueOffset, length } });
      return;
    }
    frame.owner.set({
      tag: frame.tag, vr: frame.vr, length: UNDEFINED_LENGTH, fragments: frame.fragments,
      position: { offset: frame.valueOffset, length },
    });
  }

  private readValue(): boolean {
    const avail = this.buf.length - this.pos;
    const n = Math.min(avail, this.remaining);
    if (n === this.remaining && this.pieces.length === 0) {
      // The whole value is here (the usual case): copied, as a subarray would pin the whole chunk
      // (maybe pixel data) in memory.
      const value = this.copyValue(n);
      this.remaining = 0;
      this.finishElement(this.pending!, value);
      return true;
    }
    if (n > 0) {
      this.pieces.push(copyOf(this.buf, this.pos, this.pos + n));
      this.pos += n;
      this.remaining -= n;
    }
    if (this.remaining > 0) return false;
    const p = this.pending!;
    const value = this.pieces.length === 1 ? this.pieces[0]! : concat(this.pieces, p.length);
    this.pieces = [];
    this.finishElement(p, value);
    return true;
  }

  /** The next n bytes, copied into the value block (a large value gets its own copy). */
  private copyValue(n: number): Uint8Array {
    const from = this.pos;
    this.pos += n;
    if (n > MAX_VALUE_BLOCK / 4) return copyOf(this.buf, from, from + n);
    if (this.blockUsed + n > this.block.length) {
      this.block = new Uint8Array(this.block.length === 0 ? FIRST_VALUE_BLOCK : Math.min(this.block.length * 2, MAX_VALUE_BLOCK));
      this.blockUsed = 0;
    }
    const block = this.block;
    const at = this.blockUsed;
    // Byte by byte: most values are a few dozen bytes, and a subarray of the source (a Node
    // Buffer, whose subarray is slow) to copy from cost more than the copy.
    const buf = this.buf;
    for (let i = 0; i < n; i++) block[at + i] = buf[from + i]!;
    this.blockUsed = at + n;
    return block.subarray(at, at + n);
  }

  private skipValue(): boolean {
    const avail = this.buf.length - this.pos;
    const n = Math.min(avail, this.remaining);
    this.pos += n;
    this.remaining -= n;
    if (this.remaining > 0) return false;
    if (this.pending) this.finishElement(this.pending, undefined);
    else this.state = 'header'; // end of a fragment
    return true;
  }

  private finishElement(p: PendingValue, value: Uint8Array | undefined): void {
    const el: DataElement = value
      ? { tag: p.tag, vr: p.vr, length: p.length, value, position: { offset: p.offset, length: p.length } }
      : { tag: p.tag, vr: p.vr, length: p.length, position: { offset: p.offset, length: p.length } };
    p.owner.set(el);
    this.pending = undefined;
    this.state = 'header';
  }
}

/** A copy of bytes [start, end): Uint8Array's slice, as a Node Buffer's slice() is a view that would pin its chunk. */
function copyOf(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes, start, end);
}

function concat(pieces: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of pieces) { out.set(p, o); o += p.length; }
  return out;
}

function hex2(b: number): string { return b.toString(16).padStart(2, '0'); }

function describeFrame(f: Frame): string {
  if (f.kind === 'dataset') return 'a sequence item';
  if (f.kind === 'sequence') return `sequence ${tagString(f.tag)}`;
  return `encapsulated ${tagString(f.tag)}`;
}
