// Lookup tables of the image pixel pipeline (PS3.3 C.11.1 Modality LUT, C.11.2 VOI LUT, C.7.6.3.1.5/6
// Palette Color LUT, C.7.9 Segmented Palette Color LUT): descriptor + data decoded into plain numbers.

export interface LookupTable {
  /** The input value mapped to the first entry; inputs below it map to the first entry, above the last to the last. */
  readonly firstMapped: number;
  /** Bits of each output entry (the descriptor's third value, possibly corrected, see parseLut). */
  readonly bitsPerEntry: number;
  readonly entries: Uint16Array;
}

export class LutError extends Error {
  override readonly name = 'LutError';
}

/** The value of a LUT for an input value (clamped to the table's range, PS3.3 C.11.1.1). */
export function lookUp(lut: LookupTable, input: number): number {
  const index = Math.round(input) - lut.firstMapped;
  const last = lut.entries.length - 1;
  return lut.entries[index < 0 ? 0 : index > last ? last : index]!;
}

export interface LutDescriptor {
  /** Number of entries; a descriptor value of 0 means 65536 (PS3.3 C.11.1.1.1). */
  readonly entryCount: number;
  readonly firstMapped: number;
  readonly bitsPerEntry: number;
}

/**
 * Reads a LUT Descriptor's three values. The first mapped value is US or SS depending on the Pixel Representation
 * (PS3.3 C.11.1.1.1): a writer may have encoded -1 as 65535, so it is read as signed when `signedInput` says so.
 */
export function parseLutDescriptor(values: readonly number[], signedInput: boolean, what: string): LutDescriptor {
  if (values.length < 3 || values.some((v) => !Number.isFinite(v))) throw new LutError(`${what} descriptor must have 3 values, has [${values.join(', ')}]`);
  const [count, first, bits] = values as [number, number, number];
  const entryCount = count === 0 ? 65536 : count;
  const firstMapped = signedInput && first > 32767 ? first - 65536 : first;
  if (bits < 1 || bits > 16) throw new LutError(`${what} descriptor gives ${bits} bits per entry; DICOM allows 8 to 16`);
  return { entryCount, firstMapped, bitsPerEntry: bits };
}

/**
 * Decodes LUT Data bytes. Entries are 16-bit words (US or OW, PS3.3 C.11.1.1.1); some writers pack 8-bit entries
 * one per byte, which shows as a value exactly `entryCount` bytes long.
 */
export function parseLutData(descriptor: LutDescriptor, data: Uint8Array, littleEndian: boolean, what: string): LookupTable {
  const { entryCount, bitsPerEntry, firstMapped } = descriptor;
  let entries: Uint16Array;
  if (bitsPerEntry <= 8 && data.byteLength === entryCount) {
    entries = Uint16Array.from(data);
  } else {
    if (data.byteLength < entryCount * 2) throw new LutError(`${what} data holds ${data.byteLength} bytes, the descriptor announces ${entryCount} 16-bit entries`);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    entries = new Uint16Array(entryCount);
    for (let i = 0; i < entryCount; i++) entries[i] = view.getUint16(i * 2, littleEndian);
  }
  return { firstMapped, bitsPerEntry: effectiveBits(entries, bitsPerEntry), entries };
}

/**
 * Bits per entry as the data shows them. A descriptor claiming 16 bits over entries that never exceed 255 is a known
 * writer mistake (the table was meant as 8-bit); treating it as 16-bit would render the image almost black.
 */
function effectiveBits(entries: Uint16Array, declared: number): number {
  if (declared !== 16) return declared;
  let max = 0;
  for (const e of entries) if (e > max) max = e;
  return max <= 255 && entries.length > 1 ? 8 : 16;
}

/**
 * Expands a Segmented Palette Color LUT (PS3.3 C.7.9.2): discrete (opcode 0), linear (1) and indirect (2) segments
 * into `entryCount` entries.
 */
export function expandSegmentedLut(descriptor: LutDescriptor, data: Uint8Array, littleEndian: boolean, what: string): LookupTable {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const words: number[] = [];
  for (let i = 0; i + 1 < data.byteLength; i += 2) words.push(view.getUint16(i, littleEndian));
  const out: number[] = [];
  expandSegments(words, 0, words.length, out, what, 0);
  if (out.length < descriptor.entryCount) {
    throw new LutError(`${what}: the segments expand to ${out.length} entries, the descriptor announces ${descriptor.entryCount}`);
  }
  const entries = Uint16Array.from(out.slice(0, descriptor.entryCount), (v) => Math.max(0, Math.min(65535, Math.round(v))));
  return { firstMapped: descriptor.firstMapped, bitsPerEntry: effectiveBits(entries, descriptor.bitsPerEntry), entries };
}

function expandSegments(words: readonly number[], start: number, end: number, out: number[], what: string, depth: number): void {
  if (depth > 2) throw new LutError(`${what}: indirect segments nest too deep`);
  let at = start;
  while (at < end) {
    const opcode = words[at]!;
    const length = words[at + 1];
    if (length === undefined) throw new LutError(`${what}: segment at word ${at} is truncated`);
    at += 2;
    if (opcode === 0) {
      if (at + length > end) throw new LutError(`${what}: discrete segment at word ${at - 2} runs past the data`);
      for (let i = 0; i < length; i++) out.push(words[at + i]!);
      at += length;
    } else if (opcode === 1) {
      const target = words[at];
      if (target === undefined || out.length === 0) throw new LutError(`${what}: linear segment at word ${at - 2} has no start value`);
      const from = out[out.length - 1]!;
      for (let i = 1; i <= length; i++) out.push(from + ((target - from) * i) / length);
      at += 1;
    } else if (opcode === 2) {
      // Offset (in words, from the start of the data) of the first segment to copy: low word first.
      const low = words[at];
      const high = words[at + 1];
      if (low === undefined || high === undefined) throw new LutError(`${what}: indirect segment at word ${at - 2} is truncated`);
      let offset = high * 0x10000 + low;
      at += 2;
      for (let segment = 0; segment < length; segment++) {
        const segmentEnd = segmentEndAt(words, offset, what);
        expandSegments(words, offset, segmentEnd, out, what, depth + 1);
        offset = segmentEnd;
      }
    } else {
      throw new LutError(`${what}: unknown segment opcode ${opcode} at word ${at - 2}`);
    }
  }
}

function segmentEndAt(words: readonly number[], offset: number, what: string): number {
  const opcode = words[offset];
  const length = words[offset + 1];
  if (opcode === undefined || length === undefined) throw new LutError(`${what}: indirect segment points outside the data`);
  if (opcode === 0) return offset + 2 + length;
  if (opcode === 1) return offset + 3;
  if (opcode === 2) return offset + 4;
  throw new LutError(`${what}: unknown segment opcode ${opcode} at word ${offset}`);
}
