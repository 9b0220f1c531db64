// The DIMSE door: one DimseServer whose service handlers are the archive's domain services.
import { DimseServer, defaultAssociationPolicy, type AssociationPolicy } from '@loire/dicom-net';
import type { Archive } from '../archive.js';
import { StorageTranscoder } from '../retrieve/transcoder.js';
import { findHandler } from './find-scp.js';
import { getHandler, moveHandler } from './retrieve-scp.js';
import { nActionHandler } from './storage-commitment-scp.js';
import { storeHandler } from './store-scp.js';

/** PS3.8 table 9-21, source service-user. */
const CALLED_AE_NOT_RECOGNIZED = 7;

export function createDimseDoor(archive: Archive): DimseServer {
  const { config, logger, index, storage } = archive;
  const log = logger.child({ door: 'dimse' });
  const nodes = () => config.dicomNodes;
  const retrieveDeps = { index, storage, transcoder: new StorageTranscoder(storage), logger: log, aeTitle: config.aeTitle, nodes };
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
      onStore: storeHandler(archive.ingest, log),
      onFind: findHandler(index, config.aeTitle, log),
      onMove: moveHandler(retrieveDeps),
      onGet: getHandler(retrieveDeps),
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
  return server;
}
