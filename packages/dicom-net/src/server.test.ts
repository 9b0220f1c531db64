// Robustness of the acceptor: whatever a peer sends, only that association dies.
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VerificationSOPClass, ImplicitVRLittleEndian } from '@loire/dicom';
import { connect } from './client.js';
import { DimseServer } from './server.js';
import { buildRequest } from './acse/negotiation.js';
import { encodePdu, PduType, decodePdu, pDataHeaderWithPdv } from './ul/pdu.js';

let server: DimseServer;
let port: number;
const events: string[] = [];

beforeEach(async () => {
  events.length = 0;
  server = new DimseServer({ handlers: {}, timeouts: { artimMs: 2000 } });
  server.on('association-aborted', (e) => events.push(`aborted:${e.source}:${e.reason}`));
  server.on('association-rejected', (e) => events.push(`rejected:${e.reason}`));
  ({ port } = await server.listen({ host: '127.0.0.1', port: 0 }));
});
afterEach(async () => {
  await server.close({ drain: false });
});

/** Sends raw bytes and collects what the server answers until it closes the connection. */
function rawExchange(chunks: readonly Buffer[], opts: { endAfter?: boolean } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      for (const c of chunks) s.write(c);
      if (opts.endAfter) s.end();
    });
    const got: Buffer[] = [];
    s.on('data', (d) => got.push(d));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(got)));
  });
}

async function echoStillWorks(): Promise<void> {
  const a = await connect({ host: '127.0.0.1', port, callingAe: 'T', calledAe: 'LOIRE', contexts: [{ abstractSyntax: VerificationSOPClass, transferSyntaxes: [ImplicitVRLittleEndian] }] });
  expect(await a.echo()).toBe(0);
  await a.release();
}

const rqBytes = () => encodePdu(buildRequest({ callingAe: 'T', calledAe: 'LOIRE', contexts: [{ abstractSyntax: VerificationSOPClass, transferSyntaxes: [ImplicitVRLittleEndian] }] }));

describe('DimseServer robustness', () => {
  it('aborts on garbage bytes and keeps accepting', async () => {
    const answer = await rawExchange([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]);
    expect(decodePdu(answer)).toMatchObject({ type: PduType.Abort });
    await echoStillWorks();
  });

  it('aborts when a declared PDU length exceeds our maximum, without waiting for the bytes', async () => {
    const a = await new Promise<Buffer>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => s.write(rqBytes()));
      const got: Buffer[] = [];
      s.on('data', (d) => {
        got.push(d);
        if (got.length === 1) s.write(Buffer.from([4, 0, 0x7f, 0xff, 0xff, 0xff])); // P-DATA of 2 GiB
      });
      s.on('close', () => resolve(Buffer.concat(got)));
    });
    const ac = decodePdu(a.subarray(0, 6 + a.readUInt32BE(2)));
    expect(ac.type).toBe(PduType.AssociateAc);
    const abort = a.subarray(6 + a.readUInt32BE(2));
    expect(decodePdu(abort)).toMatchObject({ type: PduType.Abort, source: 2 });
    expect(events.some((e) => /exceeds the negotiated maximum/.test(e))).toBe(true);
    await echoStillWorks();
  });

  it('survives a truncated PDU followed by a closed connection', async () => {
    const full = rqBytes();
    await rawExchange([full.subarray(0, 40)], { endAfter: true });
    await echoStillWorks();
  });

  it('aborts on an unexpected PDU (P-DATA before A-ASSOCIATE-RQ)', async () => {
    const answer = await rawExchange([Buffer.concat([pDataHeaderWithPdv(1, true, true, 2), Buffer.from([0, 0])])]);
    expect(decodePdu(answer)).toMatchObject({ type: PduType.Abort });
    await echoStillWorks();
  });

  it('aborts on a PDV referencing a presentation context that was not accepted', async () => {
    const answer = await rawExchange([rqBytes(), Buffer.concat([pDataHeaderWithPdv(99, true, true, 2), Buffer.from([0, 0])])]);
    const acLen = 6 + answer.readUInt32BE(2);
    expect(decodePdu(answer.subarray(acLen))).toMatchObject({ type: PduType.Abort, source: 2 });
    expect(events.some((e) => /context 99/.test(e))).toBe(true);
    await echoStillWorks();
  });

  it('aborts on an undecodable command set', async () => {
    const answer = await rawExchange([rqBytes(), Buffer.concat([pDataHeaderWithPdv(1, true, true, 4), Buffer.from([1, 2, 3, 4])])]);
    const acLen = 6 + answer.readUInt32BE(2);
    expect(decodePdu(answer.subarray(acLen))).toMatchObject({ type: PduType.Abort });
    await echoStillWorks();
  });

  it('rejects an association the policy refuses, with the policy reason', async () => {
    const s2 = new DimseServer({ handlers: {}, policy: () => ({ accept: false, reject: { result: 'permanent', source: 'service-user', reason: 7 } }) });
    const { port: p2 } = await s2.listen({ host: '127.0.0.1', port: 0 });
    await expect(connect({ host: '127.0.0.1', port: p2, callingAe: 'T', calledAe: 'NOPE', contexts: [{ abstractSyntax: VerificationSOPClass, transferSyntaxes: [ImplicitVRLittleEndian] }] }))
      .rejects.toThrow(/called AE title not recognized/);
    await s2.close({ drain: true });
  });

  it('drains: close({ drain: true }) waits for an open association to release', async () => {
    const a = await connect({ host: '127.0.0.1', port, callingAe: 'T', calledAe: 'LOIRE', contexts: [{ abstractSyntax: VerificationSOPClass, transferSyntaxes: [ImplicitVRLittleEndian] }] });
    let closed = false;
    const closing = server.close({ drain: true }).then(() => { closed = true; });
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false);
    expect(await a.echo()).toBe(0); // the open association still works
    await expect(connect({ host: '127.0.0.1', port, callingAe: 'T', calledAe: 'LOIRE', contexts: [{ abstractSyntax: VerificationSOPClass, transferSyntaxes: [ImplicitVRLittleEndian] }] })).rejects.toThrow();
    await a.release();
    await closing;
    expect(closed).toBe(true);
  });

  it('closes a connection that sends no A-ASSOCIATE-RQ within ARTIM, and an idle association after the DIMSE timeout', async () => {
    const s2 = new DimseServer({ handlers: {}, timeouts: { artimMs: 200, dimseMs: 300 } });
    const aborted: string[] = [];
    s2.on('association-aborted', (e) => aborted.push(e.reason));
    const { port: p2 } = await s2.listen({ host: '127.0.0.1', port: 0 });
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const sock = net.connect({ host: '127.0.0.1', port: p2 });
      sock.on('close', () => resolve());
      sock.on('error', () => undefined);
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    const a = await connect({ host: '127.0.0.1', port: p2, callingAe: 'T', calledAe: 'LOIRE', contexts: [{ abstractSyntax: VerificationSOPClass, transferSyntaxes: [ImplicitVRLittleEndian] }] });
    const peerAbort = new Promise<string>((resolve) => a.once('aborted', (e) => resolve(e.source)));
    expect(await peerAbort).toBe('peer');
    expect(aborted.some((r) => /idle/.test(r))).toBe(true);
    await s2.close({ drain: true });
  });

  it('aborts an association whose peer stalls in the middle of a dataset (DIMSE timeout)', async () => {
    const sinkAborted: Error[] = [];
    const s3 = new DimseServer({
      handlers: { onStore: () => ({ write: () => undefined, end: async () => ({ status: 0 }), abort: (e) => { sinkAborted.push(e); } }) },
      timeouts: { dimseMs: 300 },
    });
    const reasons: string[] = [];
    s3.on('association-aborted', (e) => reasons.push(e.reason));
    const { port: p3 } = await s3.listen({ host: '127.0.0.1', port: 0 });
    const ct = '1.2.840.10008.5.1.4.1.1.2';
    const a = await connect({ host: '127.0.0.1', port: p3, callingAe: 'T', calledAe: 'LOIRE', contexts: [{ abstractSyntax: ct, transferSyntaxes: ['1.2.840.10008.1.2.1'] }] });
    async function* stalls(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(300_000); // more than one PDV's worth goes out, then nothing
      await new Promise((r) => setTimeout(r, 5_000));
    }
    await expect(a.store({ sopClassUid: ct, sopInstanceUid: '1.2.3', transferSyntaxUid: '1.2.840.10008.1.2.1', dataset: stalls() })).rejects.toThrow(/aborted/);
    expect(reasons.some((r) => /stopped sending in the middle/.test(r))).toBe(true);
    expect(sinkAborted).toHaveLength(1);
    await s3.close({ drain: true });
  });
});
