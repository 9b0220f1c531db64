// The DIMSE door: one DimseServer (on the plain and/or the TLS port) whose service handlers are
// the archive's domain services, behind the DICOM node control of security/node-access.ts.
import { DimseServer, defaultAssociationPolicy, RejectReason, type AssociationPolicy, type ContextDecision } from '@loire/dicom-net';
import type { Archive } from '../archive.js';
import { StorageTranscoder } from '../retrieve/transcoder.js';
import { decideNodeAccess } from '../security/node-access.js';
import { DimseAuditRecorder } from './audit-recorder.js';
import { findHandler } from './find-scp.js';
import { getHandler, moveHandler } from './retrieve-scp.js';
import { nActionHandler } from './storage-commitment-scp.js';
import { storeHandler } from './store-scp.js';
import { tlsFor, type DicomTlsSettings } from './tls.js';

export interface DimseDoor {
  server: DimseServer;
  /** Writes the store records of open associations; call after the server closed. */
  audit: DimseAuditRecorder;
}

export function createDimseDoor(archive: Archive, tls?: DicomTlsSettings): DimseDoor {
  const { config, logger, index, storage } = archive;
  const log = logger.child({ door: 'dimse' });
  const nodes = () => config.dicomNodes;
  const connectTls = (node: Parameters<typeof tlsFor>[1]) => tlsFor(tls, node);
  const retrieveDeps = { index, storage, transcoder: new StorageTranscoder(storage), logger: log, aeTitle: config.aeTitle, nodes, tlsFor: connectTls };
  const audit = new DimseAuditRecorder(archive.audit, index, config.aeTitle, nodes, log);
  const acceptKnownServices = defaultAssociationPolicy();
  const policy: AssociationPolicy = async (rq) => {
    // PS3.8 9.3.4 table 9-21: rejections by the service-user, permanent (retrying will not help).
    if (rq.calledAe.trim() !== config.aeTitle) {
      return { accept: false, reject: { result: 'permanent', source: 'service-user', reason: RejectReason.CalledAeNotRecognized },
        reason: `called AE title "${rq.calledAe.trim()}" is not ${config.aeTitle}` };
    }
    const access = decideNodeAccess(config.dicomNodes, config.dicomAccess, {
      callingAe: rq.callingAe, remoteAddress: rq.remoteAddress, abstractSyntaxes: rq.contexts.map((c) => c.abstractSyntax),
      scpRoleProposed: new Set(rq.roles.filter((r) => r.scp).map((r) => r.sopClassUid)),
    });
    if (!access.accept) {
      const reason = access.reason === 'calling-ae-not-recognized' ? RejectReason.CallingAeNotRecognized : RejectReason.NoReasonGiven;
      return { accept: false, reject: { result: 'permanent', source: 'service-user', reason }, reason: access.message };
    }
    const decision = await acceptKnownServices(rq);
    if (!decision.accept) return decision;
    // PS3.8 table 9-18: a context for a service the node has no right to is refused as user-rejection.
    const contexts = decision.contexts.map((d, i): ContextDecision => (access.contexts[i] === 'refused' ? { reject: 'user-rejection' } : d));
    // PS3.7 D.3.3.4: where the node may only receive C-GET sub-operations, it is not granted the SCU role.
    const receiveOnly = new Set(rq.contexts.filter((_, i) => access.contexts[i] === 'c-get-receiver-only').map((c) => c.abstractSyntax));
    const roles = decision.roles?.map((r) => (receiveOnly.has(r.sopClassUid) ? { ...r, scu: false } : r));
    if (access.contexts.includes('refused')) {
      log.info({ callingAe: rq.callingAe.trim(), node: access.node?.name, refused: rq.contexts.filter((_, i) => access.contexts[i] === 'refused').map((c) => c.abstractSyntax) },
        'presentation contexts refused by DICOM node control');
    }
    return { ...decision, contexts, ...(roles ? { roles } : {}) };
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
      onNAction: nActionHandler({ index, storage, logger: log, aeTitle: config.aeTitle, nodes, tlsFor: connectTls }),
    },
  });
  server.on('association-accepted', ({ association, request }) => {
    log.info({ callingAe: request.callingAe, remoteAddress: request.remoteAddress, tls: request.tlsPeer?.protocol, clientCertificate: request.tlsPeer?.certificate?.subject,
      contexts: association.contexts.filter((c) => c.accepted).length }, 'association accepted');
  });
  server.on('association-rejected', ({ request, remoteAddress, reason }) => {
    log.warn({ callingAe: request?.callingAe, calledAe: request?.calledAe, remoteAddress, reason }, 'association rejected');
  });
  server.on('association-aborted', ({ association, source, reason }) => {
    log.warn({ callingAe: association.callingAe, remoteAddress: association.remoteAddress, source, reason }, 'association aborted');
  });
  server.on('connection-refused', ({ remoteAddress, port, reason }) => {
    log.warn({ remoteAddress, port, reason }, 'DICOM TLS connection refused');
  });
  if (archive.audit.enabled) audit.attach(server);
  return { server, audit };
}
