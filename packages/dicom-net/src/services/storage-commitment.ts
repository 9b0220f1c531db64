// PS3.4 annex J: Storage Commitment Push Model. N-ACTION-RQ (request commitment) and
// N-EVENT-REPORT-RQ (the result), both directions; datasets cross as bytes.
import type { ServiceAssociation } from './service-association.js';
import type { Association } from '../association.js';
import { StorageCommitmentPushModelSOPClass, StorageCommitmentPushModelSOPInstance } from '@loire/dicom';
import type { Command } from '../dimse/command.js';
import { nActionRq, nEventReportRq } from '../dimse/messages.js';
import { Status } from '../dimse/status.js';
import { errorMessage, requireContext, respond } from './common.js';

export const StorageCommitment = {
  sopClassUid: StorageCommitmentPushModelSOPClass,
  sopInstanceUid: StorageCommitmentPushModelSOPInstance,
  /** N-ACTION Action Type ID: Request Storage Commitment. */
  requestActionType: 1,
  /** N-EVENT-REPORT Event Type ID: all instances committed. */
  successEventType: 1,
  /** N-EVENT-REPORT Event Type ID: some instances failed. */
  failuresEventType: 2,
} as const;

export interface NRequestContext {
  readonly association: ServiceAssociation;
  readonly presentationContextId: number;
  readonly transferSyntaxUid: string;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly dataset?: Uint8Array;
  readonly command: Command;
}

export interface NActionContext extends NRequestContext {
  readonly actionTypeId: number;
}
export interface NEventReportContext extends NRequestContext {
  readonly eventTypeId: number;
}

export interface NResult {
  readonly status: number;
  readonly errorComment?: string;
  /** Action/Event Reply dataset, in the context's transfer syntax. */
  readonly reply?: Uint8Array;
}

export type NActionHandler = (ctx: NActionContext) => NResult | Promise<NResult>;
export type NEventReportHandler = (ctx: NEventReportContext) => NResult | Promise<NResult>;

export async function handleNRequest(
  association: ServiceAssociation, contextId: number, rq: Command, dataset: Uint8Array | undefined,
  handler: NActionHandler | NEventReportHandler | undefined,
): Promise<void> {
  const pc = association.acceptedContext(contextId)!;
  if (!handler) {
    await respond(association, contextId, rq, { status: Status.UnrecognizedOperation, errorComment: 'operation not supported here' });
    return;
  }
  association.busyLocal++;
  const base = {
    association, presentationContextId: contextId, transferSyntaxUid: pc.transferSyntax,
    sopClassUid: rq.requestedSopClassUid ?? rq.affectedSopClassUid ?? '',
    sopInstanceUid: rq.requestedSopInstanceUid ?? rq.affectedSopInstanceUid ?? '', dataset, command: rq,
  };
  let result: NResult;
  try {
    result = await (handler as (c: NActionContext & NEventReportContext) => NResult | Promise<NResult>)({
      ...base, actionTypeId: rq.actionTypeId ?? 0, eventTypeId: rq.eventTypeId ?? 0,
    });
  } catch (e) {
    result = { status: Status.ProcessingFailure, errorComment: errorMessage(e) };
  } finally {
    association.busyLocal--;
  }
  await respond(association, contextId, rq, { status: result.status, errorComment: result.errorComment }, result.reply);
}

export interface NRequest {
  readonly sopClassUid?: string;
  readonly sopInstanceUid?: string;
  readonly dataset?: Uint8Array;
  /** Transfer syntax of `dataset`; default: whichever the context was accepted with. */
  readonly transferSyntaxUid?: string;
}

export interface NResponse {
  readonly status: number;
  readonly errorComment?: string;
  readonly reply?: Uint8Array;
  readonly command: Command;
}

async function nRequest(association: Association, req: NRequest, build: (sop: string, inst: string, withDs: boolean) => Command, name: string): Promise<NResponse> {
  const sop = req.sopClassUid ?? StorageCommitment.sopClassUid;
  const pc = requireContext(association, sop, req.transferSyntaxUid ? [req.transferSyntaxUid] : [], name);
  const rq = build(sop, req.sopInstanceUid ?? StorageCommitment.sopInstanceUid, req.dataset !== undefined);
  let out: NResponse | undefined;
  await association.request(pc.id, rq, req.dataset, (rsp, ds) => {
    out = { status: rsp.status ?? Status.ProcessingFailure, errorComment: rsp.errorComment, reply: ds, command: rsp };
    return true;
  });
  return out!;
}

/** N-ACTION SCU (Storage Commitment: action type 1 with the Referenced SOP Sequence dataset). */
export function nAction(association: Association, req: NRequest & { readonly actionTypeId: number }): Promise<NResponse> {
  return nRequest(association, req, (s, i, d) => nActionRq(s, i, req.actionTypeId, d), 'N-ACTION');
}

/** N-EVENT-REPORT (Storage Commitment result: event type 1 success, 2 with failures). */
export function nEventReport(association: Association, req: NRequest & { readonly eventTypeId: number }): Promise<NResponse> {
  return nRequest(association, req, (s, i, d) => nEventReportRq(s, i, req.eventTypeId, d), 'N-EVENT-REPORT');
}
