// Storage Commitment Push Model SCP (PS3.4 annex J): an instance is committed only once the
// index holds it and its bytes are on stable storage (fsynced). The result goes back in an
// N-EVENT-REPORT on the same association if it is still open, or on a new one to the requester.
import {
  connect, nEventReport, StorageCommitment, type Association, type NActionContext, type NActionHandler, type TlsOptions,
} from '@loire/dicom-net';
import { DatasetParser, encodeDataset, fromDicomJson, toDicomJson, type DicomJson, type DicomJsonAttribute } from '@loire/dicom';
import type { DicomNode } from '../config/config.js';
import type { ArchiveIndex } from '../index/index.js';
import type { Logger } from '../logger.js';
import { MISSING_OBJECT, type ObjectStorage } from '../storage/storage.js';

const Tags = {
  TransactionUID: '00081195',
  ReferencedSOPSequence: '00081199',
  FailedSOPSequence: '00081198',
  ReferencedSOPClassUID: '00081150',
  ReferencedSOPInstanceUID: '00081155',
  FailureReason: '00081197',
  RetrieveAETitle: '00080054',
} as const;

const FailureReason = { ProcessingFailure: 0x0110, NoSuchObjectInstance: 0x0112, ClassInstanceConflict: 0x0119 } as const;
const Status = { Success: 0x0000, InvalidArgument: 0x0115, NoSuchActionType: 0x0123 } as const;

export interface CommitmentDependencies {
  index: ArchiveIndex;
  storage: ObjectStorage;
  logger: Logger;
  aeTitle: string;
  nodes: () => readonly DicomNode[];
  /** TLS settings to reach a node marked `tls: true` (undefined: plain DICOM). */
  tlsFor: (node: DicomNode) => TlsOptions | undefined;
}

interface Reference { sopClassUid: string; sopInstanceUid: string }

function firstString(attr: DicomJsonAttribute | undefined): string | undefined {
  const v = attr?.Value?.[0];
  return typeof v === 'string' ? v : undefined;
}

export function parseCommitmentRequest(json: DicomJson): { transactionUid: string; references: Reference[] } {
  const transactionUid = firstString(json[Tags.TransactionUID]);
  if (!transactionUid) throw new Error('Transaction UID (0008,1195) is missing');
  const items = json[Tags.ReferencedSOPSequence]?.Value ?? [];
  const references = items.map((item, i) => {
    const entry = item as DicomJson;
    const sopClassUid = firstString(entry[Tags.ReferencedSOPClassUID]);
    const sopInstanceUid = firstString(entry[Tags.ReferencedSOPInstanceUID]);
    if (!sopClassUid || !sopInstanceUid) throw new Error(`Referenced SOP Sequence item ${i + 1} lacks a SOP Class or Instance UID`);
    return { sopClassUid, sopInstanceUid };
  });
  if (references.length === 0) throw new Error('Referenced SOP Sequence (0008,1199) is empty');
  return { transactionUid, references };
}

/** Checks every reference against the index, fsyncs what is there, and builds the event report. */
export async function commit(deps: CommitmentDependencies, transactionUid: string, references: Reference[]): Promise<{ eventTypeId: number; json: DicomJson }> {
  let committed: Reference[] = [];
  const failed: (Reference & { reason: number })[] = [];
  const keys: string[] = [];
  for (const ref of references) {
    const instance = await deps.index.getInstance(ref.sopInstanceUid);
    if (!instance) failed.push({ ...ref, reason: FailureReason.NoSuchObjectInstance });
    else if (instance.sopClassUid !== ref.sopClassUid) failed.push({ ...ref, reason: FailureReason.ClassInstanceConflict });
    else {
      committed.push(ref);
      keys.push(instance.storageKey);
    }
  }
  try {
    await deps.storage.sync(keys);
  } catch {
    // One object may be to blame (its file gone): each is forced on its own, so that the
    // others are still committed.
    const forced: Reference[] = [];
    for (const [i, ref] of committed.entries()) {
      try {
        await deps.storage.sync([keys[i]!]);
        forced.push(ref);
      } catch (err) {
        const gone = (err as NodeJS.ErrnoException).code === 'ENOENT';
        deps.logger.error({ transactionUid, sopInstanceUid: ref.sopInstanceUid, storageKey: keys[i], reason: (err as Error).message },
          gone ? `storage commitment: ${MISSING_OBJECT}` : 'storage commitment: fsync failed');
        failed.push({ ...ref, reason: FailureReason.ProcessingFailure });
      }
    }
    committed = forced;
  }
  const item = (r: Reference): DicomJson => ({
    [Tags.ReferencedSOPClassUID]: { vr: 'UI', Value: [r.sopClassUid] },
    [Tags.ReferencedSOPInstanceUID]: { vr: 'UI', Value: [r.sopInstanceUid] },
  });
  const json: DicomJson = {
    [Tags.TransactionUID]: { vr: 'UI', Value: [transactionUid] },
    [Tags.RetrieveAETitle]: { vr: 'AE', Value: [deps.aeTitle] },
  };
  if (committed.length) json[Tags.ReferencedSOPSequence] = { vr: 'SQ', Value: committed.map(item) };
  if (failed.length) {
    json[Tags.FailedSOPSequence] = {
      vr: 'SQ',
      Value: failed.map((f) => ({ ...item(f), [Tags.FailureReason]: { vr: 'US', Value: [f.reason] } })),
    };
  }
  return { eventTypeId: failed.length ? StorageCommitment.failuresEventType : StorageCommitment.successEventType, json };
}

async function report(deps: CommitmentDependencies, requester: Association, result: { eventTypeId: number; json: DicomJson }): Promise<void> {
  const dataset = fromDicomJson(result.json);
  if (requester.isOpen) {
    const ts = requester.contexts.find((c) => c.accepted && c.abstractSyntax === StorageCommitment.sopClassUid)?.transferSyntax;
    if (ts) {
      try {
        await nEventReport(requester, { eventTypeId: result.eventTypeId, dataset: encodeDataset(dataset, { transferSyntaxUid: ts }) });
        return;
      } catch (err) {
        deps.logger.info({ reason: (err as Error).message }, 'storage commitment: requester association gone, reporting on a new one');
      }
    }
  }
  const callingAe = requester.callingAe.trim();
  const node = deps.nodes().find((n) => n.aeTitle === callingAe && n.host !== undefined && n.port !== undefined);
  if (!node?.host || !node.port) throw new Error(`${callingAe} is not a configured DICOM node with host and port: cannot send its storage commitment result`);
  const association = await connect({
    host: node.host, port: node.port, callingAe: deps.aeTitle, calledAe: node.aeTitle, tls: deps.tlsFor(node),
    contexts: [{ abstractSyntax: StorageCommitment.sopClassUid, transferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'] }],
    // We send N-EVENT-REPORT as the association requestor: we take the SCP role (PS3.4 J.3.3).
    roles: [{ sopClassUid: StorageCommitment.sopClassUid, scu: false, scp: true }],
  });
  try {
    const ts = association.contexts.find((c) => c.accepted)?.transferSyntax;
    if (!ts) throw new Error(`${node.aeTitle} accepted no context for Storage Commitment`);
    await nEventReport(association, { eventTypeId: result.eventTypeId, dataset: encodeDataset(dataset, { transferSyntaxUid: ts }) });
  } finally {
    await association.release().catch(() => association.abort('release failed'));
  }
}

export function nActionHandler(deps: CommitmentDependencies): NActionHandler {
  return (ctx: NActionContext) => {
    if (ctx.actionTypeId !== StorageCommitment.requestActionType) {
      return { status: Status.NoSuchActionType, errorComment: `action type ${ctx.actionTypeId} is not Request Storage Commitment` };
    }
    let request: { transactionUid: string; references: Reference[] };
    try {
      if (!ctx.dataset) throw new Error('N-ACTION without a dataset');
      const parser = new DatasetParser({ transferSyntaxUid: ctx.transferSyntaxUid });
      parser.push(ctx.dataset);
      request = parseCommitmentRequest(toDicomJson(parser.end()));
    } catch (err) {
      return { status: Status.InvalidArgument, errorComment: (err as Error).message.slice(0, 64) };
    }
    const requester = ctx.association;
    // Answer the N-ACTION first; the commitment itself follows asynchronously (PS3.4 J.3.2).
    setImmediate(() => {
      commit(deps, request.transactionUid, request.references)
        .then((result) => report(deps, requester, result).then(() => {
          deps.logger.info({ transactionUid: request.transactionUid, instances: request.references.length, eventTypeId: result.eventTypeId, to: requester.callingAe }, 'storage commitment reported');
        }))
        .catch((err: unknown) => {
          deps.logger.error({ transactionUid: request.transactionUid, to: requester.callingAe, reason: (err as Error).message }, 'storage commitment result could not be delivered');
        });
    });
    return { status: Status.Success };
  };
}
