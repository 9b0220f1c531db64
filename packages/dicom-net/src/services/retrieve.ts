// PS3.4 annex C.4.2 and C.4.3: Query/Retrieve MOVE and GET. The application drives the
// C-STORE sub-operations; this module carries the pending/final responses and the counts.
import type { ServiceAssociation } from './service-association.js';
import type { Association } from '../association.js';
import type { NegotiatedContext } from '../acse/negotiation.js';
import { type Command, CommandField } from '../dimse/command.js';
import { encodeUidListElement } from '../dimse/dataset-bytes.js';
import { cCancelRq, cQueryRq } from '../dimse/messages.js';
import { isPending, Status } from '../dimse/status.js';
import { beginOperation, errorMessage, findAcceptedContext, requireContext, respond } from './common.js';
import { store, type StoreRequest, type StoreResult } from './storage.js';

export interface SubOperationCounts {
  readonly remaining: number;
  readonly completed: number;
  readonly failed: number;
  readonly warning: number;
}

/** What a MOVE/GET handler resolves to. Without `status`, it is derived from the counts. */
export interface RetrieveResult {
  readonly status?: number;
  readonly completed: number;
  readonly failed: number;
  readonly warning: number;
  readonly failedSopInstanceUids?: readonly string[];
  readonly errorComment?: string;
}

export interface RetrieveContext {
  readonly association: ServiceAssociation;
  readonly presentationContextId: number;
  readonly transferSyntaxUid: string;
  readonly sopClassUid: string;
  readonly identifier: Uint8Array;
  readonly priority: number;
  readonly messageId: number;
  /** Aborted on C-CANCEL or when the association ends: stop sub-operations and return the counts. */
  readonly signal: AbortSignal;
  readonly command: Command;
  /** Sends a pending response with these counts (call it every few sub-operations). */
  reportProgress(counts: SubOperationCounts): void;
}

export interface MoveContext extends RetrieveContext {
  /** The AE title to send to; the application maps it to host/port (or answers 0xA801). */
  readonly moveDestination: string;
  /** The calling AE title, to put in the sub-operations' Move Originator. */
  readonly moveOriginatorAe: string;
}

export interface GetContext extends RetrieveContext {
  /** C-STORE-RQ on this association to the requestor (which must have accepted the SCP role). */
  store(req: StoreRequest): Promise<StoreResult>;
  /** The accepted context to send `sopClassUid` in, by preference order of transfer syntaxes. */
  findAcceptedContext(sopClassUid: string, preferredTransferSyntaxes: readonly string[]): NegotiatedContext | undefined;
}

export type MoveHandler = (ctx: MoveContext) => Promise<RetrieveResult>;
export type GetHandler = (ctx: GetContext) => Promise<RetrieveResult>;

/** PS3.4 C.4.2.1.5: the final status from the sub-operation counts. */
export function finalRetrieveStatus(r: RetrieveResult): number {
  if (r.status !== undefined) return r.status;
  if (r.failed > 0 || r.warning > 0) {
    return r.completed === 0 && r.warning === 0 ? Status.RefusedOutOfResourcesSubOperations : Status.SubOperationsCompleteWithFailures;
  }
  return Status.Success;
}

export async function handleRetrieve(
  association: ServiceAssociation, contextId: number, rq: Command, identifier: Uint8Array,
  kind: 'move' | 'get', handler: MoveHandler | GetHandler | undefined,
): Promise<void> {
  const pc = association.acceptedContext(contextId)!;
  if (!handler) {
    await respond(association, contextId, rq, { status: Status.SopClassNotSupported, errorComment: `C-${kind.toUpperCase()} is not supported here` });
    return;
  }
  const messageId = rq.messageId ?? 0;
  const op = beginOperation(association, messageId);
  let last: SubOperationCounts = { remaining: 0, completed: 0, failed: 0, warning: 0 };
  const base: RetrieveContext = {
    association, presentationContextId: contextId, transferSyntaxUid: pc.transferSyntax, sopClassUid: pc.abstractSyntax,
    identifier, priority: rq.priority ?? 0, messageId, signal: op.signal, command: rq,
    reportProgress: (c) => {
      last = c;
      void respond(association, contextId, rq, { status: Status.Pending, ...c });
    },
  };
  let result: RetrieveResult;
  try {
    if (kind === 'move') {
      const ctx: MoveContext = { ...base, moveDestination: rq.moveDestination ?? '', moveOriginatorAe: association.callingAe };
      result = await (handler as MoveHandler)(ctx);
    } else {
      const ctx: GetContext = {
        ...base,
        store: (req) => store(association, req),
        findAcceptedContext: (sop, prefs) => findAcceptedContext(association, sop, prefs),
      };
      result = await (handler as GetHandler)(ctx);
    }
  } catch (e) {
    result = { status: Status.UnableToProcess, completed: last.completed, failed: last.failed, warning: last.warning, errorComment: errorMessage(e) };
  } finally {
    op.done();
  }
  const cancelled = op.signal.aborted;
  const status = cancelled ? Status.Cancel : finalRetrieveStatus(result);
  const failedList = result.failedSopInstanceUids?.length ? encodeUidListElement(result.failedSopInstanceUids, pc.transferSyntax) : undefined;
  await respond(association, contextId, rq, {
    status, errorComment: result.errorComment,
    remaining: cancelled ? Math.max(last.remaining, 0) : undefined,
    completed: result.completed, failed: result.failed, warning: result.warning,
  }, failedList);
}

export interface RetrieveOutcome {
  readonly status: number;
  readonly remaining?: number;
  readonly completed: number;
  readonly failed: number;
  readonly warning: number;
  readonly errorComment?: string;
  /** The final response's dataset (Failed SOP Instance UID List), in the context's transfer syntax. */
  readonly dataset?: Uint8Array;
}

export interface RetrieveOptions {
  readonly priority?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (counts: SubOperationCounts & { status: number }) => void;
}

export async function retrieve(
  association: Association, kind: 'move' | 'get', model: string, identifier: Uint8Array, transferSyntaxUid: string,
  destination: string | undefined, options: RetrieveOptions = {},
): Promise<RetrieveOutcome> {
  const pc = requireContext(association, model, [transferSyntaxUid], `C-${kind.toUpperCase()}`);
  const field = kind === 'move' ? CommandField.CMoveRq : CommandField.CGetRq;
  const rq = cQueryRq(field, model, destination, options.priority);
  let outcome: RetrieveOutcome | undefined;
  const cancel = () => { association.sendMessage(pc.id, cCancelRq(rq.messageId!)).catch(() => undefined); };
  options.signal?.addEventListener('abort', cancel, { once: true });
  try {
    await association.request(pc.id, rq, identifier, (rsp, ds) => {
      const status = rsp.status ?? Status.UnableToProcess;
      const counts = {
        status,
        remaining: rsp.remainingSubOperations ?? 0, completed: rsp.completedSubOperations ?? 0,
        failed: rsp.failedSubOperations ?? 0, warning: rsp.warningSubOperations ?? 0,
      };
      if (isPending(status)) {
        options.onProgress?.(counts);
        return false;
      }
      outcome = { ...counts, remaining: rsp.remainingSubOperations, errorComment: rsp.errorComment, dataset: ds };
      return true;
    });
  } finally {
    options.signal?.removeEventListener('abort', cancel);
  }
  return outcome!;
}
