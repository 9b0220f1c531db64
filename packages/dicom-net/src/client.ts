// The requestor side: open a connection, negotiate, and get a ClientAssociation to run
// DIMSE operations on. Which context was accepted with which transfer syntax is in `contexts`.
import { buildRequest, contextsFromAcceptance, type AssociateRequestOptions } from './acse/negotiation.js';
import type { AssociationTimeouts } from './association.js';
import { DimseError } from './dimse/status.js';
import { openConnection, type TlsOptions } from './transport.js';
import { PduType, type AssociateRjPdu } from './ul/pdu.js';
import { Event } from './ul/state-machine.js';
import type { ServiceHandlers } from './services/dispatcher.js';
import { ServiceAssociation } from './services/service-association.js';

export interface ClientConnectOptions extends AssociateRequestOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsOptions;
  readonly timeouts?: AssociationTimeouts & { readonly connectMs?: number };
  /** Handlers for requests the peer sends us (C-STORE during C-GET, N-EVENT-REPORT...). */
  readonly handlers?: ServiceHandlers;
}

export class AssociationRejectedError extends DimseError {
  override readonly name: string = 'AssociationRejectedError';
  constructor(readonly result: number, readonly source: number, readonly reason: number, peer: string) {
    super(`${peer} rejected the association (${result === 1 ? 'permanent' : 'transient'}, source ${source}, reason ${reason}${hint(source, reason)})`);
  }
}

function hint(source: number, reason: number): string {
  if (source === 1 && reason === 3) return ': calling AE title not recognized';
  if (source === 1 && reason === 7) return ': called AE title not recognized';
  if (source === 3 && reason === 2) return ': local limit exceeded';
  return '';
}

export class ClientAssociation extends ServiceAssociation {}

export async function connect(o: ClientConnectOptions): Promise<ClientAssociation> {
  const rq = buildRequest(o);
  const socket = await openConnection({ host: o.host, port: o.port, tls: o.tls, connectTimeoutMs: o.timeouts?.connectMs });
  const association = new ClientAssociation({ socket, isRequestor: true, ourMaxPdu: rq.userInfo.maxPduLength, timeouts: o.timeouts }, o.handlers);
  association.callingAe = o.callingAe;
  association.calledAe = o.calledAe;
  const peer = `${o.calledAe}@${o.host}:${o.port}`;
  const artimMs = o.timeouts?.artimMs ?? 30_000;
  return new Promise<ClientAssociation>((resolve, reject) => {
    const timer = setTimeout(() => {
      association.abort(`no answer to A-ASSOCIATE-RQ within ${artimMs} ms`);
      reject(new DimseError(`${peer} did not answer the association request within ${artimMs} ms`));
    }, artimMs);
    let abortReason = '';
    const onAborted = (e: { reason: string }) => { abortReason = `: ${e.reason}`; };
    const onClosed = () => {
      clearTimeout(timer);
      reject(new DimseError(`${peer} closed the connection during association negotiation${abortReason}`));
    };
    association.once('aborted', onAborted);
    association.once('closed', onClosed);
    association.onAssociatePdu = (pdu) => {
      clearTimeout(timer);
      association.off('closed', onClosed);
      association.off('aborted', onAborted);
      if (pdu.type === PduType.AssociateAc) {
        association.setContexts(contextsFromAcceptance(rq, pdu));
        association.peerMaxPdu = pdu.userInfo.maxPduLength;
        association.markEstablished();
        resolve(association);
      } else if (pdu.type === PduType.AssociateRj) {
        const rj = pdu as AssociateRjPdu;
        reject(new AssociationRejectedError(rj.result, rj.source, rj.reason, peer));
      }
    };
    association.sm.dispatch(Event.AssociateRequest);
    association.sm.dispatch(Event.TransportConnectConfirm, { pdu: rq });
  });
}
