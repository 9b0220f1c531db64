// `loire serve`: opens the archive and its doors (DIMSE, HTTP); close() drains and stops.
import type { FastifyInstance } from 'fastify';
import type { DimseServer } from '@loire/dicom-net';
import { openArchive, type Archive } from './archive.js';
import type { LoireConfig } from './config/config.js';
import { createDimseDoor } from './dimse/dimse-door.js';
import { loadDicomTls } from './dimse/tls.js';
import { buildHttpApp } from './http/app.js';
import type { Logger } from './logger.js';

export interface RunningServer {
  archive: Archive;
  /** The plain DICOM port (undefined when dicomTls.plain is false). */
  dimsePort: number | undefined;
  /** The DICOM TLS port (undefined without a dicomTls section). */
  dicomTlsPort: number | undefined;
  httpPort: number;
  close(): Promise<void>;
}

/** Open associations get this long to finish on shutdown before they are aborted. */
const DRAIN_TIMEOUT_MS = 30_000;

export async function startServer(config: LoireConfig, logger: Logger): Promise<RunningServer> {
  const tls = config.dicomTls ? loadDicomTls(config.dicomTls) : undefined;
  const archive = await openArchive(config, logger);
  let ready = false;
  let dimse: DimseServer | undefined;
  let http: FastifyInstance | undefined;
  try {
    http = await buildHttpApp({ logger, archive, isReady: () => ready });
    await http.listen({ host: config.bindAddress, port: config.httpPort });
    dimse = createDimseDoor(archive, tls);
    const plain = !config.dicomTls || config.dicomTls.plain
      ? await dimse.listen({ host: config.bindAddress, port: config.dicomPort }) : undefined;
    const secure = config.dicomTls && tls
      ? await dimse.listen({ host: config.bindAddress, port: config.dicomTls.port, tls: tls.server }) : undefined;
    ready = true;
    const httpPort = (http.server.address() as { port: number }).port;
    logger.info({ aeTitle: config.aeTitle, dicomPort: plain?.port, dicomTlsPort: secure?.port, clientCertificates: config.dicomTls?.clientCertificates,
      dicomAccess: config.dicomAccess.strict ? 'strict' : 'default', dicomNodes: config.dicomNodes.length, httpPort, data: config.dataDir, storage: archive.storage.description, database: redact(config.database) }, 'Loire is ready');
    const dimseServer = dimse;
    const httpServer = http;
    return {
      archive, dimsePort: plain?.port, dicomTlsPort: secure?.port, httpPort,
      close: async () => {
        ready = false;
        await dimseServer.close({ drain: true, timeoutMs: DRAIN_TIMEOUT_MS });
        await httpServer.close();
        await archive.close();
      },
    };
  } catch (err) {
    await dimse?.close({ drain: false }).catch(() => undefined);
    await http?.close().catch(() => undefined);
    await archive.close();
    throw err;
  }
}

/** The database URL without its password, for logs. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
