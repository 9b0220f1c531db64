// Forwarding to a syslog collector (IHE ATNA): RFC 5424 messages, framed by octet counting
// (RFC 6587 3.4.1), over TCP or TLS (RFC 5425). The forwarder tails the audit table by seq,
// so a collector that is down only delays forwarding: nothing waits on it, and where it stands
// is kept in audit_forward. Syslog has no acknowledgement: records in the socket's buffers when
// a connection breaks may not reach the collector; the database stays the reference copy.
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import type { Kysely } from 'kysely';
import type { IndexDatabase } from '../index/schema.js';
import type { Logger } from '../logger.js';
import type { AuditRow } from './store.js';
import { waitAtMost } from '../wait.js';

export interface SyslogTarget {
  host: string;
  port: number;
  protocol: 'tcp' | 'tls';
  /** PEM CA certificate(s) to verify the collector with (default: the system's). */
  ca?: string;
}

/** RFC 5424 6.2.1: facility 10 (security/authorization), severity 5 (notice) or 4 (warning) for failures. */
function priority(outcome: number): number {
  return 10 * 8 + (outcome === 0 ? 5 : 4);
}

/** RFC 5424 6.2.4: printable US-ASCII, at most 255 characters. */
function headerField(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '');
  return clean.slice(0, max) || '-';
}

/** One RFC 5424 message: the XML audit message as MSG, UTF-8 with BOM (RFC 5424 6.4). MSGID per IHE ITI TF-2a 3.20.7. */
export function syslogMessage(row: Pick<AuditRow, 'event_time' | 'outcome' | 'message'>, hostname = os.hostname(), procId = String(process.pid)): Buffer {
  const header = `<${priority(Number(row.outcome))}>1 ${row.event_time} ${headerField(hostname, 255)} loire ${headerField(procId, 128)} IHE+RFC-3881 - `;
  return Buffer.concat([Buffer.from(header, 'ascii'), Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(row.message, 'utf8')]);
}

/** RFC 6587 3.4.1 octet counting: MSG-LEN SP SYSLOG-MSG. */
export function octetCountingFrame(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}

const BATCH = 200;
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 60_000;

export class SyslogForwarder {
  private socket: net.Socket | undefined;
  private connecting: Promise<net.Socket> | undefined;
  private nextSeq = 0;
  private pumping = false;
  private again = false;
  private reconnectMs = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly collector: string;

  constructor(private readonly db: Kysely<IndexDatabase>, private readonly target: SyslogTarget, private readonly logger: Logger) {
    this.collector = `${target.protocol}://${target.host}:${target.port}`;
  }

  /** Resumes where this collector was left; a new collector starts with the records written from now on. */
  async start(): Promise<void> {
    const saved = await this.db.selectFrom('audit_forward').select('next_seq').where('collector', '=', this.collector).executeTakeFirst();
    if (saved) {
      this.nextSeq = Number(saved.next_seq);
    } else {
      const last = await this.db.selectFrom('audit_event').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst();
      this.nextSeq = (last ? Number(last.seq) : 0) + 1;
      await this.savePosition();
    }
    this.notify();
  }

  /** New records were committed: send them (asynchronously). */
  notify(): void {
    if (this.closed) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    void this.pump();
  }

  /** Sends what is pending (best effort, bounded by `timeoutMs`), then disconnects. */
  async close(timeoutMs = 2000): Promise<void> {
    clearTimeout(this.retryTimer);
    if (this.socket && !this.pumping) {
      await waitAtMost(this.pump(), timeoutMs);
    }
    this.closed = true;
    this.socket?.end();
    this.socket?.destroy();
    this.socket = undefined;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.again = false;
        for (;;) {
          const rows = await this.db.selectFrom('audit_event').select(['seq', 'event_time', 'outcome', 'message'])
            .where('seq', '>=', this.nextSeq).orderBy('seq').limit(BATCH).execute();
          if (rows.length === 0) break;
          const socket = await this.connected();
          const frames = Buffer.concat(rows.map((r) => octetCountingFrame(syslogMessage(r))));
          await new Promise<void>((resolve, reject) => socket.write(frames, (err) => (err ? reject(err) : resolve())));
          this.nextSeq = Number(rows[rows.length - 1]!.seq) + 1;
          await this.savePosition();
          this.reconnectMs = 0;
        }
      } while (this.again && !this.closed);
    } catch (err) {
      this.socket?.destroy();
      this.socket = undefined;
      if (!this.closed) {
        this.reconnectMs = Math.min(RECONNECT_MAX_MS, Math.max(RECONNECT_MIN_MS, this.reconnectMs * 2));
        this.logger.warn({ collector: this.collector, reason: (err as Error).message, retryInMs: this.reconnectMs }, 'cannot forward audit records to the syslog collector; will retry');
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.notify(), this.reconnectMs);
        this.retryTimer.unref();
      }
    } finally {
      this.pumping = false;
    }
  }

  private connected(): Promise<net.Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<net.Socket>((resolve, reject) => {
      const { host, port, protocol, ca } = this.target;
      const socket = protocol === 'tls'
        ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...(ca ? { ca } : {}), minVersion: 'TLSv1.2' })
        : net.connect({ host, port });
      const ready = protocol === 'tls' ? 'secureConnect' : 'connect';
      const fail = (err: Error) => reject(err);
      socket.once('error', fail);
      socket.once(ready, () => {
        socket.off('error', fail);
        socket.on('error', (err) => {
          this.logger.warn({ collector: this.collector, reason: err.message }, 'syslog connection failed');
          socket.destroy();
        });
        socket.on('close', () => { if (this.socket === socket) this.socket = undefined; });
        socket.setKeepAlive(true, 60_000);
        this.socket = socket;
        resolve(socket);
      });
    }).finally(() => { this.connecting = undefined; });
    return this.connecting;
  }

  private async savePosition(): Promise<void> {
    await this.db.insertInto('audit_forward').values({ collector: this.collector, next_seq: this.nextSeq })
      .onConflict((oc) => oc.column('collector').doUpdateSet({ next_seq: this.nextSeq })).execute();
  }
}
