// The DIMSE door: one DimseServer whose service handlers are the archive's domain services.
import { DimseServer, defaultAssociationPolicy, type AssociationPolicy } from '@loire/dicom-net';
import type { Archive } from '../archive.js';
import { StorageTranscoder } from '../retrieve/transcoder.js';
import { DimseAuditRecorder } from './audit-recorder.js';
import { findHandler } from './find-scp.js';
import { getHandler, moveHandler } from './retrieve-scp.js';
import { nActionHandler } from './storage-commitment-scp.js';
import { storeHandler } from './store-scp.js';

/** PS3.8 table 9-21, source service-user. */
const CALLED_AE_NOT_RECOGNIZED = 7;

export interface DimseDoor {
  server: DimseServer;
  /** Writes the store records of open associations; call after the server closed. */
  audit: DimseAuditRecorder;
}

export function createDimseDoor(archive: Archive): DimseDoor {
  const { config, logger, index, storage } = archive;
  const log = logger.child({ door: 'dimse' });
  const nodes = () => config.dicomNodes;
  const retrieveDeps = { index, storage, transcoder: new StorageTranscoder(storage), logger: log, aeTitle: config.aeTitle, nodes };
  const audit = new DimseAuditRecorder(archive.audit, index, config.aeTitle, nodes, log);
  const acceptKnownServices = defaultAssociationPolicy();
  const policy: AssociationPolicy = (rq) => {
    if (rq.calledAe.trim() !== config.aeTitle) {
      return { accept: false, reject: { result: 'permanent', source: 'service-user', reason: CALLED_AE_NOT_RECOGNIZED } };
    }
    return acceptKnownServices(rq);
  };
  const server = new DimseServer({
    policy,
    maxPdu: config.dimse.maxPduLength,
    maxAssociations: config.dimse.maxAssociations,
    timeouts: { artimMs: config.dimse.artimTimeoutSeconds * 1000, dimseMs: config.dimse.idleTimeoutSeconds * 1000 },
    handlers: {
      onEcho: () => 0,
      onStore: storeHandler(archive.ingest, log, archive.audit.enabled ? audit : undefined),
      onFind: archive.audit.enabled ? audit.find(findHandler(index, config.aeTitle, log)) : findHandler(index, config.aeTitle, log),
      onMove: archive.audit.enabled ? audit.move(moveHandler(retrieveDeps)) : moveHandler(retrieveDeps),
      onGet: archive.audit.enabled ? audit.get(getHandler(retrieveDeps)) : getHandler(retrieveDeps),
      onNAction: nActionHandler({ index, storage, logger: log, aeTitle: config.aeTitle, nodes }),
    },
  });
  server.on('association-accepted', ({ association, request }) => {
    log.info({ callingAe: request.callingAe, remoteAddress: request.remoteAddress, contexts: association.contexts.filter((c) => c.accepted).length }, 'association accepted');
  });
  server.on('association-rejected', ({ request, remoteAddress, reason }) => {
    log.warn({ callingAe: request?.callingAe, calledAe: request?.calledAe, remoteAddress, reason }, 'association rejected');
  });
  server.on('association-aborted', ({ association, source, reason }) => {
    log.warn({ callingAe: association.callingAe, remoteAddress: association.remoteAddress, source, reason }, 'association aborted');
  });
  if (archive.audit.enabled) audit.attach(server);
  return { server, audit };
}
