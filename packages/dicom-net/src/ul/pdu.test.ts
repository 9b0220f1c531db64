import { describe, expect, it } from 'vitest';
import {
  type AssociateAcPdu, type AssociateRqPdu, decodePdu, DICOM_APPLICATION_CONTEXT, encodePdu, pDataHeaderWithPdv,
  PduError, PduType, PresentationResult,
} from './pdu.js';
import { PduFramer } from './pdu-framer.js';

const rq: AssociateRqPdu = {
  type: PduType.AssociateRq,
  protocolVersion: 1,
  calledAe: 'LOIRE',
  callingAe: 'MODALITY_CT1',
  applicationContext: DICOM_APPLICATION_CONTEXT,
  contexts: [
    { id: 1, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] },
    { id: 3, abstractSyntax: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxes: ['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.1'] },
  ],
  userInfo: {
    maxPduLength: 65536,
    implementationClassUid: '1.2.3.4.5',
    implementationVersionName: 'TEST_1',
    asyncOps: { invoked: 4, performed: 2 },
    roles: [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', scu: false, scp: true }],
    extended: [{ sopClassUid: '1.2.840.10008.5.1.4.1.2.2.1', info: new Uint8Array([1, 1, 0]) }],
    commonExtended: [{ sopClassUid: '1.2.3.9', serviceClassUid: '1.2.840.10008.4.2', relatedGeneralSopClasses: ['1.2.840.10008.5.1.4.1.1.2', '1.2.3'] }],
    userIdentity: { type: 2, positiveResponseRequested: true, primary: Buffer.from('alice'), secondary: Buffer.from('s3cret') },
  },
};

describe('A-ASSOCIATE PDUs', () => {
  it('round-trips an A-ASSOCIATE-RQ with every user information sub-item', () => {
    const bytes = encodePdu(rq);
    expect(bytes[0]).toBe(0x01);
    expect(bytes.readUInt32BE(2)).toBe(bytes.length - 6);
    // AE titles are space padded to 16 bytes at fixed offsets (PS3.8 table 9-11)
    expect(bytes.toString('latin1', 10, 26)).toBe('LOIRE           ');
    expect(bytes.toString('latin1', 26, 42)).toBe('MODALITY_CT1    ');
    const back = decodePdu(bytes) as AssociateRqPdu;
    expect(back.calledAe).toBe('LOIRE');
    expect(back.callingAe).toBe('MODALITY_CT1');
    expect(back.contexts).toEqual(rq.contexts);
    const ui = back.userInfo;
    expect(ui.maxPduLength).toBe(65536);
    expect(ui.implementationClassUid).toBe('1.2.3.4.5');
    expect(ui.implementationVersionName).toBe('TEST_1');
    expect(ui.asyncOps).toEqual({ invoked: 4, performed: 2 });
    expect(ui.roles).toEqual(rq.userInfo.roles);
    expect(ui.extended[0]!.sopClassUid).toBe('1.2.840.10008.5.1.4.1.2.2.1');
    expect([...ui.extended[0]!.info]).toEqual([1, 1, 0]);
    expect(ui.commonExtended).toEqual(rq.userInfo.commonExtended);
    expect(Buffer.from(ui.userIdentity!.primary).toString()).toBe('alice');
    expect(Buffer.from(ui.userIdentity!.secondary).toString()).toBe('s3cret');
    expect(ui.userIdentity!.positiveResponseRequested).toBe(true);
  });

  it('round-trips an A-ASSOCIATE-AC with accepted and rejected contexts', () => {
    const ac: AssociateAcPdu = {
      type: PduType.AssociateAc, protocolVersion: 1, calledAe: 'LOIRE', callingAe: 'CT1', applicationContext: DICOM_APPLICATION_CONTEXT,
      contexts: [
        { id: 1, result: PresentationResult.Acceptance, transferSyntax: '1.2.840.10008.1.2' },
        { id: 3, result: PresentationResult.AbstractSyntaxNotSupported, transferSyntax: '' },
      ],
      userInfo: {
        maxPduLength: 16384, implementationClassUid: '1.2.3', roles: [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', scu: false, scp: true }],
        extended: [], commonExtended: [], asyncOps: { invoked: 1, performed: 1 }, userIdentityResponse: Buffer.from('token'),
      },
    };
    const back = decodePdu(encodePdu(ac)) as AssociateAcPdu;
    expect(back.contexts).toEqual(ac.contexts);
    expect(back.userInfo.roles).toEqual(ac.userInfo.roles);
    expect(back.userInfo.asyncOps).toEqual({ invoked: 1, performed: 1 });
    expect(Buffer.from(back.userInfo.userIdentityResponse!).toString()).toBe('token');
  });

  it('tolerates NUL-padded UIDs sent by other implementations', () => {
    const bytes = encodePdu({ ...rq, contexts: [{ id: 1, abstractSyntax: '1.2.840.10008.1.1\0', transferSyntaxes: ['1.2.840.10008.1.2\0'] }] });
    const back = decodePdu(bytes) as AssociateRqPdu;
    expect(back.contexts[0]!.abstractSyntax).toBe('1.2.840.10008.1.1');
    expect(back.contexts[0]!.transferSyntaxes).toEqual(['1.2.840.10008.1.2']);
  });
});

describe('other PDUs', () => {
  it('round-trips A-ASSOCIATE-RJ, A-RELEASE-RQ/RP and A-ABORT with the standard layout', () => {
    const rj = encodePdu({ type: PduType.AssociateRj, result: 1, source: 1, reason: 7 });
    expect([...rj]).toEqual([3, 0, 0, 0, 0, 4, 0, 1, 1, 7]);
    expect(decodePdu(rj)).toEqual({ type: 3, result: 1, source: 1, reason: 7 });
    expect([...encodePdu({ type: PduType.ReleaseRq })]).toEqual([5, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    expect(decodePdu(encodePdu({ type: PduType.ReleaseRp }))).toEqual({ type: 6 });
    const ab = encodePdu({ type: PduType.Abort, source: 2, reason: 6 });
    expect([...ab]).toEqual([7, 0, 0, 0, 0, 4, 0, 0, 2, 6]);
    expect(decodePdu(ab)).toEqual({ type: 7, source: 2, reason: 6 });
  });

  it('decodes P-DATA-TF PDVs as views onto the received buffer', () => {
    const bytes = encodePdu({
      type: PduType.PDataTf,
      pdvs: [
        { contextId: 1, isCommand: true, isLast: true, data: Buffer.from([1, 2, 3]) },
        { contextId: 1, isCommand: false, isLast: false, data: Buffer.from([4, 5]) },
      ],
    });
    const pdu = decodePdu(bytes);
    if (pdu.type !== PduType.PDataTf) throw new Error('wrong type');
    expect(pdu.pdvs.map((p) => [p.contextId, p.isCommand, p.isLast, [...p.data]])).toEqual([[1, true, true, [1, 2, 3]], [1, false, false, [4, 5]]]);
    expect(pdu.pdvs[1]!.data.buffer).toBe(bytes.buffer); // no copy
  });

  it('writes the single-PDV P-DATA header used by the send path', () => {
    const h = pDataHeaderWithPdv(5, false, true, 10);
    expect([...h]).toEqual([4, 0, 0, 0, 0, 16, 0, 0, 0, 12, 5, 2]);
  });

  it('rejects malformed PDUs with PduError', () => {
    expect(() => decodePdu(Buffer.from([4, 0, 0, 0, 0, 6, 0, 0, 0, 1, 1, 3]))).toThrow(PduError); // PDV length 1
    expect(() => decodePdu(Buffer.from([4, 0, 0, 0, 0, 6, 0, 0, 0, 9, 1, 3]))).toThrow(PduError); // PDV overruns
    expect(() => decodePdu(Buffer.from([9, 0, 0, 0, 0, 4, 0, 0, 0, 0]))).toThrow(/unrecognized PDU type/);
    const good = encodePdu(rq);
    expect(() => decodePdu(good.subarray(0, good.length - 3))).toThrow(PduError);
    const lying = Buffer.from(good);
    lying.writeUInt16BE(0xffff, 6 + 68 + 2); // application context item claims 64 KiB
    expect(() => decodePdu(lying)).toThrow(PduError);
  });
});

describe('PduFramer', () => {
  it('reassembles small PDUs split across chunks and splits coalesced ones', () => {
    const a = encodePdu({ type: PduType.ReleaseRq });
    const b = encodePdu(rq);
    const all = Buffer.concat([a, b]);
    const f = new PduFramer(1 << 16);
    f.push(all.subarray(0, 3));
    expect(f.next()).toBeUndefined();
    f.push(all.subarray(3, 20));
    expect(f.next()).toEqual({ kind: 'pdu', bytes: a });
    expect(f.next()).toBeUndefined();
    f.push(all.subarray(20));
    const item = f.next();
    expect(item?.kind === 'pdu' && item.bytes.equals(b)).toBe(true);
    expect(f.next()).toBeUndefined();
    expect(f.bufferedBytes).toBe(0);
  });

  it('streams P-DATA-TF PDVs piece by piece as views onto the received chunks', () => {
    const payload = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
    const pdu = encodePdu({
      type: PduType.PDataTf,
      pdvs: [
        { contextId: 3, isCommand: false, isLast: false, data: payload.subarray(0, 60) },
        { contextId: 3, isCommand: false, isLast: true, data: payload.subarray(60) },
      ],
    });
    const f = new PduFramer(1 << 16);
    const chunks = [pdu.subarray(0, 30), pdu.subarray(30, 50), pdu.subarray(50)];
    const items = [];
    for (const c of chunks) {
      f.push(c);
      for (let it = f.next(); it; it = f.next()) items.push(it);
    }
    expect(items[0]).toEqual({ kind: 'pdata', length: pdu.length - 6 });
    const pieces = items.slice(1).map((i) => (i.kind === 'pdv' ? i : undefined)!);
    expect(Buffer.concat(pieces.map((p) => p.data)).equals(payload)).toBe(true);
    expect(pieces.length).toBeGreaterThan(2); // the first PDV arrived in two pieces
    expect(pieces.filter((p) => p.isLast)).toHaveLength(1);
    expect(pieces.at(-1)).toMatchObject({ contextId: 3, isCommand: false, isLast: true, pdvEnd: true });
    expect(pieces.filter((p) => p.pdvEnd)).toHaveLength(2);
    expect(pieces.every((p) => chunks.some((c) => c.buffer === p.data.buffer))).toBe(true); // no copy
  });

  it('refuses a P-DATA-TF longer than our maximum from its header alone', () => {
    const f = new PduFramer(16384);
    f.push(Buffer.from([4, 0, 0xff, 0xff, 0xff, 0xff]));
    expect(() => f.next()).toThrow(/exceeds the negotiated maximum/);
  });

  it('refuses a PDV that runs past its PDU, and unknown PDU types or wrong fixed lengths', () => {
    const f = new PduFramer(16384);
    f.push(Buffer.from([4, 0, 0, 0, 0, 10, 0, 0, 0, 20, 1, 3]));
    expect(f.next()).toMatchObject({ kind: 'pdata' });
    expect(() => f.next()).toThrow(/runs past/);
    const g = new PduFramer(16384);
    g.push(Buffer.from([0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47]));
    expect(() => g.next()).toThrow(PduError);
    const h = new PduFramer(16384);
    h.push(Buffer.from([5, 0, 0, 0, 0, 8]));
    expect(() => h.next()).toThrow(PduError);
  });
});
