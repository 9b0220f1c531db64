// PS3.8 section 9.2: the DICOM upper layer state machine (states Sta1-Sta13, events Evt1-Evt19,
// actions AE-*, DT-*, AR-*, AA-*). The table below is the standard's table 9-10; any event that
// has no entry for the current state is a protocol error and ends in A-ABORT (AA-8).
import { AbortReason, AbortSource, type Pdu, PduType } from './pdu.js';

export enum State {
  Idle = 1, // Sta1
  AwaitingAssociateRq, // Sta2: transport open, ARTIM running
  AwaitingLocalAssociateResponse, // Sta3
  AwaitingTransportOpen, // Sta4
  AwaitingAssociateAcOrRj, // Sta5
  Established, // Sta6
  AwaitingReleaseRp, // Sta7
  AwaitingLocalReleaseResponse, // Sta8
  CollisionRequestorAwaitingLocalResponse, // Sta9
  CollisionAcceptorAwaitingReleaseRp, // Sta10
  CollisionRequestorAwaitingReleaseRp, // Sta11
  CollisionAcceptorAwaitingLocalResponse, // Sta12
  AwaitingTransportClose, // Sta13
}

export enum Event {
  AssociateRequest = 1, // Evt1: local A-ASSOCIATE request primitive
  TransportConnectConfirm, // Evt2
  AssociateAcReceived, // Evt3
  AssociateRjReceived, // Evt4
  TransportConnectIndication, // Evt5
  AssociateRqReceived, // Evt6
  AssociateAccept, // Evt7: local response primitive (accept)
  AssociateReject, // Evt8: local response primitive (reject)
  PDataRequest, // Evt9
  PDataReceived, // Evt10
  ReleaseRequest, // Evt11
  ReleaseRqReceived, // Evt12
  ReleaseRpReceived, // Evt13
  ReleaseResponse, // Evt14
  AbortRequest, // Evt15
  AbortReceived, // Evt16
  TransportClosed, // Evt17
  ArtimExpired, // Evt18
  InvalidPdu, // Evt19
}

/** Side effects the state machine asks of the association (transport, timers, user indications). */
export interface UpperLayerHost {
  openTransport(): void;
  closeTransport(): void;
  send(pdu: Pdu): void;
  startArtim(): void;
  stopArtim(): void;
  /** An A-ASSOCIATE-RQ arrived (Sta2 → Sta3): the host answers with Evt7 or Evt8. */
  associateIndication(pdu: Pdu): void;
  associateConfirm(pdu: Pdu): void; // AC or RJ
  dataIndication(pdu: Pdu): void;
  releaseIndication(): void;
  releaseConfirm(): void;
  /** The association ended abnormally: peer abort, provider abort, or lost transport. */
  abortIndication(source: 'peer' | 'local' | 'provider', detail: string, pdu?: Pdu): void;
}

type Action = (sm: UpperLayerStateMachine, arg: EventArg) => State;
type EventArg = { pdu?: Pdu; reason?: number; detail?: string };

const S = State;

// AE: association establishment
const AE1: Action = (sm) => { sm.host.openTransport(); return S.AwaitingTransportOpen; };
const AE2: Action = (sm, a) => { sm.host.send(a.pdu!); return S.AwaitingAssociateAcOrRj; };
const AE3: Action = (sm, a) => { sm.host.associateConfirm(a.pdu!); return S.Established; };
const AE4: Action = (sm, a) => { sm.host.associateConfirm(a.pdu!); sm.host.closeTransport(); return S.Idle; };
const AE5: Action = (sm) => { sm.host.startArtim(); return S.AwaitingAssociateRq; };
const AE6: Action = (sm, a) => { sm.host.stopArtim(); sm.host.associateIndication(a.pdu!); return S.AwaitingLocalAssociateResponse; };
const AE7: Action = (sm, a) => { sm.host.send(a.pdu!); return S.Established; };
const AE8: Action = (sm, a) => { sm.host.send(a.pdu!); sm.host.startArtim(); return S.AwaitingTransportClose; };
// DT: data transfer
const DT1: Action = (sm, a) => { sm.host.send(a.pdu!); return S.Established; };
const DT2: Action = (sm, a) => { sm.host.dataIndication(a.pdu!); return S.Established; };
// AR: release
const AR1: Action = (sm) => { sm.host.send({ type: PduType.ReleaseRq }); return S.AwaitingReleaseRp; };
const AR2: Action = (sm) => { sm.host.releaseIndication(); return S.AwaitingLocalReleaseResponse; };
const AR3: Action = (sm) => { sm.host.releaseConfirm(); sm.host.closeTransport(); return S.Idle; };
const AR4: Action = (sm) => { sm.host.send({ type: PduType.ReleaseRp }); sm.host.startArtim(); return S.AwaitingTransportClose; };
const AR5: Action = (sm) => { sm.host.stopArtim(); return S.Idle; };
const AR6: Action = (sm, a) => { sm.host.dataIndication(a.pdu!); return S.AwaitingReleaseRp; };
const AR7: Action = (sm, a) => { sm.host.send(a.pdu!); return S.AwaitingLocalReleaseResponse; };
const AR8: Action = (sm) => {
  sm.host.releaseIndication();
  return sm.isRequestor ? S.CollisionRequestorAwaitingLocalResponse : S.CollisionAcceptorAwaitingReleaseRp;
};
const AR9: Action = (sm) => { sm.host.send({ type: PduType.ReleaseRp }); return S.CollisionRequestorAwaitingReleaseRp; };
const AR10: Action = (sm) => { sm.host.releaseConfirm(); return S.CollisionAcceptorAwaitingLocalResponse; };
// AA: abort
const AA1: Action = (sm, a) => {
  sm.host.send({ type: PduType.Abort, source: AbortSource.ServiceUser, reason: a.reason ?? AbortReason.NotSpecified });
  sm.host.startArtim();
  return S.AwaitingTransportClose;
};
const AA2: Action = (sm) => { sm.host.stopArtim(); sm.host.closeTransport(); return S.Idle; };
const AA3: Action = (sm, a) => {
  sm.host.abortIndication('peer', a.detail ?? 'the peer sent A-ABORT', a.pdu);
  sm.host.closeTransport();
  return S.Idle;
};
const AA4: Action = (sm, a) => { sm.host.abortIndication('provider', a.detail ?? 'the connection was closed'); return S.Idle; };
const AA5: Action = (sm) => { sm.host.stopArtim(); return S.Idle; };
const AA6: Action = () => S.AwaitingTransportClose;
const AA7: Action = (sm, a) => {
  sm.host.send({ type: PduType.Abort, source: AbortSource.ServiceProvider, reason: a.reason ?? AbortReason.UnexpectedPdu });
  return S.AwaitingTransportClose;
};
const AA8: Action = (sm, a) => {
  sm.host.send({ type: PduType.Abort, source: AbortSource.ServiceProvider, reason: a.reason ?? AbortReason.UnexpectedPdu });
  sm.host.abortIndication('provider', a.detail ?? 'protocol error');
  sm.host.startArtim();
  return S.AwaitingTransportClose;
};

/** Local A-ABORT request: like AA-1 but tells the host the association is gone. */
const localAbort: Action = (sm, a) => {
  const next = AA1(sm, a);
  sm.host.abortIndication('local', a.detail ?? 'aborted locally');
  return next;
};

type Row = Partial<Record<State, Action>>;
const ALL_AFTER_STA5 = [S.AwaitingAssociateAcOrRj, S.Established, S.AwaitingReleaseRp, S.AwaitingLocalReleaseResponse,
  S.CollisionRequestorAwaitingLocalResponse, S.CollisionAcceptorAwaitingReleaseRp, S.CollisionRequestorAwaitingReleaseRp,
  S.CollisionAcceptorAwaitingLocalResponse] as const;

function row(base: Row, fill?: { states: readonly State[]; action: Action }): Row {
  const out: Row = {};
  if (fill) for (const s of fill.states) out[s] = fill.action;
  return Object.assign(out, base);
}

const PDU_ERROR_STATES = [S.AwaitingLocalAssociateResponse, ...ALL_AFTER_STA5] as const;

/** PS3.8 table 9-10. */
const TABLE: Record<Event, Row> = {
  [Event.AssociateRequest]: { [S.Idle]: AE1 },
  [Event.TransportConnectConfirm]: { [S.AwaitingTransportOpen]: AE2 },
  [Event.AssociateAcReceived]: row({ [S.AwaitingAssociateRq]: AA1, [S.AwaitingAssociateAcOrRj]: AE3, [S.AwaitingTransportClose]: AA6 }, { states: PDU_ERROR_STATES, action: AA8 }),
  [Event.AssociateRjReceived]: row({ [S.AwaitingAssociateRq]: AA1, [S.AwaitingAssociateAcOrRj]: AE4, [S.AwaitingTransportClose]: AA6 }, { states: PDU_ERROR_STATES, action: AA8 }),
  [Event.TransportConnectIndication]: { [S.Idle]: AE5 },
  [Event.AssociateRqReceived]: row({ [S.AwaitingAssociateRq]: AE6, [S.AwaitingTransportClose]: AA7 }, { states: PDU_ERROR_STATES, action: AA8 }),
  [Event.AssociateAccept]: { [S.AwaitingLocalAssociateResponse]: AE7 },
  [Event.AssociateReject]: { [S.AwaitingLocalAssociateResponse]: AE8 },
  [Event.PDataRequest]: { [S.Established]: DT1, [S.AwaitingLocalReleaseResponse]: AR7 },
  [Event.PDataReceived]: row({ [S.AwaitingAssociateRq]: AA1, [S.Established]: DT2, [S.AwaitingReleaseRp]: AR6, [S.AwaitingTransportClose]: AA6 }, { states: PDU_ERROR_STATES, action: AA8 }),
  [Event.ReleaseRequest]: { [S.Established]: AR1 },
  [Event.ReleaseRqReceived]: row({ [S.AwaitingAssociateRq]: AA1, [S.Established]: AR2, [S.AwaitingReleaseRp]: AR8, [S.AwaitingTransportClose]: AA6 }, { states: PDU_ERROR_STATES, action: AA8 }),
  [Event.ReleaseRpReceived]: row({
    [S.AwaitingAssociateRq]: AA1, [S.AwaitingReleaseRp]: AR3, [S.CollisionAcceptorAwaitingReleaseRp]: AR10,
    [S.CollisionRequestorAwaitingReleaseRp]: AR3, [S.AwaitingTransportClose]: AA6,
  }, { states: PDU_ERROR_STATES, action: AA8 }),
  [Event.ReleaseResponse]: {
    [S.AwaitingLocalReleaseResponse]: AR4, [S.CollisionRequestorAwaitingLocalResponse]: AR9,
    [S.CollisionAcceptorAwaitingLocalResponse]: AR4,
  },
  [Event.AbortRequest]: row({ [S.AwaitingTransportOpen]: AA2 }, { states: PDU_ERROR_STATES, action: localAbort }),
  [Event.AbortReceived]: row({ [S.AwaitingAssociateRq]: AA2, [S.AwaitingTransportClose]: AA2 }, { states: PDU_ERROR_STATES, action: AA3 }),
  [Event.TransportClosed]: row({ [S.AwaitingAssociateRq]: AA5, [S.AwaitingTransportOpen]: AA4, [S.AwaitingTransportClose]: AR5 }, { states: PDU_ERROR_STATES, action: AA4 }),
  [Event.ArtimExpired]: { [S.AwaitingAssociateRq]: AA2, [S.AwaitingTransportClose]: AA2 },
  [Event.InvalidPdu]: row({ [S.AwaitingAssociateRq]: AA1, [S.AwaitingTransportClose]: AA7 }, { states: PDU_ERROR_STATES, action: AA8 }),
};

const EVENT_OF_PDU: Record<number, Event> = {
  [PduType.AssociateRq]: Event.AssociateRqReceived,
  [PduType.AssociateAc]: Event.AssociateAcReceived,
  [PduType.AssociateRj]: Event.AssociateRjReceived,
  [PduType.PDataTf]: Event.PDataReceived,
  [PduType.ReleaseRq]: Event.ReleaseRqReceived,
  [PduType.ReleaseRp]: Event.ReleaseRpReceived,
  [PduType.Abort]: Event.AbortReceived,
};

export class UpperLayerStateMachine {
  state: State = State.Idle;

  constructor(readonly host: UpperLayerHost, readonly isRequestor: boolean) {}

  /** Feeds one event; returns false when the event was not allowed in the current state. */
  dispatch(event: Event, arg: EventArg = {}): boolean {
    const action = TABLE[event][this.state];
    if (!action) {
      // A local primitive in the wrong state is a programming error of the caller, not the peer's.
      if (isLocalPrimitive(event)) return false;
      this.state = AA8(this, { reason: AbortReason.UnexpectedPdu, detail: `unexpected event ${Event[event]} in state Sta${this.state}` });
      return true;
    }
    this.state = action(this, arg);
    return true;
  }

  /** A decoded PDU arrived from the peer. */
  receive(pdu: Pdu): void {
    const event = EVENT_OF_PDU[pdu.type];
    if (event === undefined) {
      this.dispatch(Event.InvalidPdu, { reason: AbortReason.UnrecognizedPdu, detail: 'unrecognized PDU' });
      return;
    }
    const detail = pdu.type === PduType.Abort ? `the peer aborted (source ${pdu.source}, reason ${pdu.reason})`
      : this.state !== State.AwaitingTransportClose && TABLE[event][this.state] === AA8 ? `unexpected PDU type ${pdu.type} in state Sta${this.state}`
        : undefined;
    this.dispatch(event, { pdu, detail, reason: AbortReason.UnexpectedPdu });
  }

  get isEstablished(): boolean {
    return this.state === State.Established;
  }

  /** Evt9 is allowed (DT-1 in Sta6, AR-7 in Sta8): the hot send path checks this instead of
   * building a PDU object per P-DATA-TF. */
  get canSendData(): boolean {
    return this.state === State.Established || this.state === State.AwaitingLocalReleaseResponse;
  }
}

function isLocalPrimitive(e: Event): boolean {
  return e === Event.AssociateRequest || e === Event.AssociateAccept || e === Event.AssociateReject ||
    e === Event.PDataRequest || e === Event.ReleaseRequest || e === Event.ReleaseResponse || e === Event.AbortRequest;
}
