// One DICOM association over one socket: the upper-layer state machine, DIMSE message
// fragmentation/reassembly (PS3.7 annex E / PS3.8 annex E), request/response correlation and
// the serialized send path. Service semantics live in services/*; this module moves messages.
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { type Command, CommandError, CommandField, decodeCommand, encodeCommand, hasDataset, isResponse } from './dimse/command.js';
import { DimseError } from './dimse/status.js';
import { type NegotiatedContext } from './acse/negotiation.js';
import { AbortReason, type AbortPdu, type Pdu, PduType, pDataHeaderWithPdv, PDV_HEADER_LENGTH, type PDataTfPdu, decodePdu, encodePdu } from './ul/pdu.js';
import { type FramedItem, PduFramer } from './ul/pdu-framer.js';
import { Event, State, UpperLayerStateMachine, type UpperLayerHost } from './ul/state-machine.js';

/** Dataset bytes in the negotiated transfer syntax: in memory, or streamed (a Node Readable is an AsyncIterable). */
export type DatasetSource = Uint8Array | AsyncIterable<Uint8Array>;

/** Where the fragments of an incoming dataset go, as they arrive. */
export interface DatasetReceiver {
  /** A promise pauses the socket until it settles (backpressure). */
  write(chunk: Uint8Array): void | Promise<void>;
  /** The last fragment was received. */
  end(): void | Promise<void>;
  /** The association died before the dataset was complete. */
  abort(reason: Error): void;
}

/** Decides what to do with an incoming request; returns a receiver when a dataset follows. */
export type RequestDispatcher = (association: Association, command: Command, contextId: number) => DatasetReceiver | undefined;

export interface ResponseHandler {
  /** Called for each response; return true when it was the final one. */
  (command: Command, dataset: Uint8Array | undefined): boolean;
}

export interface AssociationTimeouts {
  /** ARTIM: association request/release and closing after an abort; default 30 s. */
  readonly artimMs?: number;
  /** Abort when the peer does not answer a request (or, as acceptor, stays idle) this long; default 5 min, 0 = never. */
  readonly dimseMs?: number;
}

export type AbortSourceName = 'peer' | 'local' | 'provider';

export interface AssociationEvents {
  established: [];
  released: [];
  aborted: [{ source: AbortSourceName; reason: string }];
  closed: [];
}

const EMPTY_PDATA: PDataTfPdu = { type: PduType.PDataTf, pdvs: [] };

/** Datasets that are buffered (identifiers, N-ACTION/N-EVENT-REPORT info) stay below this. */
const MAX_BUFFERED_DATASET = 64 << 20;

interface IncomingMessage {
  contextId: number;
  commandParts: Uint8Array[];
  commandBytes: number;
  command?: Command;
  receiver?: DatasetReceiver;
}

export interface AssociationInit {
  readonly socket: net.Socket;
  readonly isRequestor: boolean;
  readonly ourMaxPdu: number;
  readonly timeouts?: AssociationTimeouts;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
}

export class Association extends EventEmitter<AssociationEvents> {
  readonly socket: net.Socket;
  readonly isRequestor: boolean;
  readonly remoteAddress: string;
  readonly remotePort: number;
  callingAe = '';
  calledAe = '';
  /** Presentation contexts after negotiation (accepted and rejected). */
  contexts: readonly NegotiatedContext[] = [];
  /** The peer's Maximum Length Received: our P-DATA-TF PDUs never exceed it (0 = unlimited). */
  peerMaxPdu = 0;
  readonly ourMaxPdu: number;
  /** Free-form slot for the application (e.g. the authenticated user). */
  readonly locals = new Map<string, unknown>();

  dispatcher: RequestDispatcher | undefined;
  readonly sm: UpperLayerStateMachine;
  private readonly framer: PduFramer;
  private readonly artimMs: number;
  private readonly dimseMs: number;
  private artimTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastActivity = Date.now();
  private blocked = false;
  /** A protocol error was detected: nothing more from this peer is processed. */
  private failed = false;
  /** The current P-DATA-TF was accepted by the state machine: its PDV pieces are processed. */
  private receivingData = false;
  private incoming: IncomingMessage | undefined;
  private readonly pending = new Map<number, ResponseHandler>();
  private readonly pendingRejects = new Map<number, (e: Error) => void>();
  private messageId = 0;
  private sendChain: Promise<void> = Promise.resolve();
  private sendBusy = 0;
  private ended = false;
  private endError: Error | undefined;
  /** Incoming operations we are still working on (the idle timer must not fire on our own slowness). */
  busyLocal = 0;
  /** Called by the state machine host when an A-ASSOCIATE-RQ / AC / RJ arrives. */
  onAssociatePdu: ((pdu: Pdu) => void) | undefined;
  private releaseWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private readonly contextById = new Map<number, NegotiatedContext>();

  constructor(init: AssociationInit) {
    super();
    this.socket = init.socket;
    this.isRequestor = init.isRequestor;
    this.ourMaxPdu = init.ourMaxPdu;
    this.remoteAddress = init.remoteAddress ?? init.socket.remoteAddress ?? '';
    this.remotePort = init.remotePort ?? init.socket.remotePort ?? 0;
    this.artimMs = init.timeouts?.artimMs ?? 30_000;
    this.dimseMs = init.timeouts?.dimseMs ?? 300_000;
    this.framer = new PduFramer(init.ourMaxPdu);
    this.sm = new UpperLayerStateMachine(this.host(), init.isRequestor);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', () => { /* 'close' follows; the abort reason is reported there */ });
    this.socket.on('close', () => this.onTransportClosed());
  }

  // -------------------------------------------------------------------------------------------
  // Negotiated state

  setContexts(contexts: readonly NegotiatedContext[]): void {
    this.contexts = contexts;
    this.contextById.clear();
    for (const c of contexts) if (c.accepted) this.contextById.set(c.id, c);
  }

  acceptedContext(id: number): NegotiatedContext | undefined {
    return this.contextById.get(id);
  }

  get state(): State {
    return this.sm.state;
  }

  get isOpen(): boolean {
    return !this.ended && this.sm.canSendData;
  }

  // -------------------------------------------------------------------------------------------
  // Upper layer host

  private host(): UpperLayerHost {
    return {
      openTransport: () => { /* the client opens the socket before creating the association */ },
      closeTransport: () => this.closeTransport(),
      send: (pdu) => this.writePdu(pdu),
      startArtim: () => this.startArtim(),
      stopArtim: () => this.stopArtim(),
      associateIndication: (pdu) => this.onAssociatePdu?.(pdu),
      associateConfirm: (pdu) => this.onAssociatePdu?.(pdu),
      // DT-2 / AR-6: the PDV pieces that follow this P-DATA-TF header are ours to process.
      dataIndication: () => { this.receivingData = true; },
      releaseIndication: () => setImmediate(() => this.answerRelease()),
      releaseConfirm: () => {
        if (this.sm.state === State.CollisionAcceptorAwaitingReleaseRp) setImmediate(() => this.answerRelease());
        else this.releaseWaiter?.resolve();
      },
      abortIndication: (source, detail, pdu) => this.onAbortIndication(source, detail, pdu),
    };
  }

  private writePdu(pdu: Pdu): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    this.socket.write(encodePdu(pdu));
    if (pdu.type === PduType.Abort) this.socket.end();
  }

  private closeTransport(): void {
    this.stopArtim();
    if (!this.socket.destroyed) this.socket.end();
    // A peer that never closes its side must not hold the socket forever.
    setTimeout(() => this.socket.destroy(), this.artimMs).unref();
  }

  private startArtim(): void {
    this.stopArtim();
    this.artimTimer = setTimeout(() => {
      this.artimTimer = undefined;
      this.sm.dispatch(Event.ArtimExpired);
      if (this.sm.state === State.Idle) this.socket.destroy();
    }, this.artimMs);
    this.artimTimer.unref();
  }

  private stopArtim(): void {
    if (this.artimTimer) clearTimeout(this.artimTimer);
    this.artimTimer = undefined;
  }

  /** Starts the idle/DIMSE timer once the association is established. */
  markEstablished(): void {
    this.lastActivity = Date.now();
    this.armIdleTimer(this.dimseMs);
    this.emit('established');
  }

  private armIdleTimer(ms: number): void {
    if (this.dimseMs <= 0 || this.ended) return;
    this.idleTimer = setTimeout(() => this.onIdleTimer(), ms);
    this.idleTimer.unref();
  }

  private onIdleTimer(): void {
    this.idleTimer = undefined;
    if (this.ended) return;
    const elapsed = Date.now() - this.lastActivity;
    if (elapsed < this.dimseMs || this.blocked) {
      this.armIdleTimer(Math.max(this.dimseMs - elapsed, 1000));
      return;
    }
    if (this.pending.size > 0) {
      this.abort(`no DIMSE response from ${this.remoteAddress} within ${this.dimseMs} ms`);
    } else if (this.incoming) {
      this.abort(`${this.remoteAddress} stopped sending in the middle of a DIMSE message for ${this.dimseMs} ms`);
    } else if (!this.isRequestor && this.busyLocal === 0 && this.sendBusy === 0) {
      this.abort(`association idle for ${this.dimseMs} ms`);
    } else {
      this.armIdleTimer(this.dimseMs);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Receive path

  private onData(chunk: Buffer): void {
    this.lastActivity = Date.now();
    this.framer.push(chunk);
    this.pump();
  }

  private pump(): void {
    while (!this.blocked && !this.failed && !this.socket.destroyed) {
      let item: FramedItem | undefined;
      let pdu: Pdu | undefined;
      try {
        item = this.framer.next();
        if (!item) return;
        if (item.kind === 'pdu') pdu = decodePdu(item.bytes);
      } catch (e) {
        this.protocolError(e instanceof Error ? e.message : String(e), AbortReason.InvalidPduParameterValue);
        return;
      }
      if (this.sm.state === State.Idle) return;
      if (item.kind === 'pdv') {
        // Pieces of a P-DATA-TF the state machine accepted (DT-2, AR-6); otherwise ignored (AA-6).
        if (!this.receivingData) continue;
        const r = this.processPdvPiece(item);
        if (r) this.blockOn(r);
      } else {
        this.receivingData = false;
        this.sm.receive(pdu ?? EMPTY_PDATA);
      }
    }
  }

  /** Protocol error detected above the upper layer (DIMSE): A-ABORT (provider), this association only. */
  private protocolError(detail: string, reason: number = AbortReason.UnexpectedPduParameter): void {
    this.failed = true;
    if (this.sm.state === State.Idle) {
      this.socket.destroy();
      return;
    }
    this.sm.dispatch(Event.InvalidPdu, { reason, detail });
  }

  /** Stops processing received PDUs until `p` settles (e.g. while the association policy decides). */
  pauseUntil(p: Promise<void>): void {
    this.blockOn(p);
  }

  private blockOn(p: Promise<void>): void {
    this.blocked = true;
    this.socket.pause();
    p.then(() => {
      this.blocked = false;
      if (this.socket.destroyed) return;
      this.socket.resume();
      this.pump();
    }, (e: unknown) => {
      this.abortIncomingReceiver(e instanceof Error ? e : new Error(String(e)));
      this.abort(`cannot receive dataset: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  /** One piece of a PDV; returns a promise when a receiver applied backpressure. */
  private processPdvPiece(pdv: Extract<FramedItem, { kind: 'pdv' }>): Promise<void> | undefined {
    if (this.ended) return undefined;
    if (!this.contextById.has(pdv.contextId)) {
      this.protocolError(`PDV references presentation context ${pdv.contextId}, which was not accepted`);
      return undefined;
    }
    let msg = this.incoming;
    if (pdv.isCommand) {
      if (msg?.command) {
        this.protocolError('command fragment received while a dataset was expected');
        return undefined;
      }
      if (!msg) msg = this.incoming = { contextId: pdv.contextId, commandParts: [], commandBytes: 0 };
      if (msg.contextId !== pdv.contextId) {
        this.protocolError('command fragments on different presentation contexts');
        return undefined;
      }
      msg.commandBytes += pdv.data.length;
      if (msg.commandBytes > 1 << 20) {
        this.protocolError('command set larger than 1 MiB');
        return undefined;
      }
      msg.commandParts.push(pdv.data);
      if (pdv.isLast) this.commandComplete(msg);
      return undefined;
    }
    if (!msg?.command || !msg.receiver) {
      this.protocolError('dataset fragment received without a command announcing it');
      return undefined;
    }
    if (msg.contextId !== pdv.contextId) {
      this.protocolError(`dataset fragment on context ${pdv.contextId}, command was on ${msg.contextId}`);
      return undefined;
    }
    const receiver = msg.receiver;
    let w: void | Promise<void>;
    try {
      w = pdv.data.length > 0 ? receiver.write(pdv.data) : undefined;
    } catch (e) {
      w = Promise.reject(e);
    }
    if (!pdv.isLast) return w || undefined;
    this.incoming = undefined;
    const finish = () => {
      try {
        const e = receiver.end();
        if (e) e.catch((err: unknown) => this.receiverFailed(err));
      } catch (err) {
        this.receiverFailed(err);
      }
    };
    if (w) return w.then(finish);
    finish();
    return undefined;
  }

  private receiverFailed(err: unknown): void {
    this.abort(`dataset handling failed: ${err instanceof Error ? err.message : String(err)}`);
  }

  private commandComplete(msg: IncomingMessage): Promise<void> | undefined {
    const bytes = msg.commandParts.length === 1 ? msg.commandParts[0]! : Buffer.concat(msg.commandParts);
    msg.commandParts = [];
    let command: Command;
    try {
      command = decodeCommand(bytes);
    } catch (e) {
      this.protocolError(e instanceof CommandError ? e.message : 'undecodable command set');
      return undefined;
    }
    msg.command = command;
    let receiver: DatasetReceiver | undefined;
    try {
      receiver = isResponse(command.commandField) ? this.responseReceived(command) : this.requestReceived(command, msg.contextId);
    } catch (e) {
      this.abort(`cannot handle ${commandName(command.commandField)}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
    if (this.failed || this.ended) return undefined;
    if (hasDataset(command)) {
      if (!receiver) {
        this.protocolError(`${commandName(command.commandField)} carries a dataset that was not expected`);
        return undefined;
      }
      msg.receiver = receiver;
    } else {
      this.incoming = undefined;
    }
    return undefined;
  }

  private requestReceived(command: Command, contextId: number): DatasetReceiver | undefined {
    if (!this.dispatcher) throw new Error('no request dispatcher');
    return this.dispatcher(this, command, contextId);
  }

  private responseReceived(command: Command): DatasetReceiver | undefined {
    const id = command.messageIdBeingRespondedTo ?? -1;
    const handler = this.pending.get(id);
    if (!handler) {
      this.protocolError(`${commandName(command.commandField)} answers unknown message ID ${id}`);
      return undefined;
    }
    const deliver = (dataset: Uint8Array | undefined) => {
      if (handler(command, dataset)) {
        this.pending.delete(id);
        this.pendingRejects.delete(id);
      }
    };
    if (!hasDataset(command)) {
      deliver(undefined);
      return undefined;
    }
    return bufferingReceiver(deliver);
  }

  private abortIncomingReceiver(err: Error): void {
    const r = this.incoming?.receiver;
    this.incoming = undefined;
    if (r) {
      try { r.abort(err); } catch { /* the receiver's own failure must not hide the abort */ }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Send path

  nextMessageId(): number {
    this.messageId = (this.messageId % 0xffff) + 1;
    return this.messageId;
  }

  /** Largest PDV payload that keeps a P-DATA-TF within the peer's maximum. */
  get maxPdvData(): number {
    const max = this.peerMaxPdu > 0 ? this.peerMaxPdu : 1 << 20;
    return Math.max(max - PDV_HEADER_LENGTH, 1);
  }

  /**
   * Sends one DIMSE message (command and optional dataset). Messages never interleave:
   * each waits for the previous one to be written completely.
   */
  sendMessage(contextId: number, command: Command, dataset?: DatasetSource): Promise<void> {
    const run = () => this.writeMessage(contextId, command, dataset);
    if (this.sendBusy === 0 && (dataset === undefined || dataset instanceof Uint8Array)) {
      // Fast path: nothing queued and nothing to await; write in this tick.
      try {
        this.writeMessageSync(contextId, command, dataset);
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(e);
      }
    }
    this.sendBusy++;
    const p = this.sendChain.then(run);
    this.sendChain = p.then(() => undefined, () => undefined).finally(() => { this.sendBusy--; });
    return p;
  }

  private assertCanSend(): void {
    if (this.ended || !this.sm.canSendData) {
      throw new DimseError(this.endError ? `association closed: ${this.endError.message}` : 'association is not established');
    }
  }

  private writeMessageSync(contextId: number, command: Command, dataset: Uint8Array | undefined): void {
    this.assertCanSend();
    // A command alone (every response) goes as one buffer: one write(2), without corking.
    if (!dataset) {
      this.socket.write(encodeCommandPdu(contextId, command, this.maxPdvData));
      return;
    }
    const cmd = encodeCommand(command);
    const s = this.socket;
    s.cork();
    this.writeFragments(contextId, true, cmd, true);
    if (dataset) this.writeFragments(contextId, false, dataset, true);
    s.uncork();
  }

  private writeFragments(contextId: number, isCommand: boolean, bytes: Uint8Array, lastOfAll: boolean): void {
    const max = this.maxPdvData;
    let offset = 0;
    do {
      const n = Math.min(max, bytes.length - offset);
      const last = lastOfAll && offset + n === bytes.length;
      this.socket.write(pDataHeaderWithPdv(contextId, isCommand, last, n));
      if (n > 0) this.socket.write(bytes.subarray(offset, offset + n));
      offset += n;
    } while (offset < bytes.length);
  }

  private async writeMessage(contextId: number, command: Command, dataset?: DatasetSource): Promise<void> {
    if (dataset === undefined || dataset instanceof Uint8Array) {
      this.writeMessageSync(contextId, command, dataset);
      return this.drained();
    }
    this.assertCanSend();
    this.socket.write(encodeCommandPdu(contextId, command, this.maxPdvData));
    try {
      await this.streamDataset(contextId, dataset);
    } catch (e) {
      // Half a dataset is on the wire: the peer can never make sense of what follows.
      this.abort(`sending a dataset failed: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
  }

  /** Cuts a stream into PDVs of the peer's maximum size without copying (scatter writes), holding back the tail until we know it is the last. */
  private async streamDataset(contextId: number, source: AsyncIterable<Uint8Array>): Promise<void> {
    const max = this.maxPdvData;
    let parts: Uint8Array[] = [];
    let size = 0;
    const flush = (n: number, last: boolean) => {
      this.assertCanSend();
      const s = this.socket;
      s.cork();
      s.write(pDataHeaderWithPdv(contextId, false, last, n));
      let remaining = n;
      while (remaining > 0) {
        const p = parts[0]!;
        if (p.length <= remaining) {
          s.write(p);
          remaining -= p.length;
          parts.shift();
        } else {
          s.write(p.subarray(0, remaining));
          parts[0] = p.subarray(remaining);
          remaining = 0;
        }
      }
      size -= n;
      s.uncork();
    };
    for await (const chunk of source) {
      if (chunk.length === 0) continue;
      parts.push(chunk);
      size += chunk.length;
      // Strictly more than one PDV's worth: the held-back bytes may still be the end.
      while (size > max) {
        flush(max, false);
        if (this.socket.writableNeedDrain) await this.drained();
      }
    }
    flush(size, true);
    parts = [];
    await this.drained();
  }

  /** Resolves when the socket's write buffer has drained (send-side backpressure). */
  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = () => { cleanup(); resolve(); };
      const onClose = () => { cleanup(); reject(new DimseError(`association with ${this.remoteAddress} closed while sending`)); };
      const cleanup = () => { this.socket.off('drain', onDrain); this.socket.off('close', onClose); };
      this.socket.on('drain', onDrain);
      this.socket.on('close', onClose);
    });
  }

  /**
   * Sends a request and routes its responses to `onResponse` until it reports the final one.
   * The returned promise settles when the final response arrived (or the association died).
   */
  request(contextId: number, command: Command, dataset: DatasetSource | undefined, onResponse: ResponseHandler): Promise<void> {
    const id = command.messageId ?? this.nextMessageId();
    command.messageId = id;
    return new Promise<void>((resolve, reject) => {
      if (this.ended) {
        reject(new DimseError(`association closed: ${this.endError?.message ?? 'released'}`));
        return;
      }
      this.lastActivity = Date.now();
      this.pending.set(id, (cmd, ds) => {
        let final: boolean;
        try {
          final = onResponse(cmd, ds);
        } catch (e) {
          reject(e);
          return true;
        }
        if (final) resolve();
        return final;
      });
      this.pendingRejects.set(id, reject);
      this.sendMessage(contextId, command, dataset).catch((e: unknown) => {
        this.pending.delete(id);
        this.pendingRejects.delete(id);
        reject(e);
      });
    });
  }

  // -------------------------------------------------------------------------------------------
  // Release and abort

  /** A-RELEASE (requestor): waits for our queued messages, then for the peer's A-RELEASE-RP. */
  async release(): Promise<void> {
    await this.sendChain;
    if (this.ended) return;
    return new Promise<void>((resolve, reject) => {
      this.releaseWaiter = { resolve, reject };
      if (!this.sm.dispatch(Event.ReleaseRequest)) {
        reject(new DimseError(`cannot release in state Sta${this.sm.state}`));
        return;
      }
      this.startArtim();
    });
  }

  private answerRelease(): void {
    const s = this.sm.state;
    if (s !== State.AwaitingLocalReleaseResponse && s !== State.CollisionRequestorAwaitingLocalResponse &&
      s !== State.CollisionAcceptorAwaitingLocalResponse) return;
    // Let messages already queued (e.g. a last response) go out before A-RELEASE-RP.
    void this.sendChain.then(() => {
      this.sm.dispatch(Event.ReleaseResponse);
      if (this.sm.state === State.AwaitingTransportClose) this.finish(undefined);
    });
  }

  /** A-ABORT (service user). Safe to call in any state, any number of times. */
  abort(reason = 'aborted by the application'): void {
    if (this.ended && this.sm.state === State.Idle) return;
    if (this.sm.state === State.Idle || this.sm.state === State.AwaitingTransportClose) {
      this.finish(new DimseError(reason));
      this.socket.destroy();
      return;
    }
    if (!this.sm.dispatch(Event.AbortRequest, { reason: AbortReason.NotSpecified, detail: reason })) {
      // Before establishment (Sta2): no A-ABORT PDU to send, just drop the connection.
      this.finish(new DimseError(reason));
      this.socket.destroy();
    }
  }

  private onAbortIndication(source: AbortSourceName, detail: string, pdu?: Pdu): void {
    const reason = pdu && pdu.type === PduType.Abort ? describeAbort(pdu, detail) : detail;
    if (!this.ended) this.emit('aborted', { source, reason });
    this.finish(new DimseError(`association aborted (${source}): ${reason}`));
  }

  private onTransportClosed(): void {
    this.stopArtim();
    if (this.sm.state !== State.Idle) this.sm.dispatch(Event.TransportClosed, { detail: 'the peer closed the connection' });
    if (!this.ended) {
      // Closed after a completed release (AR-3/AR-5) or before establishment.
      this.finish(undefined);
    }
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.emit('closed');
  }

  /** The association is over: fail whatever is still waiting on it. Runs once. */
  private finish(error: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.endError = error;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const err = error ?? new DimseError('association released');
    this.abortIncomingReceiver(err);
    for (const reject of this.pendingRejects.values()) reject(err);
    this.pending.clear();
    this.pendingRejects.clear();
    if (error) this.releaseWaiter?.reject(err);
    else {
      this.releaseWaiter?.resolve();
      this.emit('released');
    }
  }

  /** Whether the association is over (released, aborted or closed). */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Resolves when the socket is closed. */
  closed(): Promise<void> {
    if (this.socket.destroyed && this.socket.closed) return Promise.resolve();
    return new Promise((resolve) => this.once('closed', () => resolve()));
  }
}

function encodeCommandPdu(contextId: number, command: Command, maxData: number): Buffer {
  const cmd = encodeCommand(command);
  const parts: Buffer[] = [];
  let offset = 0;
  do {
    const n = Math.min(maxData, cmd.length - offset);
    parts.push(pDataHeaderWithPdv(contextId, true, offset + n === cmd.length, n), cmd.subarray(offset, offset + n));
    offset += n;
  } while (offset < cmd.length);
  return Buffer.concat(parts);
}

/** Collects a (small) dataset in memory, bounded, then hands it over. */
export function bufferingReceiver(done: (dataset: Uint8Array) => void, limit = MAX_BUFFERED_DATASET): DatasetReceiver {
  const parts: Uint8Array[] = [];
  let size = 0;
  return {
    write(chunk) {
      size += chunk.length;
      if (size > limit) throw new DimseError(`dataset exceeds ${limit} bytes`);
      parts.push(chunk);
    },
    end() {
      done(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
    },
    abort() { /* nothing held but memory */ },
  };
}

function describeAbort(pdu: AbortPdu, fallback: string): string {
  const source = pdu.source === 0 ? 'service user' : pdu.source === 2 ? 'service provider' : `source ${pdu.source}`;
  return `${fallback} [A-ABORT from ${source}, reason ${pdu.reason}]`;
}

const COMMAND_NAMES = new Map(Object.entries(CommandField).map(([k, v]) => [v as number, k]));
export function commandName(field: number): string {
  return COMMAND_NAMES.get(field) ?? `command 0x${field.toString(16)}`;
}

