// Storage Commitment Push Model (PS3.4 annex J) as a modality uses it: the test plays the modality
// with Loire's own SCU (N-ACTION) and SCP (N-EVENT-REPORT), against an in-process Loire, and checks
// the reports on the requester's association and on a new one Loire opens when that one is gone.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DatasetParser, encodeDataset, fromDicomJson, toDicomJson, type DicomJson } from '@loire/dicom';
import {
  connect, defaultAssociationPolicy, DimseServer, nAction, StorageCommitment,
  type ClientAssociation, type NEventReportContext, type NResult,
} from '@loire/dicom-net';
import { runTool } from '../testing/dcmtk.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { samplePath, storableSamples, type SampleEntry } from '../testing/samples.js';

const MODALITY_AE = 'CT_MODALITY';
const STRANGER_AE = 'NOT_A_NODE';
const ExplicitVRLittleEndian = '1.2.840.10008.1.2.1';

const Tag = {
  TransactionUID: '00081195',
  FailedSOPSequence: '00081198',
  ReferencedSOPSequence: '00081199',
  ReferencedSOPClassUID: '00081150',
  ReferencedSOPInstanceUID: '00081155',
  FailureReason: '00081197',
  RetrieveAETitle: '00080054',
} as const;

interface Reference { sopClassUid: string; sopInstanceUid: string }

interface Report {
  eventTypeId: number;
  json: DicomJson;
  /** Which association carried it: the requester's own, or one Loire opened to the modality. */
  via: 'requester association' | 'new association';
  callingAe: string;
}

/** Reports as they arrive; next() waits for the one with a given Transaction UID. */
class ReportInbox {
  private readonly reports: Report[] = [];
  private readonly waiters: (() => void)[] = [];

  handler(via: Report['via']): (ctx: NEventReportContext) => NResult {
    return (ctx) => {
      const parser = new DatasetParser({ transferSyntaxUid: ctx.transferSyntaxUid });
      if (ctx.dataset) parser.push(ctx.dataset);
      this.reports.push({ eventTypeId: ctx.eventTypeId, json: toDicomJson(parser.end()), via, callingAe: ctx.association.callingAe.trim() });
      for (const wake of this.waiters.splice(0)) wake();
      return { status: 0 };
    };
  }

  async next(transactionUid: string): Promise<Report> {
    for (;;) {
      const found = this.reports.find((r) => r.json[Tag.TransactionUID]?.Value?.[0] === transactionUid);
      if (found) return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  get all(): readonly Report[] {
    return this.reports;
  }
}

const newUid = (): string => `2.25.${BigInt(`0x${randomBytes(15).toString('hex')}`).toString()}`;

function commitmentRequest(transactionUid: string, references: readonly Reference[]): Uint8Array {
  const json: DicomJson = {
    [Tag.TransactionUID]: { vr: 'UI', Value: [transactionUid] },
    [Tag.ReferencedSOPSequence]: {
      vr: 'SQ',
      Value: references.map((r) => ({
        [Tag.ReferencedSOPClassUID]: { vr: 'UI', Value: [r.sopClassUid] },
        [Tag.ReferencedSOPInstanceUID]: { vr: 'UI', Value: [r.sopInstanceUid] },
      })),
    },
  };
  return encodeDataset(fromDicomJson(json), { transferSyntaxUid: ExplicitVRLittleEndian });
}

/** The references of a report's sequence, with the failure reason for the Failed SOP Sequence. */
function referencesIn(report: Report, tag: string): (Reference & { reason?: number })[] {
  return (report.json[tag]?.Value ?? []).map((item) => {
    const entry = item as DicomJson;
    const reason = entry[Tag.FailureReason]?.Value?.[0];
    return {
      sopClassUid: String(entry[Tag.ReferencedSOPClassUID]?.Value?.[0]),
      sopInstanceUid: String(entry[Tag.ReferencedSOPInstanceUID]?.Value?.[0]),
      ...(typeof reason === 'number' ? { reason } : {}),
    };
  });
}

const byUid = <T extends Reference>(refs: T[]): T[] => [...refs].sort((a, b) => a.sopInstanceUid.localeCompare(b.sopInstanceUid));

describe('Storage Commitment Push Model SCP', () => {
  let loire: TestLoire;
  let modalityScp: DimseServer;
  const inbox = new ReportInbox();
  let stored: Reference[];
  /** Storage keys of the stored instances, by SOP Instance UID. */
  const keyOf = new Map<string, string>();

  beforeAll(async () => {
    modalityScp = new DimseServer({
      policy: defaultAssociationPolicy({ calledAeTitles: [MODALITY_AE] }),
      handlers: { onNEventReport: inbox.handler('new association') },
    });
    const { port } = await modalityScp.listen({ host: '127.0.0.1', port: 0 });
    loire = await startTestLoire({ dicomNodes: [{ name: 'ct', aeTitle: MODALITY_AE, host: '127.0.0.1', port }] });

    const samples: SampleEntry[] = storableSamples().filter((e) => e.path.startsWith('ct-series/philips-head-ct-std-brain-1mm/')).slice(0, 6);
    const sent = await runTool('dcmsend', ['-aet', MODALITY_AE, '-aec', loire.aeTitle, '127.0.0.1', String(loire.dicomPort), ...samples.map((e) => samplePath(e))]);
    expect(sent.code, sent.stderr).toBe(0);
    stored = samples.map((e) => ({ sopClassUid: e.sopClassUID!, sopInstanceUid: e.sopInstanceUID! }));
    for (const ref of stored) {
      const record = await loire.server.archive.index.getInstance(ref.sopInstanceUid);
      expect(record, ref.sopInstanceUid).toBeDefined();
      keyOf.set(ref.sopInstanceUid, record!.storageKey);
    }
  }, 120_000);

  afterAll(async () => {
    await loire?.stop();
    await modalityScp?.close({ drain: false });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  function requester(callingAe: string): Promise<ClientAssociation> {
    return connect({
      host: '127.0.0.1', port: loire.dicomPort, callingAe, calledAe: loire.aeTitle,
      contexts: [{ abstractSyntax: StorageCommitment.sopClassUid, transferSyntaxes: [ExplicitVRLittleEndian] }],
      handlers: { onNEventReport: inbox.handler('requester association') },
    });
  }

  async function requestCommitment(association: ClientAssociation, references: readonly Reference[]): Promise<string> {
    const transactionUid = newUid();
    const rsp = await nAction(association, {
      actionTypeId: StorageCommitment.requestActionType, dataset: commitmentRequest(transactionUid, references),
    });
    expect(rsp.status, rsp.errorComment).toBe(0);
    return transactionUid;
  }

  /** Records, in order, when the handler fsyncs and which objects. */
  function spyOnSync(before?: () => Promise<void>): { events: string[]; keys: string[][] } {
    const storage = loire.server.archive.storage;
    const original = storage.sync.bind(storage);
    const trace = { events: [] as string[], keys: [] as string[][] };
    vi.spyOn(storage, 'sync').mockImplementation(async (keys) => {
      await before?.();
      trace.events.push('sync started');
      trace.keys.push([...keys]);
      await original(keys);
      trace.events.push('sync done');
    });
    return trace;
  }

  it('commits stored instances (event type 1) and a mix with unknown ones (event type 2, 0x0112) on the requester association, after fsync', async () => {
    const association = await requester(MODALITY_AE);
    try {
      const sync = spyOnSync();
      const allStored = await requestCommitment(association, stored);
      const success = await inbox.next(allStored);
      sync.events.push('report received');
      expect(success.via).toBe('requester association');
      expect(success.eventTypeId).toBe(StorageCommitment.successEventType);
      expect(byUid(referencesIn(success, Tag.ReferencedSOPSequence))).toEqual(byUid(stored));
      expect(success.json[Tag.FailedSOPSequence]).toBeUndefined();
      expect(success.json[Tag.RetrieveAETitle]?.Value).toEqual([loire.aeTitle]);
      // The objects were forced to disk before the result went out.
      expect(sync.events).toEqual(['sync started', 'sync done', 'report received']);
      expect([...sync.keys[0]!].sort()).toEqual(stored.map((r) => keyOf.get(r.sopInstanceUid)!).sort());

      const unknown = [0, 1, 2].map(() => ({ sopClassUid: stored[0]!.sopClassUid, sopInstanceUid: newUid() }));
      const mix = [stored[0]!, unknown[0]!, stored[1]!, unknown[1]!, unknown[2]!];
      const mixed = await requestCommitment(association, mix);
      const partial = await inbox.next(mixed);
      expect(partial.via).toBe('requester association');
      expect(partial.eventTypeId).toBe(StorageCommitment.failuresEventType);
      expect(byUid(referencesIn(partial, Tag.ReferencedSOPSequence))).toEqual(byUid([stored[0]!, stored[1]!]));
      expect(byUid(referencesIn(partial, Tag.FailedSOPSequence))).toEqual(byUid(unknown.map((r) => ({ ...r, reason: 0x0112 }))));
      expect([...sync.keys[1]!].sort()).toEqual([stored[0]!, stored[1]!].map((r) => keyOf.get(r.sopInstanceUid)!).sort());
    } finally {
      await association.release();
    }
  }, 60_000);

  it('reports a stored instance under another SOP class as a class/instance conflict (0x0119)', async () => {
    const association = await requester(MODALITY_AE);
    try {
      const wrongClass = { sopClassUid: '1.2.840.10008.5.1.4.1.1.4', sopInstanceUid: stored[2]!.sopInstanceUid };
      const report = await inbox.next(await requestCommitment(association, [stored[3]!, wrongClass]));
      expect(report.eventTypeId).toBe(StorageCommitment.failuresEventType);
      expect(referencesIn(report, Tag.ReferencedSOPSequence)).toEqual([stored[3]!]);
      expect(referencesIn(report, Tag.FailedSOPSequence)).toEqual([{ ...wrongClass, reason: 0x0119 }]);
    } finally {
      await association.release();
    }
  }, 60_000);

  it('opens a new association to the requester (a configured node) when it released before the report', async () => {
    for (const [references, eventType] of [
      [stored, StorageCommitment.successEventType],
      [[stored[4]!, { sopClassUid: stored[4]!.sopClassUid, sopInstanceUid: newUid() }], StorageCommitment.failuresEventType],
    ] as const) {
      let released!: () => void;
      const requesterGone = new Promise<void>((resolve) => { released = resolve; });
      // Hold the commitment until the requester has released its association.
      const sync = spyOnSync(() => requesterGone);
      const association = await requester(MODALITY_AE);
      const transactionUid = await requestCommitment(association, references);
      await association.release();
      released();
      const report = await inbox.next(transactionUid);
      expect(report.via).toBe('new association');
      expect(report.callingAe).toBe(loire.aeTitle);
      expect(report.eventTypeId).toBe(eventType);
      const committed = references.filter((r) => keyOf.has(r.sopInstanceUid));
      expect(byUid(referencesIn(report, Tag.ReferencedSOPSequence))).toEqual(byUid([...committed]));
      expect(referencesIn(report, Tag.FailedSOPSequence).map((r) => r.reason)).toEqual(references.filter((r) => !keyOf.has(r.sopInstanceUid)).map(() => 0x0112));
      expect(sync.events).toEqual(['sync started', 'sync done']);
      vi.restoreAllMocks();
    }
  }, 60_000);

  it('fails every instance with 0x0110 when the objects cannot be forced to disk', async () => {
    vi.spyOn(loire.server.archive.storage, 'sync').mockRejectedValue(new Error('EIO: i/o error, fsync'));
    const association = await requester(MODALITY_AE);
    try {
      const report = await inbox.next(await requestCommitment(association, stored.slice(0, 2)));
      expect(report.eventTypeId).toBe(StorageCommitment.failuresEventType);
      expect(report.json[Tag.ReferencedSOPSequence]).toBeUndefined();
      expect(byUid(referencesIn(report, Tag.FailedSOPSequence))).toEqual(byUid(stored.slice(0, 2).map((r) => ({ ...r, reason: 0x0110 }))));
    } finally {
      await association.release();
    }
  }, 60_000);

  it('refuses a request without Transaction UID (0x0115), and cannot report to a requester that is not a configured node once it is gone', async () => {
    const association = await requester(STRANGER_AE);
    try {
      const noTransaction = encodeDataset(fromDicomJson({
        [Tag.ReferencedSOPSequence]: { vr: 'SQ', Value: [{ [Tag.ReferencedSOPClassUID]: { vr: 'UI', Value: [stored[0]!.sopClassUid] }, [Tag.ReferencedSOPInstanceUID]: { vr: 'UI', Value: [stored[0]!.sopInstanceUid] } }] },
      }), { transferSyntaxUid: ExplicitVRLittleEndian });
      const rsp = await nAction(association, { actionTypeId: StorageCommitment.requestActionType, dataset: noTransaction });
      expect(rsp.status).toBe(0x0115);
      expect(rsp.errorComment).toMatch(/Transaction UID/);
    } finally {
      await association.release();
    }

    // A stranger that releases first: Loire has nowhere to send the result; the modality's SCP gets nothing.
    let released!: () => void;
    const requesterGone = new Promise<void>((resolve) => { released = resolve; });
    let finished!: () => void;
    const commitmentDone = new Promise<void>((resolve) => { finished = resolve; });
    const storage = loire.server.archive.storage;
    const original = storage.sync.bind(storage);
    vi.spyOn(storage, 'sync').mockImplementation(async (keys) => {
      await requesterGone;
      await original(keys);
      finished();
    });
    const reportsBefore = inbox.all.length;
    const stranger = await requester(STRANGER_AE);
    const transactionUid = await requestCommitment(stranger, [stored[5]!]);
    await stranger.release();
    released();
    await commitmentDone;
    // Let the report attempt (a node lookup, no network) run to its end.
    await new Promise((r) => setTimeout(r, 200));
    expect(inbox.all.length).toBe(reportsBefore);
    expect(inbox.all.some((r) => r.json[Tag.TransactionUID]?.Value?.[0] === transactionUid)).toBe(false);
  }, 60_000);

  it('commits what is on disk and fails with 0x0110 only an instance whose object is missing from storage', async () => {
    // The object's file is gone (removed behind Loire's back), its index entry still there.
    await loire.server.archive.storage.delete(keyOf.get(stored[5]!.sopInstanceUid)!);
    const association = await requester(MODALITY_AE);
    try {
      const report = await inbox.next(await requestCommitment(association, [stored[4]!, stored[5]!]));
      expect(report.eventTypeId).toBe(StorageCommitment.failuresEventType);
      expect(referencesIn(report, Tag.ReferencedSOPSequence)).toEqual([stored[4]!]);
      expect(referencesIn(report, Tag.FailedSOPSequence)).toEqual([{ ...stored[5]!, reason: 0x0110 }]);
    } finally {
      await association.release();
    }
  }, 60_000);
});
