// PS3.4 annex C.4.1: Query/Retrieve FIND (C-FIND), both directions.
import type { ServiceAssociation } from './service-association.js';
import type { Association } from '../association.js';
import { type Command, CommandField } from '../dimse/command.js';
import { cCancelRq, cQueryRq } from '../dimse/messages.js';
import { isPending, Status } from '../dimse/status.js';
import { beginOperation, errorMessage, requireContext, respond } from './common.js';

export interface FindContext {
  readonly association: ServiceAssociation;
  readonly presentationContextId: number;
  readonly transferSyntaxUid: string;
  /** The information model (e.g. Study Root FIND). */
  readonly sopClassUid: string;
  /** The request identifier, in transferSyntaxUid. */
  readonly identifier: Uint8Array;
  readonly priority: number;
  /** Aborted on C-CANCEL or when the association ends. */
  readonly signal: AbortSignal;
  readonly command: Command;
  /** Sets the final status (default success; 0xFE00 when cancelled). */
  setFinalStatus(status: number, errorComment?: string): void;
}

/** Yields one identifier (in the context's transfer syntax) per match. */
export type FindHandler = (ctx: FindContext) => AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export async function handleFind(association: ServiceAssociation, contextId: number, rq: Command, identifier: Uint8Array, handler: FindHandler | undefined): Promise<void> {
  const pc = association.acceptedContext(contextId)!;
  if (!handler) {
    await respond(association, contextId, rq, { status: Status.SopClassNotSupported, errorComment: 'C-FIND is not supported here' });
    return;
  }
  const op = beginOperation(association, rq.messageId ?? 0);
  let final: { status: number; errorComment?: string } = { status: Status.Success };
  const ctx: FindContext = {
    association, presentationContextId: contextId, transferSyntaxUid: pc.transferSyntax, sopClassUid: pc.abstractSyntax,
    identifier, priority: rq.priority ?? 0, signal: op.signal, command: rq,
    setFinalStatus: (status, errorComment) => { final = { status, errorComment }; },
  };
  try {
    for await (const match of handler(ctx)) {
      if (op.signal.aborted) break;
      if (!(await respond(association, contextId, rq, { status: Status.Pending }, match))) break;
      await association.drained();
    }
  } catch (e) {
    if (!op.signal.aborted) final = { status: Status.UnableToProcess, errorComment: errorMessage(e) };
  } finally {
    op.done();
  }
  if (op.signal.aborted) final = { status: Status.Cancel };
  await respond(association, contextId, rq, final);
}

export interface FindResponse {
  readonly status: number;
  /** Present on pending responses. */
  readonly identifier?: Uint8Array;
  readonly errorComment?: string;
}

export interface FindOptions {
  readonly priority?: number;
  /** Aborting sends C-CANCEL-RQ; the peer then ends with a 0xFE00 response. */
  readonly signal?: AbortSignal;
}

/**
 * C-FIND SCU: yields every response (pending ones with their identifier, then the final one).
 * Leaving the loop early cancels the query.
 */
export async function* find(association: Association, model: string, identifier: Uint8Array, transferSyntaxUid: string, options: FindOptions = {}): AsyncGenerator<FindResponse, void, undefined> {
  const pc = requireContext(association, model, [transferSyntaxUid], 'C-FIND');
  const queue: FindResponse[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let error: unknown;
  const rq = cQueryRq(CommandField.CFindRq, model, undefined, options.priority);
  const done = association.request(pc.id, rq, identifier, (rsp, ds) => {
    const status = rsp.status ?? Status.UnableToProcess;
    queue.push({ status, identifier: ds, errorComment: rsp.errorComment });
    wake?.();
    return !isPending(status);
  });
  done.then(() => { finished = true; wake?.(); }, (e: unknown) => { error = e; finished = true; wake?.(); });
  let cancelled = false;
  const cancel = () => {
    if (cancelled || finished) return;
    cancelled = true;
    association.sendMessage(pc.id, cCancelRq(rq.messageId!)).catch(() => undefined);
  };
  options.signal?.addEventListener('abort', cancel, { once: true });
  try {
    for (;;) {
      const next = queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (finished) break;
      await new Promise<void>((resolve) => { wake = resolve; });
      wake = undefined;
    }
    if (error) throw error;
  } finally {
    options.signal?.removeEventListener('abort', cancel);
    if (!finished) {
      cancel();
      await done.catch(() => undefined);
    }
  }
}
