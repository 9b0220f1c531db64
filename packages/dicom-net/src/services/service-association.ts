// An association with the DIMSE services on it: what both a server-side (acceptor) and a
// client-side (requestor) association can send, and the handlers that answer what they receive.
import { Association, type AssociationInit } from '../association.js';
import { createDispatcher, type ServiceHandlers } from './dispatcher.js';
import { find, type FindOptions, type FindResponse } from './query.js';
import { retrieve, type RetrieveOptions, type RetrieveOutcome } from './retrieve.js';
import { nAction, nEventReport, type NRequest, type NResponse } from './storage-commitment.js';
import { store, type StoreHandler, type StoreRequest, type StoreResult } from './storage.js';
import { echo } from './verification.js';
import { findAcceptedContext } from './common.js';
import type { NegotiatedContext } from '../acse/negotiation.js';
import { ImplicitVRLittleEndian } from '@loire/dicom';

const dispatcher = createDispatcher((a) => a.handlers);

export class ServiceAssociation extends Association {
  /** The handlers answering requests the peer sends on this association. */
  handlers: ServiceHandlers;

  constructor(init: AssociationInit, handlers: ServiceHandlers = {}) {
    super(init);
    this.handlers = handlers;
    this.dispatcher = dispatcher;
  }

  findAcceptedContext(sopClassUid: string, preferredTransferSyntaxes: readonly string[] = []): NegotiatedContext | undefined {
    return findAcceptedContext(this, sopClassUid, preferredTransferSyntaxes);
  }

  /** C-ECHO; resolves with the status (0 = success). */
  echo(): Promise<number> {
    return echo(this);
  }

  /** C-STORE: streams `dataset` as it is, in its transfer syntax; resolves with the peer's status. */
  store(req: StoreRequest): Promise<StoreResult> {
    return store(this, req);
  }

  /** C-FIND: yields every response, pending ones with their identifier, the final one last. */
  find(model: string, identifier: Uint8Array, transferSyntaxUid: string = ImplicitVRLittleEndian, options?: FindOptions): AsyncGenerator<FindResponse, void, undefined> {
    return find(this, model, identifier, transferSyntaxUid, options);
  }

  /** C-MOVE to `destination`; resolves with the final status and counts. */
  move(model: string, identifier: Uint8Array, destination: string, transferSyntaxUid: string = ImplicitVRLittleEndian, options?: RetrieveOptions): Promise<RetrieveOutcome> {
    return retrieve(this, 'move', model, identifier, transferSyntaxUid, destination, options);
  }

  /**
   * C-GET: the instances come back as C-STORE-RQ on this association, handed to `onStore`
   * (or to the association's own onStore handler). Propose the SCP role for their SOP classes.
   */
  async get(model: string, identifier: Uint8Array, transferSyntaxUid: string = ImplicitVRLittleEndian,
    options: RetrieveOptions & { readonly onStore?: StoreHandler } = {}): Promise<RetrieveOutcome> {
    const saved = this.handlers;
    if (options.onStore) this.handlers = { ...saved, onStore: options.onStore };
    try {
      return await retrieve(this, 'get', model, identifier, transferSyntaxUid, undefined, options);
    } finally {
      this.handlers = saved;
    }
  }

  nAction(req: NRequest & { readonly actionTypeId: number }): Promise<NResponse> {
    return nAction(this, req);
  }

  /** N-EVENT-REPORT-RQ to the peer (e.g. a storage commitment result on the same association). */
  sendNEventReport(req: NRequest & { readonly eventTypeId: number }): Promise<NResponse> {
    return nEventReport(this, req);
  }
}
