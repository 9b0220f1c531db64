// Cuts the TCP byte stream into PDUs. The declared length is checked against a bound BEFORE
// anything is allocated for it, so a hostile 4 GiB length costs nothing.
//
// P-DATA-TF PDUs are not reassembled: their PDVs come out piece by piece, each piece a view
// onto the socket's own buffer, as soon as its bytes arrive. A large dataset therefore reaches
// its receiver without ever being copied or held whole, whatever the PDU size.
import { PDU_HEADER_LENGTH, PDV_HEADER_LENGTH, PduError, PduType } from './pdu.js';

/** Association PDUs carry at most 128 presentation contexts and some user information. */
const MAX_ASSOCIATE_PDU_LENGTH = 1 << 20;

export type FramedItem =
  /** A whole PDU other than P-DATA-TF (header included). */
  | { readonly kind: 'pdu'; readonly bytes: Buffer }
  /** The header of a P-DATA-TF PDU: its PDV pieces follow. */
  | { readonly kind: 'pdata'; readonly length: number }
  /** Part of a PDV's data; `pdvEnd` on its last piece, `isLast` = the PDV's last-fragment bit on that piece only. */
  | { readonly kind: 'pdv'; readonly contextId: number; readonly isCommand: boolean; readonly isLast: boolean; readonly pdvEnd: boolean; readonly data: Buffer };

const enum Mode { PduHeader, PdvHeader, PdvData }

export class PduFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private mode = Mode.PduHeader;
  private pduRemaining = 0;
  private pdvRemaining = 0;
  private pdvContext = 0;
  private pdvControl = 0;

  /** @param maxPDataLength our Maximum Length Received (0 = none announced: a hard cap applies). */
  constructor(private maxPDataLength: number) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  /** The next item, or undefined if more bytes are needed. Throws PduError on malformed framing. */
  next(): FramedItem | undefined {
    switch (this.mode) {
      case Mode.PduHeader: return this.nextPdu();
      case Mode.PdvHeader: return this.nextPdvHeader();
      case Mode.PdvData: return this.nextPdvPiece();
    }
  }

  private nextPdu(): FramedItem | undefined {
    if (this.buffered < PDU_HEADER_LENGTH) return undefined;
    const head = this.peek(PDU_HEADER_LENGTH);
    const type = head[0]!;
    const length = head.readUInt32BE(2);
    this.checkLength(type, length);
    if (type === PduType.PDataTf) {
      this.consume(PDU_HEADER_LENGTH);
      this.pduRemaining = length;
      this.mode = Mode.PdvHeader;
      return { kind: 'pdata', length };
    }
    const total = PDU_HEADER_LENGTH + length;
    if (this.buffered < total) return undefined;
    const bytes = this.peek(total);
    this.consume(total);
    return { kind: 'pdu', bytes };
  }

  private nextPdvHeader(): FramedItem | undefined {
    if (this.pduRemaining < PDV_HEADER_LENGTH) throw new PduError(`${this.pduRemaining} bytes left in P-DATA-TF cannot hold a PDV`);
    if (this.buffered < PDV_HEADER_LENGTH) return undefined;
    const h = this.peek(PDV_HEADER_LENGTH);
    const itemLength = h.readUInt32BE(0);
    if (itemLength < 2) throw new PduError(`PDV item length ${itemLength} is too small`);
    if (itemLength + 4 > this.pduRemaining) throw new PduError(`PDV item of ${itemLength} bytes runs past its P-DATA-TF PDU`);
    this.pdvContext = h[4]!;
    this.pdvControl = h[5]!;
    this.consume(PDV_HEADER_LENGTH);
    this.pduRemaining -= PDV_HEADER_LENGTH;
    this.pdvRemaining = itemLength - 2;
    this.mode = Mode.PdvData;
    return this.nextPdvPiece();
  }

  private nextPdvPiece(): FramedItem | undefined {
    let data: Buffer;
    if (this.pdvRemaining === 0) {
      data = EMPTY;
    } else {
      if (this.buffered === 0) return undefined;
      const head = this.chunks[0]!;
      const n = Math.min(head.length, this.pdvRemaining);
      data = head.subarray(0, n);
      this.consume(n);
      this.pdvRemaining -= n;
      this.pduRemaining -= n;
    }
    const pdvEnd = this.pdvRemaining === 0;
    if (pdvEnd) this.mode = this.pduRemaining === 0 ? Mode.PduHeader : Mode.PdvHeader;
    return {
      kind: 'pdv', contextId: this.pdvContext, isCommand: (this.pdvControl & 1) === 1,
      isLast: pdvEnd && (this.pdvControl & 2) === 2, pdvEnd, data,
    };
  }

  private checkLength(type: number, length: number): void {
    switch (type) {
      case PduType.PDataTf: {
        const limit = this.maxPDataLength > 0 ? this.maxPDataLength : 64 << 20;
        if (length > limit) throw new PduError(`P-DATA-TF PDU of ${length} bytes exceeds the negotiated maximum of ${limit}`);
        if (length < PDV_HEADER_LENGTH) throw new PduError(`P-DATA-TF PDU of ${length} bytes cannot hold a PDV`);
        return;
      }
      case PduType.AssociateRq:
      case PduType.AssociateAc:
        if (length > MAX_ASSOCIATE_PDU_LENGTH || length < 68) throw new PduError(`A-ASSOCIATE PDU length ${length} is out of bounds`);
        return;
      case PduType.AssociateRj:
      case PduType.ReleaseRq:
      case PduType.ReleaseRp:
      case PduType.Abort:
        if (length !== 4) throw new PduError(`PDU type ${type} must have length 4, not ${length}`);
        return;
      default:
        throw new PduError(`unrecognized PDU type 0x${type.toString(16)}`);
    }
  }

  /** The first `n` buffered bytes: a view when they lie in one chunk, else a (small) copy. */
  private peek(n: number): Buffer {
    const head = this.chunks[0]!;
    if (head.length >= n) return head.subarray(0, n);
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    for (const c of this.chunks) {
      const k = Math.min(c.length, n - copied);
      c.copy(out, copied, 0, k);
      copied += k;
      if (copied === n) break;
    }
    return out;
  }

  private consume(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const head = this.chunks[0]!;
      if (head.length <= n) {
        this.chunks.shift();
        n -= head.length;
      } else {
        this.chunks[0] = head.subarray(n);
        n = 0;
      }
    }
  }
}

const EMPTY = Buffer.alloc(0);
