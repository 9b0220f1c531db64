import { describe, expect, it } from 'vitest';
import { associateRequest, commandStatus, encodeImplicit, findCommand, STUDY_ROOT_FIND, studyIdentifier } from './find-client.mjs';

function implicitElements(bytes: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let offset = 0; offset < bytes.length;) {
    const tag = ((bytes.readUInt16LE(offset) << 16) | bytes.readUInt16LE(offset + 2)) >>> 0;
    const length = bytes.readUInt32LE(offset + 4);
    out.set(tag, bytes.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return out;
}

describe('findCommand', () => {
  it('is a C-FIND-RQ whose group length counts the bytes after it', () => {
    const command = findCommand(7);
    const elements = implicitElements(command);
    expect(elements.get(0x00000000)!.readUInt32LE(0)).toBe(command.length - 12);
    expect(elements.get(0x00000100)!.readUInt16LE(0)).toBe(0x0020);
    expect(elements.get(0x00000110)!.readUInt16LE(0)).toBe(7);
    expect(elements.get(0x00000800)!.readUInt16LE(0)).not.toBe(0x0101);
    expect(elements.get(0x00000002)!.toString('latin1').replace(/\0$/, '')).toBe(STUDY_ROOT_FIND);
  });
});

describe('studyIdentifier', () => {
  it('asks at STUDY level with the given keys and empty return keys, all even-length', () => {
    const elements = implicitElements(studyIdentifier({ patientId: 'P1', patientName: 'DOE*' }));
    expect(elements.get(0x00080052)!.toString('latin1').trim()).toBe('STUDY');
    expect(elements.get(0x00100020)!.toString('latin1')).toBe('P1');
    expect(elements.get(0x00100010)!.toString('latin1')).toBe('DOE*');
    expect(elements.get(0x0020000d)!.length).toBe(0);
    for (const value of elements.values()) expect(value.length % 2).toBe(0);
  });
});

describe('commandStatus', () => {
  it('reads the Status of a response command set', () => {
    const response = encodeImplicit([[0x00000100, 0x8020, 'US'], [0x00000900, 0xff00, 'US']]);
    expect(commandStatus(response)).toBe(0xff00);
    expect(() => commandStatus(encodeImplicit([[0x00000100, 0x8020, 'US']]))).toThrow(/Status/);
  });
});

describe('associateRequest', () => {
  it('puts the called and calling AE titles in their fixed 16-byte fields and the PDU length in the header', () => {
    const pdu = associateRequest({ callingAe: 'BENCH', calledAe: 'ORTHANC' });
    expect(pdu[0]).toBe(0x01);
    expect(pdu.readUInt32BE(2)).toBe(pdu.length - 6);
    expect(pdu.toString('ascii', 10, 26)).toBe('ORTHANC'.padEnd(16));
    expect(pdu.toString('ascii', 26, 42)).toBe('BENCH'.padEnd(16));
  });
});
