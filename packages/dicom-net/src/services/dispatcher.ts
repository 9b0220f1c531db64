// Routes each incoming DIMSE request to the one application handler that decides its answer.
import type { ServiceAssociation } from './service-association.js';
import { bufferingReceiver, type DatasetReceiver, type RequestDispatcher } from '../association.js';
import { type Command, CommandField, hasDataset } from '../dimse/command.js';
import { Status } from '../dimse/status.js';
import { cancelOperation, respond } from './common.js';
import { handleFind, type FindHandler } from './query.js';
import { handleRetrieve, type GetHandler, type MoveHandler } from './retrieve.js';
import { handleNRequest, type NActionHandler, type NEventReportHandler } from './storage-commitment.js';
import { handleStore, type StoreHandler } from './storage.js';
import { handleEcho, type EchoHandler } from './verification.js';

export interface ServiceHandlers {
  readonly onEcho?: EchoHandler;
  readonly onStore?: StoreHandler;
  readonly onFind?: FindHandler;
  readonly onMove?: MoveHandler;
  readonly onGet?: GetHandler;
  readonly onNAction?: NActionHandler;
  readonly onNEventReport?: NEventReportHandler;
}

/** Swallows a dataset nobody wants, so that the answer can still be sent. */
const discard = (after: () => void): DatasetReceiver => ({ write() { /* dropped */ }, end: after, abort() { /* nothing held */ } });

export function createDispatcher(handlersOf: (association: ServiceAssociation) => ServiceHandlers): RequestDispatcher {
  return (plain, rq, contextId) => {
    // Only ServiceAssociation installs this dispatcher.
    const association = plain as ServiceAssociation;
    const h = handlersOf(association);
    const withIdentifier = (run: (identifier: Uint8Array) => Promise<void>): DatasetReceiver | undefined => {
      if (!hasDataset(rq)) {
        void respond(association, contextId, rq, { status: Status.CannotUnderstand, errorComment: 'request without identifier' });
        return undefined;
      }
      return bufferingReceiver((identifier) => { void run(identifier); });
    };
    const withOptionalDataset = (run: (dataset: Uint8Array | undefined) => Promise<void>): DatasetReceiver | undefined => {
      if (!hasDataset(rq)) {
        void run(undefined);
        return undefined;
      }
      return bufferingReceiver((ds) => { void run(ds); });
    };
    switch (rq.commandField) {
      case CommandField.CEchoRq:
        void handleEcho(association, contextId, rq, h.onEcho);
        return hasDataset(rq) ? discard(() => undefined) : undefined;
      case CommandField.CStoreRq:
        return handleStore(association, contextId, rq, h.onStore);
      case CommandField.CFindRq:
        return withIdentifier((id) => handleFind(association, contextId, rq, id, h.onFind));
      case CommandField.CMoveRq:
        return withIdentifier((id) => handleRetrieve(association, contextId, rq, id, 'move', h.onMove));
      case CommandField.CGetRq:
        return withIdentifier((id) => handleRetrieve(association, contextId, rq, id, 'get', h.onGet));
      case CommandField.CCancelRq:
        cancelOperation(association, rq.messageIdBeingRespondedTo ?? -1);
        return undefined;
      case CommandField.NActionRq:
        return withOptionalDataset((ds) => handleNRequest(association, contextId, rq, ds, h.onNAction));
      case CommandField.NEventReportRq:
        return withOptionalDataset((ds) => handleNRequest(association, contextId, rq, ds, h.onNEventReport));
      default:
        return unsupported(association, contextId, rq);
    }
  };
}

function unsupported(association: ServiceAssociation, contextId: number, rq: Command): DatasetReceiver | undefined {
  const answer = () => { void respond(association, contextId, rq, { status: Status.UnrecognizedOperation, errorComment: 'operation not supported' }); };
  if (hasDataset(rq)) return discard(answer);
  answer();
  return undefined;
}
