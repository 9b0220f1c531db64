// The part of XMLHttpRequest that browser DICOMweb clients (dicomweb-client, used by OHIF) call,
// over Node's fetch: Node 20 has fetch but no XMLHttpRequest, and the client knows only the latter.
// Enough for tests that drive such a client against Loire; not a general implementation.

type ResponseType = '' | 'text' | 'json' | 'arraybuffer';

export class FetchXMLHttpRequest {
  static readonly DONE = 4;
  readyState = 0;
  status = 0;
  statusText = '';
  responseType: ResponseType = '';
  response: unknown = null;
  responseText = '';
  withCredentials = false;
  onreadystatechange: (() => void) | null = null;
  onloadstart: (() => void) | null = null;
  onloadend: (() => void) | null = null;
  onprogress: ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null = null;
  onerror: ((error: unknown) => void) | null = null;

  private method = 'GET';
  private url = '';
  private readonly requestHeaders: Record<string, string> = {};
  private responseHeaders = new Headers();

  open(method: string, url: string): void {
    this.method = method.toUpperCase();
    this.url = url;
    this.readyState = 1;
  }

  setRequestHeader(name: string, value: string): void {
    this.requestHeaders[name] = value;
  }

  getResponseHeader(name: string): string | null {
    return this.responseHeaders.get(name);
  }

  getAllResponseHeaders(): string {
    return [...this.responseHeaders.entries()].map(([name, value]) => `${name}: ${value}\r\n`).join('');
  }

  send(body?: ArrayBuffer | ArrayBufferView | string | null): void {
    this.onloadstart?.();
    void this.exchange(body ?? undefined);
  }

  private async exchange(body: ArrayBuffer | ArrayBufferView | string | undefined): Promise<void> {
    try {
      const init: RequestInit = { method: this.method, headers: this.requestHeaders };
      if (body !== undefined) init.body = ArrayBuffer.isView(body) ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : body;
      const response = await fetch(this.url, init);
      this.status = response.status;
      this.statusText = response.statusText;
      this.responseHeaders = response.headers;
      const bytes = new Uint8Array(await response.arrayBuffer());
      this.onprogress?.({ loaded: bytes.length, total: bytes.length, lengthComputable: true });
      const text = (): string => new TextDecoder().decode(bytes);
      switch (this.responseType) {
        case 'arraybuffer': this.response = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength); break;
        case 'json': try { this.response = bytes.length ? JSON.parse(text()) : null; } catch { this.response = null; } break;
        default: this.responseText = text(); this.response = this.responseText;
      }
    } catch (error) {
      this.status = 0;
      this.onerror?.(error);
    }
    this.readyState = FetchXMLHttpRequest.DONE;
    this.onreadystatechange?.();
    this.onloadend?.();
  }
}

/** Makes `XMLHttpRequest` available to code that expects a browser; returns a function that undoes it. */
export function installXMLHttpRequest(): () => void {
  const global = globalThis as { XMLHttpRequest?: unknown };
  const previous = global.XMLHttpRequest;
  global.XMLHttpRequest = FetchXMLHttpRequest;
  return () => { global.XMLHttpRequest = previous; };
}
