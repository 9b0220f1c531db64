// multipart/related responses (RFC 2387, PS3.18 §8.6.1.2): parts written as they are produced,
// so that a series of any size streams with constant memory.
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';

export interface Part {
  contentType: string;
  /** Extra part headers, e.g. Content-Location. */
  headers?: Record<string, string>;
  body: Uint8Array | Readable;
}

export function newBoundary(): string {
  return `loire-${randomBytes(12).toString('hex')}`;
}

/** The Content-Type header of a multipart/related response whose root parts are `type`. */
export function multipartContentType(boundary: string, type: string, extra: Record<string, string> = {}): string {
  const params = Object.entries({ type, ...extra }).map(([name, value]) => `${name}="${value}"`).join('; ');
  return `multipart/related; ${params}; boundary=${boundary}`;
}

/**
 * A stream of multipart parts. Parts come from an async iterable and are written one after the
 * other, honouring back-pressure; an error in the source destroys the stream (the client sees
 * a truncated body rather than a well-formed lie).
 */
export function multipartStream(boundary: string, parts: AsyncIterable<Part>): Readable {
  // A 1 MiB buffer: with the 16 KiB default every chunk of a stored file waits for 'drain'.
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  void (async () => {
    try {
      for await (const part of parts) {
        const headers = [`--${boundary}`, `Content-Type: ${part.contentType}`];
        for (const [name, value] of Object.entries(part.headers ?? {})) headers.push(`${name}: ${value}`);
        if (part.body instanceof Uint8Array) headers.push(`Content-Length: ${part.body.byteLength}`);
        if (!out.write(`${headers.join('\r\n')}\r\n\r\n`)) await drained(out);
        if (part.body instanceof Uint8Array) {
          if (!out.write(part.body)) await drained(out);
        } else {
          for await (const chunk of part.body) if (!out.write(chunk)) await drained(out);
        }
        if (!out.write('\r\n')) await drained(out);
      }
      out.end(`--${boundary}--\r\n`);
    } catch (error) {
      out.destroy(error as Error);
    }
  })();
  return out;
}

function drained(stream: PassThrough): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => { stream.off('close', onClose); resolve(); };
    const onClose = (): void => { stream.off('drain', onDrain); reject(new Error('response closed by the client')); };
    stream.once('drain', onDrain);
    stream.once('close', onClose);
  });
}
