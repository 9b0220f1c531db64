import { describe, expect, it } from 'vitest';
import { type Command, CommandError, CommandField, decodeCommand, encodeCommand, NO_DATASET } from './command.js';
import { responseTo } from './messages.js';

describe('DIMSE command codec', () => {
  it('encodes a C-ECHO-RQ byte for byte (implicit VR LE, group length first, tags ascending)', () => {
    const bytes = encodeCommand({ commandField: CommandField.CEchoRq, messageId: 7, affectedSopClassUid: '1.2.840.10008.1.1', commandDataSetType: NO_DATASET });
    const expected = Buffer.concat([
      Buffer.from([0, 0, 0, 0, 4, 0, 0, 0, 56, 0, 0, 0]), // (0000,0000) UL 56
      Buffer.from([0, 0, 2, 0, 18, 0, 0, 0]), Buffer.from('1.2.840.10008.1.1\0', 'latin1'), // UID padded to even with NUL
      Buffer.from([0, 0, 0, 1, 2, 0, 0, 0, 0x30, 0]),
      Buffer.from([0, 0, 0x10, 1, 2, 0, 0, 0, 7, 0]),
      Buffer.from([0, 0, 0, 8, 2, 0, 0, 0, 0x01, 0x01]),
    ]);
    expect(bytes.equals(expected)).toBe(true);
  });

  it('round-trips every kind of command element', () => {
    const cmd: Command = {
      commandField: CommandField.CMoveRsp, messageIdBeingRespondedTo: 3, affectedSopClassUid: '1.2.840.10008.5.1.4.1.2.2.2',
      commandDataSetType: 0, status: 0xb000, errorComment: 'one failed', offendingElement: [0x00100010, 0x00080018],
      remainingSubOperations: 0, completedSubOperations: 9, failedSubOperations: 1, warningSubOperations: 0,
      moveDestination: 'STORESCP', moveOriginatorAe: 'ORIG', moveOriginatorMessageId: 12, priority: 2,
      affectedSopInstanceUid: '1.2.3.4', requestedSopClassUid: '1.2', requestedSopInstanceUid: '1.2.3', eventTypeId: 2,
      actionTypeId: 1, attributeIdentifierList: [0x7fe00010], errorId: 5,
    };
    expect(decodeCommand(encodeCommand(cmd))).toEqual(cmd);
  });

  it('skips retired group 0000 elements and rejects malformed sets', () => {
    const rq = encodeCommand({ commandField: CommandField.CEchoRq, messageId: 1, commandDataSetType: NO_DATASET });
    const retired = Buffer.from([0, 0, 0x10, 0x40, 2, 0, 0, 0, 0x41, 0x41]); // (0000,4010) retired
    expect(decodeCommand(Buffer.concat([rq, retired])).messageId).toBe(1);
    expect(() => decodeCommand(rq.subarray(0, rq.length - 1))).toThrow(CommandError);
    const foreign = Buffer.concat([rq, Buffer.from([8, 0, 0x18, 0, 0, 0, 0, 0])]);
    expect(() => decodeCommand(foreign)).toThrow(/not a command element/);
    const huge = Buffer.from([0, 0, 0, 1, 0xff, 0xff, 0xff, 0x7f]);
    expect(() => decodeCommand(huge)).toThrow(/runs past/);
    expect(() => decodeCommand(encodeCommand({ commandField: 1, commandDataSetType: NO_DATASET }).subarray(0, 12))).toThrow(/Command Field/);
  });

  it('builds responses that echo the request identity', () => {
    const rsp = responseTo({ commandField: CommandField.CStoreRq, messageId: 42, affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.2', affectedSopInstanceUid: '1.2.3', commandDataSetType: 0 }, { status: 0 });
    expect(rsp).toMatchObject({ commandField: 0x8001, messageIdBeingRespondedTo: 42, affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.2', affectedSopInstanceUid: '1.2.3', commandDataSetType: NO_DATASET, status: 0 });
  });
});
