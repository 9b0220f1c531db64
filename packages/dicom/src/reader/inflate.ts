// Synchronous, incremental raw inflate for Deflated Explicit VR Little Endian (PS3.5 A.5).
// push() of the parser is synchronous, so zlib's asynchronous streams do not fit, and zlib's
// public *Sync functions only take a whole buffer. This drives the native inflate handle of
// a zlib object chunk by chunk, the way zlib's own sync functions do (internal fields
// `_handle` and `_writeState`, stable since Node 12; the deflate tests guard them).
// Output is produced in fixed-size pieces handed to a sink, so a "zip bomb" never makes
// us hold more than one piece at a time.
import { EventEmitter } from 'node:events';
import zlib from 'node:zlib';
import { DicomParseError } from './errors.js';

interface NativeZlibHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
}
interface ZlibInternals extends EventEmitter {
  _handle: NativeZlibHandle | null;
  _writeState: Uint32Array;
  close(): void;
}

const OUT_PIECE = 64 * 1024;

export class RawInflater {
  private readonly engine: ZlibInternals;
  private consumed = 0;
  private error: Error | undefined;
  private done = false;

  constructor(private readonly startOffset: number) {
    this.engine = zlib.createInflateRaw() as unknown as ZlibInternals;
    this.engine.on('error', (e: Error) => { this.error = e; });
    if (!this.engine._handle || !(this.engine._writeState instanceof Uint32Array)) {
      throw new Error('This Node.js version lacks the zlib internals needed for streaming deflated DICOM');
    }
  }

  /** Inflates one compressed chunk, handing the output to `sink` in pieces. */
  push(chunk: Uint8Array, sink: (out: Uint8Array) => void): void {
    if (this.done || chunk.length === 0) return;
    const handle = this.engine._handle;
    if (!handle) { this.done = true; return; } // stream ended: trailing bytes are padding
    const state = this.engine._writeState;
    let inOff = 0;
    let availIn = chunk.length;
    for (;;) {
      const out = Buffer.allocUnsafe(OUT_PIECE);
      handle.writeSync(zlib.constants.Z_NO_FLUSH, chunk, inOff, availIn, out, 0, OUT_PIECE);
      // On a zlib error the handle is closed at once; the error event itself comes later.
      if (this.error || !this.engine._handle) throw this.corrupt();
      const availOut = state[0]!;
      const availInAfter = state[1]!;
      this.consumed += availIn - availInAfter;
      inOff += availIn - availInAfter;
      availIn = availInAfter;
      const have = OUT_PIECE - availOut;
      if (have > 0) sink(out.subarray(0, have));
      // Output buffer full: more may be pending. Otherwise all input was taken (or the stream ended).
      if (availOut !== 0) break;
    }
    if (availIn > 0) this.done = true; // input left over after the final block
  }

  end(): void {
    this.engine.close();
  }

  private corrupt(): DicomParseError {
    const sym = Object.getOwnPropertySymbols(this.engine).find((s) => s.description === 'kError');
    const cause = this.error ?? (sym ? (this.engine as unknown as Record<symbol, unknown>)[sym] : undefined);
    const detail = cause instanceof Error ? cause.message : 'invalid deflate stream';
    return new DicomParseError(`Deflated data set is corrupt (${detail})`, this.startOffset + this.consumed);
  }
}
