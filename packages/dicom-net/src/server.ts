// DimseServer: listens (on one or more ports, plain or TLS), negotiates each association
// through the application's policy, and hands DIMSE requests to the application's service
// handlers. close({ drain: true }) stops accepting and lets open associations finish (SIGTERM).
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { buildAcceptance, DEFAULT_MAX_PDU_LENGTH, defaultAssociationPolicy, rejectionFields, requestInfo,
  type AssociateRequestInfo, type AssociationPolicy, type AssociationRejection } from './acse/negotiation.js';
import type { AssociationTimeouts } from './association.js';
import { createListener, type ListenOptions, type TlsPeer } from './transport.js';
import { type Pdu, PduType, DICOM_APPLICATION_CONTEXT, RejectReason } from './ul/pdu.js';
import { Event, State } from './ul/state-machine.js';
import type { ServiceHandlers } from './services/dispatcher.js';
import { ServiceAssociation } from './services/service-association.js';

export interface DimseServerOptions {
  readonly handlers: ServiceHandlers;
  /** Decides acceptance; default: defaultAssociationPolicy(). */
  readonly policy?: AssociationPolicy;
  /** Our Maximum Length Received; default 262144. */
  readonly maxPdu?: number;
  readonly timeouts?: AssociationTimeouts;
  /** Simultaneous associations beyond this are rejected (transient, local limit exceeded). */
  readonly maxAssociations?: number;
}

export interface DimseServerEvents {
  'association-accepted': [{ association: ServiceAssociation; request: AssociateRequestInfo }];
  'association-rejected': [{ request?: AssociateRequestInfo; remoteAddress: string; rejection: AssociationRejection; reason: string }];
  'association-aborted': [{ association: ServiceAssociation; source: string; reason: string }];
  'association-released': [{ association: ServiceAssociation }];
  /** A connection closed before association negotiation: failed TLS handshake, refused client certificate. */
  'connection-refused': [{ remoteAddress: string; port: number; reason: string }];
}

export class DimseServer extends EventEmitter<DimseServerEvents> {
  private readonly listening: net.Server[] = [];
  private readonly live = new Set<ServiceAssociation>();
  private readonly policy: AssociationPolicy;
  private readonly maxPdu: number;
  private closing = false;

  constructor(private readonly options: DimseServerOptions) {
    super();
    this.policy = options.policy ?? defaultAssociationPolicy();
    this.maxPdu = options.maxPdu ?? DEFAULT_MAX_PDU_LENGTH;
  }

  /**
   * Starts listening; resolves with the bound address (port 0 picks a free port). Call it again
   * to listen on more ports (e.g. plain DICOM and DICOM TLS): every port serves the same policy.
   */
  listen(o: ListenOptions): Promise<{ host: string; port: number }> {
    if (this.closing) return Promise.reject(new Error('DimseServer is closing'));
    let boundPort = o.port;
    const listener = createListener(o, (socket, peer) => this.accept(socket, peer),
      (refused) => this.emit('connection-refused', { ...refused, port: boundPort }));
    this.listening.push(listener);
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        this.listening.splice(this.listening.indexOf(listener), 1);
        reject(err);
      };
      listener.once('error', onError);
      listener.listen(o.port, o.host, () => {
        listener.off('error', onError);
        listener.on('error', () => { /* accept errors (EMFILE...) must not kill the process */ });
        const addr = listener.address() as net.AddressInfo;
        boundPort = addr.port;
        resolve({ host: addr.address, port: addr.port });
      });
    });
  }

  get associations(): ReadonlySet<ServiceAssociation> {
    return this.live;
  }

  /**
   * Stops accepting. With drain, waits for open associations to end (aborting those still open
   * after `timeoutMs`, if given); without, aborts them at once.
   */
  async close(o: { drain: boolean; timeoutMs?: number } = { drain: true }): Promise<void> {
    this.closing = true;
    const stopped = Promise.all(this.listening.splice(0).map((l) => new Promise<void>((resolve) => l.close(() => resolve()))));
    if (!o.drain) for (const a of this.live) a.abort('server shutting down');
    let timer: NodeJS.Timeout | undefined;
    if (o.drain && o.timeoutMs !== undefined) {
      timer = setTimeout(() => { for (const a of this.live) a.abort('server shutdown: drain timeout'); }, o.timeoutMs);
    }
    await Promise.all([...this.live].map((a) => a.closed()));
    if (timer) clearTimeout(timer);
    await stopped;
    this.closing = false;
  }

  private accept(socket: net.Socket, tls: TlsPeer | undefined): void {
    const association = new ServiceAssociation({ socket, isRequestor: false, ourMaxPdu: this.maxPdu, timeouts: this.options.timeouts }, this.options.handlers);
    this.live.add(association);
    association.once('closed', () => this.live.delete(association));
    association.on('aborted', ({ source, reason }) => this.emit('association-aborted', { association, source, reason }));
    association.on('released', () => this.emit('association-released', { association }));
    // PDUs that arrive while the policy decides wait for its answer.
    association.onAssociatePdu = (pdu) => association.pauseUntil(this.negotiate(association, pdu, tls));
    association.sm.dispatch(Event.TransportConnectIndication);
  }

  private reject(association: ServiceAssociation, rejection: AssociationRejection, reason: string, request?: AssociateRequestInfo): void {
    association.sm.dispatch(Event.AssociateReject, { pdu: { type: PduType.AssociateRj, ...rejectionFields(rejection) } });
    this.emit('association-rejected', { request, remoteAddress: association.remoteAddress, rejection, reason });
  }

  private async negotiate(association: ServiceAssociation, pdu: Pdu, tls: TlsPeer | undefined): Promise<void> {
    if (pdu.type !== PduType.AssociateRq) return;
    const info = requestInfo(pdu, association.remoteAddress, association.remotePort, tls);
    association.callingAe = pdu.callingAe;
    association.calledAe = pdu.calledAe;
    await Promise.resolve(); // the state machine enters Sta3 after this indication returns
    if ((pdu.protocolVersion & 1) === 0) {
      this.reject(association, { result: 'permanent', source: 'service-provider-acse', reason: RejectReason.ProtocolVersionNotSupported }, `protocol version ${pdu.protocolVersion} not supported`, info);
      return;
    }
    if (pdu.applicationContext !== DICOM_APPLICATION_CONTEXT) {
      this.reject(association, { result: 'permanent', source: 'service-user', reason: RejectReason.ApplicationContextNotSupported }, `application context ${pdu.applicationContext} not supported`, info);
      return;
    }
    const max = this.options.maxAssociations;
    if (this.closing || (max !== undefined && this.live.size > max)) {
      this.reject(association, { result: 'transient', source: 'service-provider-presentation', reason: RejectReason.LocalLimitExceeded },
        this.closing ? 'server is shutting down' : `more than ${max} simultaneous associations`, info);
      return;
    }
    let decision;
    try {
      decision = await this.policy(info);
    } catch (e) {
      this.reject(association, { result: 'transient', source: 'service-user', reason: RejectReason.NoReasonGiven }, `association policy failed: ${e instanceof Error ? e.message : String(e)}`, info);
      return;
    }
    if (association.sm.state !== State.AwaitingLocalAssociateResponse) return; // the peer went away meanwhile
    if (!decision.accept) {
      this.reject(association, decision.reject, decision.reason ?? 'rejected by the association policy', info);
      return;
    }
    const { ac, contexts } = buildAcceptance(pdu, decision, this.maxPdu);
    association.setContexts(contexts);
    association.peerMaxPdu = pdu.userInfo.maxPduLength;
    association.sm.dispatch(Event.AssociateAccept, { pdu: ac });
    association.markEstablished();
    this.emit('association-accepted', { association, request: info });
  }
}
