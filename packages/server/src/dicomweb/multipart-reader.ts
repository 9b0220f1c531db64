// Streaming reader of multipart/related request bodies (RFC 2046 §5.1, RFC 2387), for STOW-RS
// (PS3.18 §10.5.1). Written here rather than taken from a library because STOW needs:
// - constant memory whatever the size: a part's body is handed on chunk by chunk as it arrives,
//   never gathered (a whole-slide image or a long cine can be gigabytes);
// - a boundary search that works across chunk edges: the network cuts the body anywhere, so the
//   end of a chunk that could be the start of the delimiter is held back until the next chunk;
// - back-pressure: the reader pulls the next chunk from the socket only when the consumer (the
//   object being written to disk) asks for more, so a fast client cannot fill the memory;
// - an idle timeout: a client that stops sending mid-body is cut off and what it sent discarded.
// busboy, the usual Node.js parser, only handles multipart/form-data.
import type { Readable } from 'node:stream';
import { HttpError } from './http-error.js';

export interface MultipartLimits {
  /** Header block of one part. */
  maxHeaderBytes: number;
  /** Bytes before the first boundary (the preamble, which RFC 2046 tells us to ignore). */
  maxPreambleBytes: number;
  /** The whole body; beyond it the request is refused with 413. */
  maxBodyBytes: number;
  /** Silence from the client, in milliseconds, after which the request is refused with 408. */
  idleTimeoutMs: number;
}

export const DEFAULT_MULTIPART_LIMITS: MultipartLimits = {
  maxHeaderBytes: 16 * 1024,
  maxPreambleBytes: 64 * 1024,
  maxBodyBytes: Number.MAX_SAFE_INTEGER,
  idleTimeoutMs: 60_000,
};

/** A body that is not the multipart/related it claims to be: 400 with what was wrong where. */
export class MultipartError extends HttpError {
  constructor(message: string, statusCode = 400) {
    super(statusCode, message);
  }
}

/** The client went away (connection reset or closed) before the body ended. */
export class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError';
}

export interface PartHeaders {
  /** 1-based position of the part in the body, for messages. */
  readonly index: number;
  /** Header fields with lower-case names; a repeated field keeps its last value. */
  readonly fields: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  readonly contentLocation: string | undefined;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
const DASH = 0x2d;
const CR = 0x0d;
const LF = 0x0a;
/** RFC 2046 §5.1.1: 1 to 70 characters from bchars, not ending with a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;

type State = 'preamble' | 'after-boundary' | 'headers' | 'body' | 'end';

/**
 * Reads parts one after the other: `nextPart()` gives the headers of the next part (undefined
 * after the closing delimiter), then `readBody()` gives its body chunk by chunk (undefined at its
 * end). Chunks are views of the received buffers, never modified afterwards, so a consumer may
 * keep them. Any malformation throws a MultipartError naming the part.
 */
export class MultipartReader {
  /** "--boundary": the delimiter at the very start of the body. */
  private readonly dashBoundary: Buffer;
  /** CRLF "--boundary": the delimiter everywhere else (the CRLF belongs to it, not to the part). */
  private readonly delimiter: Buffer;
  private readonly source: AsyncIterator<unknown>;
  private buffered: Buffer = EMPTY;
  private sourceEnded = false;
  private state: State = 'preamble';
  private partIndex = 0;
  private received = 0;

  constructor(source: Readable, boundary: string, private readonly limits: MultipartLimits = DEFAULT_MULTIPART_LIMITS) {
    if (!BOUNDARY.test(boundary)) {
      throw new MultipartError(`boundary "${boundary.slice(0, 80)}" is not valid (RFC 2046 §5.1.1: 1 to 70 characters, no trailing space)`);
    }
    this.dashBoundary = Buffer.from(`--${boundary}`, 'latin1');
    this.delimiter = Buffer.concat([CRLF, this.dashBoundary]);
    this.source = source[Symbol.asyncIterator]();
  }

  /** Total bytes received from the client so far. */
  get bytesReceived(): number {
    return this.received;
  }

  /** Whether the closing delimiter has been read. */
  get ended(): boolean {
    return this.state === 'end';
  }

  async nextPart(): Promise<PartHeaders | undefined> {
    if (this.state === 'body') while (await this.readBody() !== undefined) { /* skip the rest of the part */ }
    if (this.state === 'preamble') await this.skipPreamble();
    if (this.state === 'after-boundary') await this.afterBoundary();
    if (this.state === 'end') return undefined;
    return this.readHeaders();
  }

  /** The next chunk of the current part's body, or undefined at its end. */
  async readBody(): Promise<Buffer | undefined> {
    for (;;) {
      if (this.state !== 'body') return undefined;
      const at = this.buffered.indexOf(this.delimiter);
      if (at >= 0) {
        const chunk = this.buffered.subarray(0, at);
        this.buffered = this.buffered.subarray(at + this.delimiter.length);
        this.state = 'after-boundary';
        if (chunk.length > 0) return chunk;
        return undefined;
      }
      // Everything except a tail that could be the start of the delimiter is body.
      const held = this.possibleDelimiterStart();
      if (this.buffered.length > held) {
        const chunk = this.buffered.subarray(0, this.buffered.length - held);
        this.buffered = this.buffered.subarray(this.buffered.length - held);
        return chunk;
      }
      if (!await this.pull()) {
        throw new MultipartError(`part ${this.partIndex} is cut short: the body ends without its closing boundary (truncated upload, or a Content-Length shorter than the body)`);
      }
    }
  }

  /** Reads and ignores the epilogue after the closing delimiter, so that the connection can be reused. */
  async drainEpilogue(): Promise<void> {
    this.buffered = EMPTY;
    while (await this.pull()) this.buffered = EMPTY;
  }

  private async skipPreamble(): Promise<void> {
    for (;;) {
      // RFC 2046: the first delimiter may start the body (no CRLF before it) or follow a preamble.
      if (this.buffered.length >= this.dashBoundary.length && this.buffered.subarray(0, this.dashBoundary.length).equals(this.dashBoundary)) {
        this.buffered = this.buffered.subarray(this.dashBoundary.length);
        this.state = 'after-boundary';
        return;
      }
      const at = this.buffered.indexOf(this.delimiter);
      if (at >= 0) {
        this.buffered = this.buffered.subarray(at + this.delimiter.length);
        this.state = 'after-boundary';
        return;
      }
      if (this.buffered.length > this.limits.maxPreambleBytes) {
        throw new MultipartError(`no boundary "${this.dashBoundary.toString('latin1')}" in the first ${this.limits.maxPreambleBytes} bytes: the body does not match the boundary of its Content-Type`);
      }
      if (!await this.pull()) {
        throw new MultipartError(this.received === 0
          ? 'the request body is empty: send at least one part'
          : `the body has no boundary "${this.dashBoundary.toString('latin1')}": it does not match the boundary of its Content-Type`);
      }
    }
  }

  /** After a delimiter: "--" closes the body; otherwise optional transport padding and CRLF. */
  private async afterBoundary(): Promise<void> {
    for (;;) {
      const b = this.buffered;
      if (b.length >= 2 && b[0] === DASH && b[1] === DASH) {
        this.buffered = b.subarray(2);
        this.state = 'end';
        return;
      }
      let i = 0;
      while (i < b.length && (b[i] === 0x20 || b[i] === 0x09)) i++; // transport padding (RFC 2046 §5.1.1)
      if (i + 1 < b.length) {
        if (b[i] === CR && b[i + 1] === LF) {
          this.buffered = b.subarray(i + 2);
          this.state = 'headers';
          return;
        }
        throw new MultipartError(`unexpected bytes after the boundary that ends part ${this.partIndex}: a boundary line must end with CRLF or "--"`);
      }
      if (b.length > 1024) throw new MultipartError(`boundary line after part ${this.partIndex} does not end`);
      if (!await this.pull()) {
        throw new MultipartError(`the body ends right after the boundary that follows part ${this.partIndex}, without the closing "--"`);
      }
    }
  }

  private async readHeaders(): Promise<PartHeaders> {
    this.partIndex++;
    for (;;) {
      // A part without header fields starts straight with the empty line.
      const end = this.buffered.length >= 2 && this.buffered[0] === CR && this.buffered[1] === LF ? -2 : this.buffered.indexOf(HEADER_END);
      if (end !== -1) {
        const block = end === -2 ? '' : this.buffered.subarray(0, end).toString('latin1');
        this.buffered = this.buffered.subarray(end === -2 ? 2 : end + HEADER_END.length);
        this.state = 'body';
        return this.parseHeaders(block);
      }
      if (this.buffered.length > this.limits.maxHeaderBytes) {
        throw new MultipartError(`the headers of part ${this.partIndex} exceed ${this.limits.maxHeaderBytes} bytes or do not end with an empty line`);
      }
      if (!await this.pull()) {
        throw new MultipartError(`the body ends inside the headers of part ${this.partIndex}`);
      }
    }
  }

  private parseHeaders(block: string): PartHeaders {
    const fields: Record<string, string> = {};
    if (block !== '') {
      for (const line of block.split('\r\n')) {
        const match = HEADER_LINE.exec(line);
        if (!match) {
          throw new MultipartError(`part ${this.partIndex} has a malformed header line "${line.slice(0, 80)}" (expected "Name: value")`);
        }
        fields[match[1]!.toLowerCase()] = match[2]!;
      }
    }
    return { index: this.partIndex, fields, contentType: fields['content-type'], contentLocation: fields['content-location'] };
  }

  /** Length of the longest tail of the buffer that is a proper prefix of the delimiter. */
  private possibleDelimiterStart(): number {
    const b = this.buffered;
    const longest = Math.min(this.delimiter.length - 1, b.length);
    for (let n = longest; n > 0; n--) {
      const start = b.length - n;
      if (b[start] !== CR) continue;
      if (b.subarray(start).equals(this.delimiter.subarray(0, n))) return n;
    }
    return 0;
  }

  /** Appends the next chunk from the client; false at the end of the body. */
  private async pull(): Promise<boolean> {
    if (this.sourceEnded) return false;
    const next = this.nextChunk();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new MultipartError(
        `no data received for ${Math.round(this.limits.idleTimeoutMs / 1000)} s in part ${this.partIndex}: the client stopped sending before the end of the body`, 408,
      )), this.limits.idleTimeoutMs);
    });
    let result: IteratorResult<unknown>;
    try {
      result = await Promise.race([next, timeout]);
    } finally {
      clearTimeout(timer);
    }
    if (result.done) {
      this.sourceEnded = true;
      return false;
    }
    const chunk = Buffer.isBuffer(result.value) ? result.value : Buffer.from(result.value as Uint8Array);
    this.received += chunk.length;
    if (this.received > this.limits.maxBodyBytes) {
      throw new MultipartError(`the request body exceeds ${this.limits.maxBodyBytes} bytes, the most this server accepts in one request: send fewer instances per request`, 413);
    }
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    return true;
  }

  private async nextChunk(): Promise<IteratorResult<unknown>> {
    try {
      return await this.source.next();
    } catch (error) {
      this.sourceEnded = true;
      throw new ClientGoneError(`the client closed the connection in part ${this.partIndex}: ${(error as Error).message}`);
    }
  }
}
