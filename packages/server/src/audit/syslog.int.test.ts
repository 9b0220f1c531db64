// Forwarding to a real syslog listener (TCP, and TLS with a certificate made by the test):
// RFC 5424 messages framed by octet counting, reconnection after the collector restarts, and
// resumption from where forwarding stood.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openIndex, type ArchiveIndex } from '../index/index.js';
import { silentLogger } from '../logger.js';
import { createTestDatabase, type TestDatabase } from '../testing/database.js';
import { freePort } from '../testing/dcmtk.js';
import { userAuthentication } from './builders.js';
import { Outcome } from './event.js';
import { SyslogForwarder, type SyslogTarget } from './syslog.js';
import { AuditTrail } from './trail.js';

/** A syslog collector: splits RFC 6587 octet-counted frames and keeps the messages. */
class Collector {
  readonly messages: string[] = [];
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(private readonly protocol: 'tcp' | 'tls', private readonly credentials?: { key: string; cert: string }) {}

  listen(port: number): Promise<void> {
    const onSocket = (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      let buffer = Buffer.alloc(0);
      socket.on('data', (data: Buffer) => {
        buffer = Buffer.concat([buffer, data]);
        for (;;) {
          const space = buffer.indexOf(0x20);
          if (space < 0) return;
          const length = Number(buffer.subarray(0, space).toString('ascii'));
          if (buffer.length < space + 1 + length) return;
          this.messages.push(buffer.subarray(space + 1, space + 1 + length).toString('utf8'));
          buffer = buffer.subarray(space + 1 + length);
          this.waiters = this.waiters.filter((w) => (this.messages.length >= w.n ? (w.resolve(), false) : true));
        }
      });
    };
    this.server = this.protocol === 'tls' ? tls.createServer({ ...this.credentials }, onSocket) : net.createServer(onSocket);
    return new Promise((resolve) => this.server!.listen(port, '127.0.0.1', () => resolve()));
  }

  until(n: number): Promise<void> {
    if (this.messages.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`collector got ${this.messages.length} of ${n} messages`)), 15_000);
      this.waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const login = (user: string) => userAuthentication({ type: 'login', actor: { username: user, address: '10.1.2.3' }, aeTitle: 'LOIRE' });

describe('syslog forwarding', () => {
  let dir: string;
  let database: TestDatabase;
  let index: ArchiveIndex;
  let credentials: { key: string; cert: string };

  beforeAll(() => {
    const certDir = mkdtempSync(path.join(os.tmpdir(), 'loire-syslog-cert-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', path.join(certDir, 'key.pem'), '-out', path.join(certDir, 'cert.pem')], { stdio: 'ignore' });
    credentials = { key: readFileSync(path.join(certDir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(certDir, 'cert.pem'), 'utf8') };
    rmSync(certDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'loire-syslog-'));
    database = await createTestDatabase(dir);
    index = await openIndex(database.url);
  });
  afterEach(async () => {
    await index.close();
    await database.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function trailWith(target: SyslogTarget): Promise<{ trail: AuditTrail; forwarder: SyslogForwarder }> {
    const forwarder = new SyslogForwarder(index.db, target, silentLogger());
    await forwarder.start();
    const trail = await AuditTrail.open({ index, source: { sourceId: 'LOIRE' }, logger: silentLogger(), onCommitted: () => forwarder.notify() });
    return { trail, forwarder };
  }

  it('sends RFC 5424 messages over TLS, verified against the collector\'s CA', async () => {
    const port = await freePort();
    const collector = new Collector('tls', credentials);
    await collector.listen(port);
    const { trail, forwarder } = await trailWith({ host: '127.0.0.1', port, protocol: 'tls', ca: credentials.cert });
    try {
      trail.record(login('alice'));
      trail.record({ ...login('mallory'), outcome: Outcome.MinorFailure, outcomeDescription: 'wrong password' });
      await collector.until(2);
      const [first, second] = collector.messages;
      // PRI 85 = facility 10 (security/authorization) × 8 + severity 5 (notice); 84 = warning.
      expect(first).toMatch(new RegExp(`^<85>1 \\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z \\S+ loire ${process.pid} IHE\\+RFC-3881 - \ufeff<\\?xml`));
      expect(first).toContain('<EventID csd-code="110114" codeSystemName="DCM" originalText="User Authentication"/>');
      expect(first).toContain('UserID="alice"');
      expect(second).toMatch(/^<84>1 /);
      expect(second).toContain('EventOutcomeIndicator="4"');
    } finally {
      await trail.close();
      await forwarder.close();
      await collector.close();
    }
  });

  it('refuses a collector whose certificate the configured CA did not sign', async () => {
    const port = await freePort();
    const collector = new Collector('tls', credentials);
    await collector.listen(port);
    // No `ca`: the system CAs do not know the test's self-signed certificate.
    const { trail, forwarder } = await trailWith({ host: '127.0.0.1', port, protocol: 'tls' });
    try {
      trail.record(login('alice'));
      await trail.flush();
      await new Promise((r) => setTimeout(r, 500));
      expect(collector.messages).toEqual([]);
    } finally {
      await trail.close();
      await forwarder.close();
      await collector.close();
    }
  });

  it('over TCP: keeps recording while the collector is down, then catches up after reconnecting', async () => {
    const port = await freePort();
    let collector = new Collector('tcp');
    await collector.listen(port);
    const { trail, forwarder } = await trailWith({ host: '127.0.0.1', port, protocol: 'tcp' });
    try {
      trail.record(login('u1'));
      await collector.until(1);
      await collector.close();
      // Give the forwarder the moment it needs to see the connection close: records written into
      // a connection the peer already dropped are lost to syslog (it has no acknowledgement).
      await new Promise((r) => setTimeout(r, 200));

      // Collector down: recording goes on, undisturbed.
      for (let i = 2; i <= 5; i++) trail.record(login(`u${i}`));
      await trail.flush();
      expect(trail.pending).toBe(0);

      collector = new Collector('tcp');
      await collector.listen(port);
      trail.record(login('u6'));
      await collector.until(5);
      const users = collector.messages.map((m) => /UserID="(u\d)"/.exec(m)?.[1]);
      expect(users).toEqual(['u2', 'u3', 'u4', 'u5', 'u6']);
      const position = await index.db.selectFrom('audit_event').select((eb) => eb.fn.max('seq').as('last')).executeTakeFirstOrThrow();
      const saved = await index.db.selectFrom('audit_forward').select('next_seq').executeTakeFirstOrThrow();
      expect(Number(saved.next_seq)).toBe(Number(position.last) + 1);
    } finally {
      await trail.close();
      await forwarder.close();
      await collector.close();
    }
  });

  it('a restarted forwarder resumes where the last one stopped', async () => {
    const port = await freePort();
    const collector = new Collector('tcp');
    await collector.listen(port);
    const first = await trailWith({ host: '127.0.0.1', port, protocol: 'tcp' });
    first.trail.record(login('before'));
    await collector.until(1);
    await first.forwarder.close();
    first.trail.onCommitted = undefined;
    first.trail.record(login('while-stopped'));
    await first.trail.close();

    const second = await trailWith({ host: '127.0.0.1', port, protocol: 'tcp' });
    try {
      await collector.until(2);
      expect(collector.messages[1]).toContain('UserID="while-stopped"');
    } finally {
      await second.trail.close();
      await second.forwarder.close();
      await collector.close();
    }
  });
});
