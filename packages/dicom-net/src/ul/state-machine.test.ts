import { describe, expect, it } from 'vitest';
import { type Pdu, PduType } from './pdu.js';
import { Event, State, UpperLayerStateMachine, type UpperLayerHost } from './state-machine.js';

function recorder() {
  const log: string[] = [];
  const host: UpperLayerHost = {
    openTransport: () => log.push('open'),
    closeTransport: () => log.push('close'),
    send: (p: Pdu) => log.push(`send:${p.type}${p.type === PduType.Abort ? `/${p.source}/${p.reason}` : ''}`),
    startArtim: () => log.push('artim+'),
    stopArtim: () => log.push('artim-'),
    associateIndication: () => log.push('assoc-ind'),
    associateConfirm: (p) => log.push(`assoc-conf:${p.type}`),
    dataIndication: () => log.push('data'),
    releaseIndication: () => log.push('release-ind'),
    releaseConfirm: () => log.push('release-conf'),
    abortIndication: (source) => log.push(`abort-ind:${source}`),
  };
  return { log, host };
}

const rq = { type: PduType.AssociateRq } as Pdu;
const pdata = { type: PduType.PDataTf, pdvs: [] } as Pdu;

function acceptor() {
  const r = recorder();
  const sm = new UpperLayerStateMachine(r.host, false);
  sm.dispatch(Event.TransportConnectIndication);
  return { ...r, sm };
}

describe('upper layer state machine (PS3.8 table 9-10)', () => {
  it('acceptor: Sta1 → Sta2 (ARTIM) → Sta3 → Sta6 → release → Sta13 → Sta1', () => {
    const { sm, log } = acceptor();
    expect(sm.state).toBe(State.AwaitingAssociateRq);
    sm.receive(rq);
    expect(sm.state).toBe(State.AwaitingLocalAssociateResponse);
    sm.dispatch(Event.AssociateAccept, { pdu: { type: PduType.AssociateAc } as Pdu });
    expect(sm.state).toBe(State.Established);
    sm.receive(pdata);
    sm.receive({ type: PduType.ReleaseRq });
    expect(sm.state).toBe(State.AwaitingLocalReleaseResponse);
    expect(sm.canSendData).toBe(true); // AR-7: a last response may still go out
    sm.dispatch(Event.ReleaseResponse);
    expect(sm.state).toBe(State.AwaitingTransportClose);
    sm.dispatch(Event.TransportClosed);
    expect(sm.state).toBe(State.Idle);
    expect(log).toEqual(['artim+', 'artim-', 'assoc-ind', 'send:2', 'data', 'release-ind', 'send:6', 'artim+', 'artim-']);
  });

  it('requestor: association, release and A-RELEASE-RP closes the transport (AR-3)', () => {
    const { log, host } = recorder();
    const sm = new UpperLayerStateMachine(host, true);
    sm.dispatch(Event.AssociateRequest);
    expect(sm.state).toBe(State.AwaitingTransportOpen);
    sm.dispatch(Event.TransportConnectConfirm, { pdu: rq });
    sm.receive({ type: PduType.AssociateAc } as Pdu);
    expect(sm.state).toBe(State.Established);
    sm.dispatch(Event.ReleaseRequest);
    sm.receive({ type: PduType.ReleaseRp });
    expect(sm.state).toBe(State.Idle);
    expect(log).toEqual(['open', 'send:1', 'assoc-conf:2', 'send:5', 'release-conf', 'close']);
  });

  it('handles a release collision on the requestor side (Sta7 → Sta9 → Sta11 → Sta1)', () => {
    const { host } = recorder();
    const sm = new UpperLayerStateMachine(host, true);
    sm.dispatch(Event.AssociateRequest);
    sm.dispatch(Event.TransportConnectConfirm, { pdu: rq });
    sm.receive({ type: PduType.AssociateAc } as Pdu);
    sm.dispatch(Event.ReleaseRequest);
    sm.receive({ type: PduType.ReleaseRq });
    expect(sm.state).toBe(State.CollisionRequestorAwaitingLocalResponse);
    sm.dispatch(Event.ReleaseResponse);
    expect(sm.state).toBe(State.CollisionRequestorAwaitingReleaseRp);
    sm.receive({ type: PduType.ReleaseRp });
    expect(sm.state).toBe(State.Idle);
  });

  it('handles a release collision on the acceptor side (Sta7 → Sta10 → Sta12 → Sta13)', () => {
    const { sm } = acceptor();
    sm.receive(rq);
    sm.dispatch(Event.AssociateAccept, { pdu: { type: PduType.AssociateAc } as Pdu });
    sm.dispatch(Event.ReleaseRequest);
    sm.receive({ type: PduType.ReleaseRq });
    expect(sm.state).toBe(State.CollisionAcceptorAwaitingReleaseRp);
    sm.receive({ type: PduType.ReleaseRp });
    expect(sm.state).toBe(State.CollisionAcceptorAwaitingLocalResponse);
    sm.dispatch(Event.ReleaseResponse);
    expect(sm.state).toBe(State.AwaitingTransportClose);
  });

  it('aborts (AA-8: provider A-ABORT, indication, ARTIM) on an unexpected PDU once established', () => {
    const { sm, log } = acceptor();
    sm.receive(rq);
    sm.dispatch(Event.AssociateAccept, { pdu: { type: PduType.AssociateAc } as Pdu });
    log.length = 0;
    sm.receive(rq); // a second A-ASSOCIATE-RQ
    expect(sm.state).toBe(State.AwaitingTransportClose);
    expect(log).toEqual(['send:7/2/2', 'abort-ind:provider', 'artim+']);
    log.length = 0;
    sm.receive(pdata); // AA-6: ignored in Sta13
    expect(log).toEqual([]);
  });

  it('answers P-DATA before association with A-ABORT (AA-1) and closes on ARTIM expiry', () => {
    const { sm, log } = acceptor();
    sm.receive(pdata);
    expect(sm.state).toBe(State.AwaitingTransportClose);
    expect(log.slice(-2)).toEqual(['send:7/0/2', 'artim+']);
    sm.dispatch(Event.ArtimExpired);
    expect(sm.state).toBe(State.Idle);
    expect(log.slice(-2)).toEqual(['artim-', 'close']);
  });

  it('closes the transport when no A-ASSOCIATE-RQ arrives before ARTIM (Sta2 AA-2)', () => {
    const { sm, log } = acceptor();
    sm.dispatch(Event.ArtimExpired);
    expect(sm.state).toBe(State.Idle);
    expect(log).toEqual(['artim+', 'artim-', 'close']);
  });

  it('reports a peer abort (AA-3) and a lost connection (AA-4)', () => {
    const a = acceptor();
    a.sm.receive(rq);
    a.sm.receive({ type: PduType.Abort, source: 0, reason: 0 });
    expect(a.sm.state).toBe(State.Idle);
    expect(a.log.slice(-2)).toEqual(['abort-ind:peer', 'close']);
    const b = acceptor();
    b.sm.receive(rq);
    b.sm.dispatch(Event.AssociateAccept, { pdu: { type: PduType.AssociateAc } as Pdu });
    b.sm.dispatch(Event.TransportClosed);
    expect(b.log.at(-1)).toBe('abort-ind:provider');
  });

  it('refuses local primitives in the wrong state without touching the peer', () => {
    const { sm, log } = acceptor();
    expect(sm.dispatch(Event.ReleaseRequest)).toBe(false);
    expect(sm.dispatch(Event.PDataRequest, { pdu: pdata })).toBe(false);
    expect(sm.state).toBe(State.AwaitingAssociateRq);
    expect(log).toEqual(['artim+']);
  });
});
