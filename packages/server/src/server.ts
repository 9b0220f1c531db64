// `loire serve`: opens the archive and its doors (DIMSE, HTTP); close() drains and stops.
import type { FastifyInstance } from 'fastify';
import type { DimseServer } from '@loire/dicom-net';
import { openArchive, type Archive } from './archive.js';
import { Outcome, type AuditEvent } from './audit/event.js';
import type { LoireConfig } from './config/config.js';
import { createDimseDoor, type DimseDoor } from './dimse/dimse-door.js';
import { buildHttpApp } from './http/app.js';
import type { Logger } from './logger.js';

export interface RunningServer {
  archive: Archive;
  dimsePort: number;
  httpPort: number;
  close(): Promise<void>;
}

/** Open associations get this long to finish on shutdown before they are aborted. */
const DRAIN_TIMEOUT_MS = 30_000;

export async function startServer(config: LoireConfig, logger: Logger): Promise<RunningServer> {
  const archive = await openArchive(config, logger, { auditJournal: true });
  let ready = false;
  let door: DimseDoor | undefined;
  let dimse: DimseServer | undefined;
  let http: FastifyInstance | undefined;
  try {
    http = await buildHttpApp({ logger, archive, isReady: () => ready });
    await http.listen({ host: config.bindAddress, port: config.httpPort });
    door = createDimseDoor(archive);
    dimse = door.server;
    const bound = await dimse.listen({ host: config.bindAddress, port: config.dicomPort });
    ready = true;
    const httpPort = (http.server.address() as { port: number }).port;
    await archive.audit.record(applicationActivity(config, 'application-start'));
    logger.info({ aeTitle: config.aeTitle, dicomPort: bound.port, httpPort, data: config.dataDir, storage: archive.storage.description, database: redact(config.database) }, 'Loire is ready');
    const dimseServer = dimse;
    const dimseAudit = door.audit;
    const httpServer = http;
    return {
      archive, dimsePort: bound.port, httpPort,
      close: async () => {
        ready = false;
        await dimseServer.close({ drain: true, timeoutMs: DRAIN_TIMEOUT_MS });
        await httpServer.close();
        dimseAudit.close();
        await archive.audit.record(applicationActivity(config, 'application-stop'));
        await archive.close();
      },
    };
  } catch (err) {
    await dimse?.close({ drain: false }).catch(() => undefined);
    door?.audit.close();
    await http?.close().catch(() => undefined);
    await archive.close();
    throw err;
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
