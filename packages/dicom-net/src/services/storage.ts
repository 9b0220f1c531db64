// PS3.4 annex B: Storage service class (C-STORE), both directions, streaming.
import type { ServiceAssociation } from './service-association.js';
import type { Association, DatasetReceiver, DatasetSource } from '../association.js';
import type { Command } from '../dimse/command.js';
import { cStoreRq } from '../dimse/messages.js';
import { DimseError, Status } from '../dimse/status.js';
import { errorMessage, requireContext, respond } from './common.js';

/** Where a received dataset is written; the C-STORE-RSP carries what end() resolves to. */
export interface DatasetSink {
  /** Each PDV fragment as it arrives; return a promise to apply backpressure. */
  write(chunk: Uint8Array): void | Promise<void>;
  end(): Promise<{ status: number; errorComment?: string }>;
  /** The association died mid-dataset, or a write failed: discard what was written. */
  abort(reason: Error): void;
}

export interface StoreContext {
  readonly association: ServiceAssociation;
  readonly presentationContextId: number;
  readonly transferSyntaxUid: string;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly moveOriginatorAe?: string;
  readonly moveOriginatorMessageId?: number;
  readonly command: Command;
}

export type StoreHandler = (ctx: StoreContext) => DatasetSink | Promise<DatasetSink>;

interface Failure { status: number; errorComment: string }

/** Receives one C-STORE-RQ dataset into the application's sink, then answers. */
export function handleStore(association: ServiceAssociation, contextId: number, rq: Command, handler: StoreHandler | undefined): DatasetReceiver {
  const pc = association.acceptedContext(contextId)!;
  let failure: Failure | undefined;
  let sink: DatasetSink | undefined;
  let sinkReady: Promise<void> | undefined;
  let finished = false;
  association.busyLocal++;
  const done = () => {
    if (!finished) {
      finished = true;
      association.busyLocal--;
    }
  };

  const sopClassUid = rq.affectedSopClassUid ?? '';
  const roleOk = association.isRequestor ? pc.requestorIsScp : pc.requestorIsScu;
  if (sopClassUid !== pc.abstractSyntax) {
    failure = { status: Status.SopClassNotSupported, errorComment: `SOP class ${sopClassUid} sent on a context for ${pc.abstractSyntax}` };
  } else if (!roleOk) {
    failure = { status: Status.SopClassNotSupported, errorComment: 'C-STORE not allowed by the negotiated roles' };
  } else if (!handler) {
    failure = { status: Status.SopClassNotSupported, errorComment: 'this application entity does not accept storage' };
  } else {
    const ctx: StoreContext = {
      association, presentationContextId: contextId, transferSyntaxUid: pc.transferSyntax, sopClassUid,
      sopInstanceUid: rq.affectedSopInstanceUid ?? '', moveOriginatorAe: rq.moveOriginatorAe,
      moveOriginatorMessageId: rq.moveOriginatorMessageId, command: rq,
    };
    try {
      const r = handler(ctx);
      if (r instanceof Promise) sinkReady = r.then((s) => { sink = s; }, (e: unknown) => fail(e));
      else sink = r;
    } catch (e) {
      fail(e);
    }
  }

  function fail(e: unknown): void {
    if (failure) return;
    failure = { status: e instanceof DimseError && e.status !== undefined ? e.status : Status.RefusedOutOfResources, errorComment: errorMessage(e) };
    if (sink) {
      try { sink.abort(e instanceof Error ? e : new Error(String(e))); } catch { /* already failing */ }
    }
  }

  function writeToSink(chunk: Uint8Array): void | Promise<void> {
    if (failure || !sink) return;
    try {
      const w = sink.write(chunk);
      if (w) return w.catch(fail);
    } catch (e) {
      fail(e);
    }
  }

  async function finish(): Promise<void> {
    if (sinkReady) await sinkReady;
    let result: { status: number; errorComment?: string };
    if (failure || !sink) {
      result = failure ?? { status: Status.UnableToProcess, errorComment: 'no sink' };
    } else {
      try {
        result = await sink.end();
      } catch (e) {
        result = { status: e instanceof DimseError && e.status !== undefined ? e.status : Status.RefusedOutOfResources, errorComment: errorMessage(e) };
      }
    }
    done();
    await respond(association, contextId, rq, result);
  }

  return {
    write(chunk) {
      if (sinkReady && !sink && !failure) return sinkReady.then(() => writeToSink(chunk));
      return writeToSink(chunk);
    },
    end() {
      // The response is sent when the sink has finished; the receive path goes on meanwhile.
      void finish();
    },
    abort(reason) {
      done();
      const s = sink;
      if (s && !failure) {
        try { s.abort(reason); } catch { /* nothing more to do */ }
      } else if (!s && sinkReady) {
        void sinkReady.then(() => { try { sink?.abort(reason); } catch { /* ignore */ } });
      }
      failure ??= { status: Status.UnableToProcess, errorComment: reason.message };
    },
  };
}

export interface StoreRequest {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  /** The transfer syntax the dataset bytes are encoded in; a context must have been accepted with it. */
  readonly transferSyntaxUid: string;
  /** Sent as-is, streamed when it is a Readable/AsyncIterable. */
  readonly dataset: DatasetSource;
  readonly moveOriginator?: { readonly ae: string; readonly messageId: number };
  readonly priority?: number;
}

export interface StoreResult {
  readonly status: number;
  readonly errorComment?: string;
  readonly command: Command;
}

/** C-STORE SCU (also used by a C-GET SCP on the requestor's association). */
export async function store(association: Association, req: StoreRequest): Promise<StoreResult> {
  const pc = requireContext(association, req.sopClassUid, [req.transferSyntaxUid], 'C-STORE');
  if (!association.isRequestor && !pc.requestorIsScp) {
    throw new DimseError(`C-STORE: ${association.callingAe} did not accept the SCP role for ${req.sopClassUid}`);
  }
  const rq = cStoreRq({
    sopClassUid: req.sopClassUid, sopInstanceUid: req.sopInstanceUid, priority: req.priority,
    moveOriginatorAe: req.moveOriginator?.ae, moveOriginatorMessageId: req.moveOriginator?.messageId,
  });
  let result: StoreResult | undefined;
  await association.request(pc.id, rq, req.dataset, (rsp) => {
    result = { status: rsp.status ?? Status.UnableToProcess, errorComment: rsp.errorComment, command: rsp };
    return true;
  });
  return result!;
}
