// Cuts the TCP byte stream into whole PDUs. The declared length is checked against a bound
// BEFORE any buffer is allocated for it, so a hostile 4 GiB length costs nothing.
import { PDU_HEADER_LENGTH, PduError, PduType } from './pdu.js';

/** Association PDUs carry at most 128 presentation contexts and some user information. */
const MAX_ASSOCIATE_PDU_LENGTH = 1 << 20;

export class PduFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** @param maxPDataLength our negotiated Maximum Length Received (0 = no limit announced, a hard cap applies). */
  constructor(private maxPDataLength: number) {}

  setMaxPDataLength(n: number): void {
    this.maxPDataLength = n;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  /** The next whole PDU, or undefined if more bytes are needed. Throws PduError on a bad header. */
  next(): Buffer | undefined {
    if (this.buffered < PDU_HEADER_LENGTH) return undefined;
    const first = this.headerBytes();
    const type = first[0]!;
    const length = first.readUInt32BE(2);
    this.checkLength(type, length);
    const total = PDU_HEADER_LENGTH + length;
    if (this.buffered < total) return undefined;
    return this.take(total);
  }

  private headerBytes(): Buffer {
    const head = this.chunks[0]!;
    if (head.length >= PDU_HEADER_LENGTH) return head;
    return this.take(PDU_HEADER_LENGTH, true);
  }

  private checkLength(type: number, length: number): void {
    switch (type) {
      case PduType.PDataTf: {
        const limit = this.maxPDataLength > 0 ? this.maxPDataLength : 64 << 20;
        if (length > limit) throw new PduError(`P-DATA-TF PDU of ${length} bytes exceeds the negotiated maximum of ${limit}`);
        if (length < 6) throw new PduError(`P-DATA-TF PDU of ${length} bytes cannot hold a PDV`);
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

  /** Removes `n` bytes from the front; a view when they lie in one chunk (the common case). */
  private take(n: number, peek = false): Buffer {
    const head = this.chunks[0]!;
    if (head.length >= n) {
      const out = head.subarray(0, n);
      if (!peek) this.consume(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    for (const c of this.chunks) {
      const k = Math.min(c.length, n - copied);
      c.copy(out, copied, 0, k);
      copied += k;
      if (copied === n) break;
    }
    if (!peek) this.consume(n);
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
