// PS3.7 section 9.3 and annex E.1: DIMSE command sets (group 0000), always Implicit VR Little Endian.
// A small codec of its own so the network layer needs no dataset parser.

export const CommandField = {
  CStoreRq: 0x0001, CStoreRsp: 0x8001,
  CGetRq: 0x0010, CGetRsp: 0x8010,
  CFindRq: 0x0020, CFindRsp: 0x8020,
  CMoveRq: 0x0021, CMoveRsp: 0x8021,
  CEchoRq: 0x0030, CEchoRsp: 0x8030,
  NEventReportRq: 0x0100, NEventReportRsp: 0x8100,
  NGetRq: 0x0110, NGetRsp: 0x8110,
  NSetRq: 0x0120, NSetRsp: 0x8120,
  NActionRq: 0x0130, NActionRsp: 0x8130,
  NCreateRq: 0x0140, NCreateRsp: 0x8140,
  NDeleteRq: 0x0150, NDeleteRsp: 0x8150,
  CCancelRq: 0x0fff,
} as const;

/** Command Data Set Type (0000,0800): this value means "no dataset follows"; anything else means one does. */
export const NO_DATASET = 0x0101;
export const DATASET_PRESENT = 0x0000;

export const Priority = { Medium: 0, High: 1, Low: 2 } as const;

export interface Command {
  commandField: number;
  commandDataSetType: number;
  affectedSopClassUid?: string;
  requestedSopClassUid?: string;
  messageId?: number;
  messageIdBeingRespondedTo?: number;
  moveDestination?: string;
  priority?: number;
  status?: number;
  offendingElement?: number[];
  errorComment?: string;
  errorId?: number;
  affectedSopInstanceUid?: string;
  requestedSopInstanceUid?: string;
  eventTypeId?: number;
  attributeIdentifierList?: number[];
  actionTypeId?: number;
  remainingSubOperations?: number;
  completedSubOperations?: number;
  failedSubOperations?: number;
  warningSubOperations?: number;
  moveOriginatorAe?: string;
  moveOriginatorMessageId?: number;
}

type Vr = 'UL' | 'US' | 'UI' | 'AE' | 'LO' | 'AT';
type Key = Exclude<keyof Command, never>;

/** PS3.7 E.1, in tag order (the order they must be encoded in). */
const ELEMENTS: readonly (readonly [number, Key, Vr])[] = [
  [0x0002, 'affectedSopClassUid', 'UI'],
  [0x0003, 'requestedSopClassUid', 'UI'],
  [0x0100, 'commandField', 'US'],
  [0x0110, 'messageId', 'US'],
  [0x0120, 'messageIdBeingRespondedTo', 'US'],
  [0x0600, 'moveDestination', 'AE'],
  [0x0700, 'priority', 'US'],
  [0x0800, 'commandDataSetType', 'US'],
  [0x0900, 'status', 'US'],
  [0x0901, 'offendingElement', 'AT'],
  [0x0902, 'errorComment', 'LO'],
  [0x0903, 'errorId', 'US'],
  [0x1000, 'affectedSopInstanceUid', 'UI'],
  [0x1001, 'requestedSopInstanceUid', 'UI'],
  [0x1002, 'eventTypeId', 'US'],
  [0x1005, 'attributeIdentifierList', 'AT'],
  [0x1008, 'actionTypeId', 'US'],
  [0x1020, 'remainingSubOperations', 'US'],
  [0x1021, 'completedSubOperations', 'US'],
  [0x1022, 'failedSubOperations', 'US'],
  [0x1023, 'warningSubOperations', 'US'],
  [0x1030, 'moveOriginatorAe', 'AE'],
  [0x1031, 'moveOriginatorMessageId', 'US'],
];
const BY_ELEMENT = new Map(ELEMENTS.map((e) => [e[0], e]));

export class CommandError extends Error {
  override readonly name = 'CommandError';
}

/** Bytes of a value once encoded (even: text is padded). */
function valueLength(vr: Vr, value: unknown): number {
  switch (vr) {
    case 'US': return 2;
    case 'UL': return 4;
    case 'AT': return (value as number[]).length * 4;
    default: {
      const length = String(value).length;
      return length + (length % 2);
    }
  }
}

function writeValue(out: Buffer, at: number, vr: Vr, value: unknown): void {
  switch (vr) {
    case 'US': out.writeUInt16LE(Number(value) & 0xffff, at); return;
    case 'UL': out.writeUInt32LE(Number(value) >>> 0, at); return;
    case 'AT':
      (value as number[]).forEach((tag, i) => {
        out.writeUInt16LE((tag >>> 16) & 0xffff, at + i * 4);
        out.writeUInt16LE(tag & 0xffff, at + i * 4 + 2);
      });
      return;
    default: {
      const text = String(value);
      const written = out.write(text, at, 'latin1');
      // UIDs are padded with NUL, other text with a space (PS3.5 6.2).
      if (written % 2 === 1) out[at + written] = vr === 'UI' ? 0 : 0x20;
    }
  }
}

/**
 * Encodes a command set with its (0000,0000) group length, in one buffer. Sized first and
 * written in place: a response is encoded for every C-STORE, and a buffer per element cost
 * several times the encoding itself.
 */
export function encodeCommand(cmd: Command): Buffer {
  let length = 0;
  for (const [, key, vr] of ELEMENTS) {
    const value = cmd[key];
    if (value !== undefined) length += 8 + valueLength(vr, value);
  }
  const out = Buffer.allocUnsafe(12 + length);
  out.writeUInt32LE(0x00000000, 0);
  out.writeUInt32LE(4, 4);
  out.writeUInt32LE(length, 8);
  let at = 12;
  for (const [element, key, vr] of ELEMENTS) {
    const value = cmd[key];
    if (value === undefined) continue;
    const size = valueLength(vr, value);
    out.writeUInt16LE(0x0000, at);
    out.writeUInt16LE(element, at + 2);
    out.writeUInt32LE(size, at + 4);
    writeValue(out, at + 8, vr, value);
    at += 8 + size;
  }
  return out;
}

function decodeValue(vr: Vr, bytes: Buffer, element: number): number | string | number[] {
  switch (vr) {
    case 'US':
      if (bytes.length !== 2) throw new CommandError(`command element (0000,${hex(element)}) US has length ${bytes.length}`);
      return bytes.readUInt16LE(0);
    case 'UL':
      if (bytes.length !== 4) throw new CommandError(`command element (0000,${hex(element)}) UL has length ${bytes.length}`);
      return bytes.readUInt32LE(0);
    case 'AT': {
      if (bytes.length % 4 !== 0) throw new CommandError(`command element (0000,${hex(element)}) AT has length ${bytes.length}`);
      const out: number[] = [];
      for (let i = 0; i < bytes.length; i += 4) out.push(((bytes.readUInt16LE(i) << 16) | bytes.readUInt16LE(i + 2)) >>> 0);
      return out;
    }
    case 'UI':
      return bytes.toString('latin1').replace(/[\0 ]+$/, '');
    default:
      return bytes.toString('latin1').replace(/\0/g, '').trim();
  }
}

/** Decodes a complete command set. Unknown group-0000 elements (retired ones) are skipped. */
export function decodeCommand(data: Uint8Array): Command {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out: Record<string, unknown> = {};
  let pos = 0;
  while (pos < buf.length) {
    if (pos + 8 > buf.length) throw new CommandError('truncated command element header');
    const group = buf.readUInt16LE(pos);
    const element = buf.readUInt16LE(pos + 2);
    const length = buf.readUInt32LE(pos + 4);
    pos += 8;
    if (length > buf.length - pos) throw new CommandError(`command element (${hex(group)},${hex(element)}) length ${length} runs past the command set`);
    if (group !== 0x0000) throw new CommandError(`element (${hex(group)},${hex(element)}) is not a command element`);
    const def = BY_ELEMENT.get(element);
    if (def) out[def[1]] = decodeValue(def[2], buf.subarray(pos, pos + length), element);
    pos += length;
  }
  if (typeof out.commandField !== 'number') throw new CommandError('command set without Command Field (0000,0100)');
  if (typeof out.commandDataSetType !== 'number') throw new CommandError('command set without Command Data Set Type (0000,0800)');
  return out as unknown as Command;
}

export function hasDataset(cmd: Command): boolean {
  return cmd.commandDataSetType !== NO_DATASET;
}

export function isResponse(commandField: number): boolean {
  return (commandField & 0x8000) !== 0;
}

function hex(n: number): string {
  return n.toString(16).padStart(4, '0').toUpperCase();
}
