// Our SCU against our SCP, over real sockets: every service, streaming and backpressure.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ExplicitVRLittleEndian, ImplicitVRLittleEndian, StorageCommitmentPushModelSOPClass, VerificationSOPClass } from '@loire/dicom';
import { connect, type ClientConnectOptions } from '../client.js';
import { DimseServer, type DimseServerOptions } from '../server.js';
import { QueryRetrieve } from '../acse/negotiation.js';
import { Status } from '../dimse/status.js';
import type { DatasetSink, StoreHandler } from './storage.js';
import { StorageCommitment } from './storage-commitment.js';
import type { ServiceHandlers } from './dispatcher.js';
import path from 'node:path';
import { samplesDir } from '../test-support/dcmtk.js';
import { readPart10 } from '../test-support/part10.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const servers: DimseServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ drain: false })));
});

async function startServer(handlers: ServiceHandlers, extra: Partial<DimseServerOptions> = {}): Promise<number> {
  const s = new DimseServer({ handlers, ...extra });
  servers.push(s);
  return (await s.listen({ host: '127.0.0.1', port: 0 })).port;
}

function client(port: number, o: Partial<ClientConnectOptions> = {}) {
  return connect({
    host: '127.0.0.1', port, callingAe: 'SCU', calledAe: 'LOIRE',
    contexts: [
      { abstractSyntax: VerificationSOPClass, transferSyntaxes: [ImplicitVRLittleEndian] },
      { abstractSyntax: CT, transferSyntaxes: [ExplicitVRLittleEndian] },
      { abstractSyntax: QueryRetrieve.StudyRootFind, transferSyntaxes: [ExplicitVRLittleEndian] },
      { abstractSyntax: QueryRetrieve.StudyRootGet, transferSyntaxes: [ExplicitVRLittleEndian] },
      { abstractSyntax: QueryRetrieve.StudyRootMove, transferSyntaxes: [ExplicitVRLittleEndian] },
      { abstractSyntax: StorageCommitmentPushModelSOPClass, transferSyntaxes: [ExplicitVRLittleEndian] },
    ],
    ...o,
  });
}

/** A sink that stores chunks (copied) after an asynchronous delay, like a disk write. */
function memorySink(into: { chunks: Buffer[]; ended: boolean; aborted?: Error }): DatasetSink {
  return {
    write: (chunk) => new Promise<void>((resolve) => setTimeout(() => { into.chunks.push(Buffer.from(chunk)); resolve(); }, 1)),
    end: async () => { into.ended = true; return { status: Status.Success }; },
    abort: (e) => { into.aborted = e; },
  };
}

async function* inPieces(buf: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

describe('C-ECHO and C-STORE', () => {
  it('streams a dataset fragment by fragment within the receiver max PDU, with backpressure', async () => {
    const got = { chunks: [] as Buffer[], ended: false };
    let ctxSeen: Parameters<StoreHandler>[0] | undefined;
    const port = await startServer({ onStore: (ctx) => { ctxSeen = ctx; return memorySink(got); } }, { maxPdu: 4096 });
    const a = await client(port);
    expect(a.contexts.find((c) => c.abstractSyntax === CT)).toMatchObject({ accepted: true, transferSyntax: ExplicitVRLittleEndian });
    expect(await a.echo()).toBe(Status.Success);
    const dataset = randomBytes(100_003);
    const r = await a.store({ sopClassUid: CT, sopInstanceUid: '1.2.3.4', transferSyntaxUid: ExplicitVRLittleEndian, dataset: inPieces(dataset, 7001), moveOriginator: { ae: 'ORIG', messageId: 9 } });
    expect(r.status).toBe(Status.Success);
    expect(got.ended).toBe(true);
    expect(Buffer.concat(got.chunks).equals(dataset)).toBe(true);
    expect(got.chunks.length).toBeGreaterThanOrEqual(Math.ceil(dataset.length / (4096 - 6)));
    expect(Math.max(...got.chunks.map((c) => c.length))).toBeLessThanOrEqual(4096 - 6);
    expect(ctxSeen).toMatchObject({ sopClassUid: CT, sopInstanceUid: '1.2.3.4', transferSyntaxUid: ExplicitVRLittleEndian, moveOriginatorAe: 'ORIG', moveOriginatorMessageId: 9 });
    // A second, in-memory store on the same association.
    const small = randomBytes(300);
    got.chunks = [];
    expect((await a.store({ sopClassUid: CT, sopInstanceUid: '1.2.3.5', transferSyntaxUid: ExplicitVRLittleEndian, dataset: small })).status).toBe(0);
    expect(Buffer.concat(got.chunks).equals(small)).toBe(true);
    await a.release();
  });

  it('answers a failing sink with a failure status and keeps the association', async () => {
    const port = await startServer({
      onStore: () => ({ write: () => Promise.reject(new Error('disk full')), end: async () => ({ status: 0 }), abort: () => undefined }),
    });
    const a = await client(port);
    const r = await a.store({ sopClassUid: CT, sopInstanceUid: '1.2.3', transferSyntaxUid: ExplicitVRLittleEndian, dataset: randomBytes(1000) });
    expect(r.status).toBe(Status.RefusedOutOfResources);
    expect(r.errorComment).toBe('disk full');
    expect(await a.echo()).toBe(0);
    await a.release();
  });

  it('aborts the sink when the association dies mid-dataset', async () => {
    const got = { chunks: [] as Buffer[], ended: false, aborted: undefined as Error | undefined };
    let sinkOpened!: () => void;
    const opened = new Promise<void>((r) => { sinkOpened = r; });
    const port = await startServer({ onStore: () => { sinkOpened(); return memorySink(got); } }, { maxPdu: 4096 });
    const a = await client(port);
    async function* neverEnding(): AsyncGenerator<Uint8Array> {
      yield randomBytes(20_000);
      await new Promise((r) => setTimeout(r, 60_000));
    }
    const storing = a.store({ sopClassUid: CT, sopInstanceUid: '1.2.3', transferSyntaxUid: ExplicitVRLittleEndian, dataset: neverEnding() });
    await opened;
    await new Promise((r) => setTimeout(r, 100));
    a.abort('test abort');
    await expect(storing).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 100));
    expect(got.aborted).toBeInstanceOf(Error);
    expect(got.ended).toBe(false);
  });

  it('refuses to send in a transfer syntax that was not accepted, with a useful message', async () => {
    const port = await startServer({});
    const a = await client(port);
    await expect(a.store({ sopClassUid: CT, sopInstanceUid: '1', transferSyntaxUid: '1.2.840.10008.1.2.4.50', dataset: new Uint8Array(2) }))
      .rejects.toThrow(/no presentation context for SOP class 1.2.840.10008.5.1.4.1.1.2 in 1.2.840.10008.1.2.4.50.*accepted in 1.2.840.10008.1.2.1/);
    await a.release();
  });
});

describe('default association policy', () => {
  it('accepts HTJ2K, deflate and private storage classes, first proposed syntax we support', async () => {
    const src = readPart10(path.join(samplesDir, 'syntaxes/htj2k/CT1_JPH'));
    const got = { chunks: [] as Buffer[], ended: false };
    const port = await startServer({ onStore: () => memorySink(got) });
    const a = await connect({
      host: '127.0.0.1', port, callingAe: 'SCU', calledAe: 'LOIRE',
      contexts: [
        { abstractSyntax: src.sopClassUid, transferSyntaxes: ['1.2.3.4.5.6.7', src.transferSyntaxUid, ExplicitVRLittleEndian] },
        { abstractSyntax: '1.3.12.2.1107.5.9.1', transferSyntaxes: ['1.2.840.10008.1.2.1.99'] }, // private storage class, deflated
        { abstractSyntax: '1.2.840.10008.5.1.4.31', transferSyntaxes: [ImplicitVRLittleEndian] }, // worklist: not in the default policy
      ],
    });
    expect(a.contexts.map((c) => [c.accepted, c.transferSyntax])).toEqual([[true, src.transferSyntaxUid], [true, '1.2.840.10008.1.2.1.99'], [false, '']]);
    expect((await a.store({ sopClassUid: src.sopClassUid, sopInstanceUid: src.sopInstanceUid, transferSyntaxUid: src.transferSyntaxUid, dataset: src.dataset })).status).toBe(0);
    expect(Buffer.concat(got.chunks).equals(src.dataset)).toBe(true);
    await a.release();
  });
});

describe('C-FIND', () => {
  it('returns one pending response per match, then success', async () => {
    let identifierSeen: Buffer | undefined;
    const port = await startServer({
      async *onFind(ctx) {
        identifierSeen = Buffer.from(ctx.identifier);
        for (let i = 0; i < 3; i++) yield Buffer.from(`match-${i}`);
      },
    });
    const a = await client(port);
    const responses = [];
    for await (const r of a.find(QueryRetrieve.StudyRootFind, Buffer.from('query!'), ExplicitVRLittleEndian)) responses.push(r);
    expect(identifierSeen?.toString()).toBe('query!');
    expect(responses.map((r) => [r.status, r.identifier ? Buffer.from(r.identifier).toString() : undefined]))
      .toEqual([[0xff00, 'match-0'], [0xff00, 'match-1'], [0xff00, 'match-2'], [0, undefined]]);
    await a.release();
  });

  it('reports a handler failure and the status it sets', async () => {
    const port = await startServer({
      async *onFind(ctx) {
        if (Buffer.from(ctx.identifier).toString() === 'bad') throw new Error('index offline');
        ctx.setFinalStatus(0xa900, 'identifier does not match');
      },
    });
    const a = await client(port);
    const all = async (q: string) => { const out = []; for await (const r of a.find(QueryRetrieve.StudyRootFind, Buffer.from(q), ExplicitVRLittleEndian)) out.push(r); return out; };
    expect(await all('bad')).toEqual([{ status: Status.UnableToProcess, identifier: undefined, errorComment: 'index offline' }]);
    expect(await all('odd!')).toEqual([{ status: 0xa900, identifier: undefined, errorComment: 'identifier does not match' }]);
    await a.release();
  });

  it('sends C-CANCEL when the caller stops early and the handler sees its signal', async () => {
    let signal: AbortSignal | undefined;
    const port = await startServer({
      async *onFind(ctx) {
        signal = ctx.signal;
        for (let i = 0; !ctx.signal.aborted; i++) {
          yield Buffer.from(`m${i}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      },
    });
    const a = await client(port);
    let n = 0;
    for await (const r of a.find(QueryRetrieve.StudyRootFind, Buffer.from('q0'), ExplicitVRLittleEndian)) {
      expect(r.status).toBe(0xff00);
      if (++n === 2) break;
    }
    expect(signal?.aborted).toBe(true);
    expect(await a.echo()).toBe(0); // the association is still in step
    await a.release();
  });
});

describe('C-GET and C-MOVE', () => {
  it('C-GET sends sub-operations as C-STORE on the same association to the SCP-role requestor', async () => {
    const instances = [randomBytes(5000), randomBytes(70_000)];
    const port = await startServer({
      async onGet(ctx) {
        let completed = 0;
        let failed = 0;
        const failedUids: string[] = [];
        for (let i = 0; i < 3; i++) {
          const pc = ctx.findAcceptedContext(CT, [ExplicitVRLittleEndian]);
          expect(pc).toBeDefined();
          const r = await ctx.store({ sopClassUid: CT, sopInstanceUid: `1.2.${i}`, transferSyntaxUid: pc!.transferSyntax, dataset: i < 2 ? inPieces(instances[i]!, 4000) : new Uint8Array(4) });
          if (r.status === 0) completed++;
          else { failed++; failedUids.push(`1.2.${i}`); }
          ctx.reportProgress({ remaining: 2 - i, completed, failed, warning: 0 });
        }
        return { completed, failed, warning: 0, failedSopInstanceUids: failedUids };
      },
    });
    const received = new Map<string, Buffer[]>();
    const a = await client(port, { roles: [{ sopClassUid: CT, scu: true, scp: true }] });
    const progress: number[] = [];
    const out = await a.get(QueryRetrieve.StudyRootGet, Buffer.from('id'), ExplicitVRLittleEndian, {
      onProgress: (c) => progress.push(c.completed),
      onStore: (ctx) => {
        const chunks: Buffer[] = [];
        received.set(ctx.sopInstanceUid, chunks);
        return {
          write: (c) => { chunks.push(Buffer.from(c)); },
          end: async () => (ctx.sopInstanceUid === '1.2.2' ? { status: 0xa700, errorComment: 'no room' } : { status: 0 }),
          abort: () => undefined,
        };
      },
    });
    expect(Buffer.concat(received.get('1.2.0')!).equals(instances[0]!)).toBe(true);
    expect(Buffer.concat(received.get('1.2.1')!).equals(instances[1]!)).toBe(true);
    expect(progress).toEqual([1, 2, 2]);
    expect(out).toMatchObject({ status: Status.SubOperationsCompleteWithFailures, completed: 2, failed: 1, warning: 0 });
    // Failed SOP Instance UID List (0008,0058) UI "1.2.2" in explicit VR LE
    expect([...out.dataset!]).toEqual([8, 0, 0x58, 0, 0x55, 0x49, 6, 0, ...Buffer.from('1.2.2\0')]);
    await a.release();
  });

  it('C-GET fails cleanly when the requestor did not take the SCP role', async () => {
    const port = await startServer({
      async onGet(ctx) {
        await ctx.store({ sopClassUid: CT, sopInstanceUid: '1', transferSyntaxUid: ExplicitVRLittleEndian, dataset: new Uint8Array(2) });
        return { completed: 1, failed: 0, warning: 0 };
      },
    });
    const a = await client(port);
    const out = await a.get(QueryRetrieve.StudyRootGet, Buffer.from('id'), ExplicitVRLittleEndian);
    expect(out.status).toBe(Status.UnableToProcess);
    expect(out.errorComment).toMatch(/did not accept the SCP role/);
    await a.release();
  });

  it('C-MOVE: the handler decides an unknown destination (0xA801)', async () => {
    const port = await startServer({
      async onMove(ctx) {
        if (ctx.moveDestination !== 'KNOWN') return { status: Status.RefusedMoveDestinationUnknown, completed: 0, failed: 0, warning: 0, errorComment: `unknown AE ${ctx.moveDestination}` };
        return { completed: 0, failed: 0, warning: 0 };
      },
    });
    const a = await client(port);
    const out = await a.move(QueryRetrieve.StudyRootMove, Buffer.from('id'), 'NOWHERE', ExplicitVRLittleEndian);
    expect(out).toMatchObject({ status: 0xa801, errorComment: 'unknown AE NOWHERE' });
    expect((await a.move(QueryRetrieve.StudyRootMove, Buffer.from('id'), 'KNOWN', ExplicitVRLittleEndian)).status).toBe(0);
    await a.release();
  });
});

describe('Storage Commitment Push Model', () => {
  const commitRequest = Buffer.from('transaction+refs');
  const report = Buffer.from('committed-list');

  it('N-ACTION, then N-EVENT-REPORT on the same association', async () => {
    let reportSent: Promise<unknown> | undefined;
    const port = await startServer({
      onNAction(ctx) {
        expect(ctx.actionTypeId).toBe(1);
        expect(ctx.sopInstanceUid).toBe(StorageCommitment.sopInstanceUid);
        expect(Buffer.from(ctx.dataset!).equals(commitRequest)).toBe(true);
        // The result goes back later, from the SCP, on the same association.
        reportSent = new Promise((r) => setTimeout(r, 20)).then(() => ctx.association.sendNEventReport({ eventTypeId: 1, dataset: report }));
        return { status: 0 };
      },
    });
    const reports: Buffer[] = [];
    let gotReport!: () => void;
    const arrived = new Promise<void>((r) => { gotReport = r; });
    const a = await client(port, {
      handlers: { onNEventReport: (ctx) => { reports.push(Buffer.from(ctx.dataset!)); expect(ctx.eventTypeId).toBe(1); gotReport(); return { status: 0 }; } },
    });
    const rsp = await a.nAction({ actionTypeId: StorageCommitment.requestActionType, dataset: commitRequest });
    expect(rsp.status).toBe(0);
    await arrived;
    expect(await reportSent).toMatchObject({ status: 0 });
    expect(reports[0]!.equals(report)).toBe(true);
    await a.release();
  });

  it('N-EVENT-REPORT on a new association where the requestor takes the SCP role', async () => {
    const reports: Array<{ event: number; data: Buffer; calling: string }> = [];
    const scuPort = await startServer({
      onNEventReport: (ctx) => { reports.push({ event: ctx.eventTypeId, data: Buffer.from(ctx.dataset!), calling: ctx.association.callingAe }); return { status: 0 }; },
    });
    const back = await connect({
      host: '127.0.0.1', port: scuPort, callingAe: 'ARCHIVE', calledAe: 'MODALITY',
      contexts: [{ abstractSyntax: StorageCommitmentPushModelSOPClass, transferSyntaxes: [ExplicitVRLittleEndian] }],
      roles: [{ sopClassUid: StorageCommitmentPushModelSOPClass, scu: false, scp: true }],
    });
    expect(back.contexts[0]).toMatchObject({ accepted: true, requestorIsScp: true, requestorIsScu: false });
    const rsp = await back.sendNEventReport({ eventTypeId: StorageCommitment.failuresEventType, dataset: report });
    expect(rsp.status).toBe(0);
    expect(reports).toEqual([{ event: 2, data: report, calling: 'ARCHIVE' }]);
    await back.release();
  });
});
