// `loire serve`: opens the archive and its doors (DIMSE, HTTP); close() drains and stops.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { DimseServer } from '@loire/dicom-net';
import { openArchive, type Archive } from './archive.js';
import { Outcome, type AuditEvent } from './audit/event.js';
import type { LoireConfig } from './config/config.js';
import { createDimseDoor, type DimseDoor } from './dimse/dimse-door.js';
import { loadDicomTls } from './dimse/tls.js';
import { buildHttpApp } from './http/app.js';
import type { Logger } from './logger.js';

export interface RunningServer {
  archive: Archive;
  /** The plain DICOM port (undefined when dicomTls.plain is false). */
  dimsePort: number | undefined;
  /** The DICOM TLS port (undefined without a dicomTls section). */
  dicomTlsPort: number | undefined;
  /** The plain-HTTP port, or the HTTPS port when plain HTTP is off. */
  httpPort: number;
  /** The HTTPS port when `http.tls` is configured. */
  httpsPort?: number;
  /** The HTTP app (its routes, for tests that walk them: `http.security.routes`). */
  http: FastifyInstance;
  close(): Promise<void>;
}

/** Open associations get this long to finish on shutdown before they are aborted. */
const DRAIN_TIMEOUT_MS = 30_000;

export interface StartOptions {
  /**
   * Where the first administrator's generated password is shown, once (stdout by default; never
   * the log, which is kept and shipped).
   */
  showInitialPassword?: (text: string) => void;
}

/** Expired sessions are deleted this often (they are refused anyway; this only keeps the table small). */
const SESSION_PURGE_MS = 10 * 60_000;

export async function startServer(config: LoireConfig, logger: Logger, options: StartOptions = {}): Promise<RunningServer> {
  const dicomTls = config.dicomTls ? loadDicomTls(config.dicomTls) : undefined;
  const archive = await openArchive(config, logger, { auditJournal: true, indexJournal: true });
  let ready = false;
  let door: DimseDoor | undefined;
  let dimse: DimseServer | undefined;
  let http: FastifyInstance | undefined;
  let plainServer: HttpServer | undefined;
  let purgeTimer: NodeJS.Timeout | undefined;
  try {
    await createInitialAdministrator(archive, options);
    http = await buildHttpApp({ logger, archive, isReady: () => ready });
    const tls = config.http.tls;
    let httpPort: number;
    let httpsPort: number | undefined;
    if (tls) {
      await http.listen({ host: config.bindAddress, port: tls.port });
      httpsPort = (http.server.address() as { port: number }).port;
      httpPort = httpsPort;
      if (config.http.plain) {
        // The same app answers plain HTTP too (request.protocol tells them apart: no HSTS, no Secure cookie).
        const server = createHttpServer(http.routing);
        plainServer = server;
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(config.httpPort, config.bindAddress, () => resolve());
        });
        httpPort = (server.address() as { port: number }).port;
      }
    } else {
      await http.listen({ host: config.bindAddress, port: config.httpPort });
      httpPort = (http.server.address() as { port: number }).port;
    }
    door = createDimseDoor(archive, dicomTls);
    dimse = door.server;
    const plain = !config.dicomTls || config.dicomTls.plain
      ? await dimse.listen({ host: config.bindAddress, port: config.dicomPort }) : undefined;
    const secure = config.dicomTls && dicomTls
      ? await dimse.listen({ host: config.bindAddress, port: config.dicomTls.port, tls: dicomTls.server }) : undefined;
    ready = true;
    await archive.audit.record(applicationActivity(config, 'application-start'));
    purgeTimer = setInterval(() => {
      archive.accounts.purgeExpiredSessions().catch((err: unknown) => logger.warn({ err }, 'could not purge expired sessions'));
    }, SESSION_PURGE_MS).unref();
    logger.info({ aeTitle: config.aeTitle, dicomPort: plain?.port, dicomTlsPort: secure?.port, clientCertificates: config.dicomTls?.clientCertificates,
      dicomAccess: config.dicomAccess.strict ? 'strict' : 'default', dicomNodes: config.dicomNodes.length, httpPort: config.http.plain ? httpPort : undefined, httpsPort, data: config.dataDir, storage: archive.storage.description, database: redact(config.database) }, 'Loire is ready');
    if (!tls) logger.warn({ event: 'plain-http' }, 'HTTP is not encrypted (no http.tls configured): passwords and patient data cross the network in clear unless a TLS proxy fronts Loire');
    const dimseServer = dimse;
    const dimseAudit = door.audit;
    const httpServer = http;
    const timer = purgeTimer;
    return {
      archive, dimsePort: plain?.port, dicomTlsPort: secure?.port, httpPort, ...(httpsPort !== undefined ? { httpsPort } : {}), http: httpServer,
      close: async () => {
        ready = false;
        clearInterval(timer);
        await dimseServer.close({ drain: true, timeoutMs: DRAIN_TIMEOUT_MS });
        if (plainServer) await closeServer(plainServer);
        await httpServer.close();
        dimseAudit.close();
        // A record that cannot be written (a full disk) must not keep the archive open: its
        // journals, database and timers would keep the process from ever exiting.
        try {
          await archive.audit.record(applicationActivity(config, 'application-stop'));
        } catch (err) {
          logger.error({ err }, 'the audit record of the stop could not be written');
        }
        await archive.close();
      },
    };
  } catch (err) {
    clearInterval(purgeTimer);
    await dimse?.close({ drain: false }).catch(() => undefined);
    if (plainServer) await closeServer(plainServer).catch(() => undefined);
    door?.audit.close();
    await http?.close().catch(() => undefined);
    await archive.close();
    throw err;
  }
}

function closeServer(server: HttpServer): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeIdleConnections();
  });
}

/** First start: no account yet → `admin` with LOIRE_ADMIN_PASSWORD, or a generated password shown once. */
async function createInitialAdministrator(archive: Archive, options: StartOptions): Promise<void> {
  const result = await archive.accounts.ensureInitialAdmin(archive.config.security.initialAdminPassword);
  if (!result.created) return;
  archive.logger.info({ event: 'user-created', username: 'admin', roles: ['administrator'] }, 'first start: created the administrator account "admin"');
  if (result.generatedPassword) {
    const show = options.showInitialPassword ?? ((text: string) => process.stdout.write(text));
    show(`\n  First start: created the administrator account "admin" with the password\n\n      ${result.generatedPassword}\n\n  It is shown only this once. Log in and change it (POST /api/me/password or \`loire user passwd admin\`).\n\n`);
  }
}

/** PS3.15 A.5.3.1 Application Activity: Loire (the application) started or stopped. */
function applicationActivity(config: LoireConfig, type: 'application-start' | 'application-stop'): AuditEvent {
  return {
    kind: 'application-activity', type, outcome: Outcome.Success,
    participants: [{ userId: config.aeTitle, alternativeUserId: `pid ${process.pid}`, isRequestor: false, role: 'application' }],
    summary: { aeTitle: config.aeTitle, pid: process.pid },
  };
}

/** The database URL without its password, for logs. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
