// PS3.8 section 9.1 and PS3.15 B.1: TCP transport, optionally TLS. Nagle is always off: a
// DIMSE exchange is a ping-pong of small PDUs and would otherwise wait ~40 ms per message.
import net from 'node:net';
import tls from 'node:tls';

/** TLS settings (node:tls options: key, cert, ca, requestCert, rejectUnauthorized, servername...). */
export type TlsOptions = tls.TlsOptions & tls.ConnectionOptions;

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsOptions;
  /** Milliseconds to establish TCP (and TLS); default 30 s. */
  readonly connectTimeoutMs?: number;
}

export function tuneSocket(socket: net.Socket): void {
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 60_000);
}

/** Opens a TCP (or TLS) connection; rejects with an actionable message on refusal or timeout. */
export function openConnection(o: ConnectOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const timeoutMs = o.connectTimeoutMs ?? 30_000;
    const socket: net.Socket = o.tls
      ? tls.connect({ ...o.tls, host: o.host, port: o.port })
      : net.connect({ host: o.host, port: o.port });
    tuneSocket(socket);
    const readyEvent = o.tls ? 'secureConnect' : 'connect';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection to ${o.host}:${o.port} timed out after ${timeoutMs} ms: check the peer's address, port and firewall`));
    }, timeoutMs);
    const onError = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(`cannot connect to ${o.host}:${o.port}: ${err.message}`));
    };
    socket.once('error', onError);
    socket.once(readyEvent, () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

export interface ListenOptions {
  readonly host?: string;
  readonly port: number;
  readonly tls?: TlsOptions;
}

/** A listening TCP or TLS server; each accepted socket is tuned and handed to `onSocket`. */
export function createListener(o: ListenOptions, onSocket: (socket: net.Socket) => void): net.Server {
  const handler = (socket: net.Socket) => {
    tuneSocket(socket);
    onSocket(socket);
  };
  return o.tls ? tls.createServer(o.tls, handler) : net.createServer(handler);
}
