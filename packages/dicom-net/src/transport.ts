// PS3.8 section 9.1 and PS3.15 annex B: TCP transport, optionally TLS. Nagle is always off: a
// DIMSE exchange is a ping-pong of small PDUs and would otherwise wait ~40 ms per message.
import { constants as cryptoConstants } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

/** TLS settings (node:tls options: key, cert, ca, requestCert, rejectUnauthorized, servername...). */
export type TlsOptions = tls.TlsOptions & tls.ConnectionOptions;

/**
 * PS3.15 B.9/B.10 (BCP 195 TLS Secure Transport Connection Profile, non-downgrading): TLS 1.2
 * at least, 1.3 allowed; for TLS 1.2 only the AEAD suites with forward secrecy that BCP 195
 * recommends (RFC 7525 section 4.2, RFC 9325 section 4.2); no TLS compression (RFC 7525 3.3);
 * no renegotiation (TLS 1.3 has none; for 1.2 OpenSSL refuses it with SSL_OP_NO_RENEGOTIATION).
 */
export const BCP195_TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', // TLS 1.3
  'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
] as const;

export const BCP195_TLS_PROFILE = {
  minVersion: 'TLSv1.2',
  ciphers: BCP195_TLS_CIPHERS.join(':'),
  honorCipherOrder: true,
  secureOptions: cryptoConstants.SSL_OP_NO_COMPRESSION | cryptoConstants.SSL_OP_NO_RENEGOTIATION,
} as const satisfies tls.TlsOptions;

/** How an acceptor treats client certificates: demanded, verified when sent, or not asked for. */
export type ClientCertificateMode = 'required' | 'optional' | 'off';

export interface SecureServerOptions {
  /** PEM private key and certificate chain of this node. */
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  /** Trust anchors for client certificates (PEM bundle); default: the system's. */
  readonly ca?: string | Buffer;
  readonly clientCertificates?: ClientCertificateMode;
}

/** node:tls server options for the BCP 195 profile; the mode is enforced by createListener. */
export function secureServerOptions(o: SecureServerOptions): TlsOptions & { clientCertificates: ClientCertificateMode } {
  const mode = o.clientCertificates ?? 'off';
  return {
    ...BCP195_TLS_PROFILE, key: o.key, cert: o.cert, ...(o.ca ? { ca: o.ca } : {}),
    requestCert: mode !== 'off',
    // 'optional' lets an unverifiable certificate through the handshake so that createListener
    // can tell "no certificate" (accepted) from "a bad one" (refused).
    rejectUnauthorized: mode === 'required',
    clientCertificates: mode,
  };
}

export interface SecureClientOptions {
  /** Trust anchors for the peer's certificate; default: the system's. */
  readonly ca?: string | Buffer;
  /** Our certificate, for peers that verify clients. */
  readonly key?: string | Buffer;
  readonly cert?: string | Buffer;
  /** The name the peer's certificate must carry; default: the host connected to. */
  readonly servername?: string;
}

/** node:tls client options for the BCP 195 profile; the peer's certificate is always verified. */
export function secureClientOptions(o: SecureClientOptions = {}): TlsOptions {
  return {
    ...BCP195_TLS_PROFILE,
    ...(o.ca ? { ca: o.ca } : {}), ...(o.key ? { key: o.key } : {}), ...(o.cert ? { cert: o.cert } : {}),
    ...(o.servername ? { servername: o.servername } : {}),
    rejectUnauthorized: true,
  };
}

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
    // SNI carries host names only (RFC 6066 section 3), never addresses.
    const servername = o.tls?.servername ?? (net.isIP(o.host) ? undefined : o.host);
    const socket: net.Socket = o.tls
      ? tls.connect({ ...o.tls, host: o.host, port: o.port, ...(servername ? { servername } : {}) })
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
      reject(new Error(`cannot connect to ${o.host}:${o.port}${o.tls ? ' over TLS' : ''}: ${err.message}`));
    };
    socket.once('error', onError);
    socket.once(readyEvent, () => {
      clearTimeout(timer);
      socket.off('error', onError);
      if (socket instanceof tls.TLSSocket) socket.disableRenegotiation();
      resolve(socket);
    });
  });
}

export interface ListenOptions {
  readonly host?: string;
  readonly port: number;
  /** TLS server options; `clientCertificates: 'optional'` refuses a presented certificate that does not verify. */
  readonly tls?: TlsOptions & { readonly clientCertificates?: ClientCertificateMode };
}

/** Why a connection was closed before any PDU was read (failed handshake, refused certificate). */
export interface RefusedConnection {
  readonly remoteAddress: string;
  readonly reason: string;
}

/** What an accepted TLS connection proved about its peer. */
export interface TlsPeer {
  readonly protocol: string;
  readonly cipher: string;
  /** Subject and fingerprint of the verified client certificate, when one was sent. */
  readonly certificate?: { readonly subject: string; readonly fingerprint256: string };
}

/**
 * A listening TCP or TLS server; each accepted socket is tuned and handed to `onSocket`
 * (with what TLS proved about the peer). Connections refused at the TLS layer go to `onRefused`.
 */
export function createListener(
  o: ListenOptions,
  onSocket: (socket: net.Socket, peer?: TlsPeer) => void,
  onRefused: (refused: RefusedConnection) => void = () => undefined,
): net.Server {
  if (!o.tls) {
    return net.createServer((socket) => {
      tuneSocket(socket);
      onSocket(socket);
    });
  }
  const { clientCertificates, ...tlsOptions } = o.tls;
  const server = tls.createServer(tlsOptions, (socket) => {
    tuneSocket(socket);
    socket.disableRenegotiation();
    const cert = socket.getPeerCertificate();
    const presented = !!cert && Object.keys(cert).length > 0;
    if (clientCertificates === 'optional' && presented && !socket.authorized) {
      onRefused({ remoteAddress: socket.remoteAddress ?? '', reason: `client certificate refused: ${String(socket.authorizationError)}` });
      socket.destroy();
      return;
    }
    const cipher = socket.getCipher();
    onSocket(socket, {
      protocol: socket.getProtocol() ?? '',
      cipher: cipher.standardName ?? cipher.name,
      ...(presented ? { certificate: { subject: formatSubject(cert.subject), fingerprint256: cert.fingerprint256 } } : {}),
    });
  });
  server.on('tlsClientError', (err, socket) => {
    onRefused({ remoteAddress: socket.remoteAddress ?? '', reason: `TLS handshake failed: ${err.message}` });
  });
  return server;
}

function formatSubject(subject: tls.PeerCertificate['subject'] | undefined): string {
  if (!subject) return '';
  return Object.entries(subject).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`).join(',');
}
