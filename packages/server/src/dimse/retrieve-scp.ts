// C-MOVE and C-GET SCP: the matching instances are sent as stored when the receiver accepts
// the stored transfer syntax, and converted only when it accepts none of them.
import {
  connect, findAcceptedContext, store as storeOn, type Association, type GetContext, type GetHandler, type MoveContext, type MoveHandler,
  type RetrieveContext, type RetrieveResult, type StoreRequest, type StoreResult, type TlsOptions,
} from '@loire/dicom-net';
import { ExplicitVRLittleEndian, ImplicitVRLittleEndian } from '@loire/dicom';
import type { DicomNode } from '../config/config.js';
import { QueryError, type ArchiveIndex, type StorageRecord } from '../index/index.js';
import { identifyNode, mayMoveTo } from '../security/node-access.js';
import type { Logger } from '../logger.js';
import { readStoredDataset } from '../retrieve/stored-dataset.js';
import type { Transcoder } from '../retrieve/transcoder.js';
import { MISSING_OBJECT, type ObjectStorage } from '../storage/storage.js';
import { IdentifierError, parseIdentifier } from './identifier.js';

const Status = {
  MoveDestinationUnknown: 0xa801,
  IdentifierDoesNotMatchSopClass: 0xa900,
  UnableToProcess: 0xc000,
  UnableToPerformSubOperations: 0xa702,
  Cancel: 0xfe00,
} as const;

const NATIVE = [ExplicitVRLittleEndian, ImplicitVRLittleEndian];
/** Pending responses are sent at most this often (in sub-operations). */
const PROGRESS_EVERY = 10;

export interface RetrieveDependencies {
  index: ArchiveIndex;
  storage: ObjectStorage;
  transcoder: Transcoder;
  logger: Logger;
  aeTitle: string;
  nodes: () => readonly DicomNode[];
  /** TLS settings to reach a node marked `tls: true` (undefined: plain DICOM). */
  tlsFor: (node: DicomNode) => TlsOptions | undefined;
}

type Sender = (instance: StorageRecord) => Promise<'completed' | 'warning' | 'failed'>;

async function resolveInstances(deps: RetrieveDependencies, ctx: RetrieveContext): Promise<StorageRecord[] | RetrieveResult> {
  try {
    const query = parseIdentifier(ctx.identifier, ctx.transferSyntaxUid, ctx.sopClassUid);
    return await deps.index.listInstancesForRetrieve(query.level, query.keys);
  } catch (err) {
    const status = err instanceof IdentifierError ? Status.IdentifierDoesNotMatchSopClass
      : err instanceof QueryError ? err.dicomStatus : Status.UnableToProcess;
    return { status, completed: 0, failed: 0, warning: 0, errorComment: (err as Error).message.slice(0, 64) };
  }
}

async function runSubOperations(ctx: RetrieveContext, instances: StorageRecord[], send: Sender): Promise<RetrieveResult> {
  let completed = 0;
  let failed = 0;
  let warning = 0;
  const failedUids: string[] = [];
  for (const [i, instance] of instances.entries()) {
    if (ctx.signal.aborted) {
      return { status: Status.Cancel, completed, failed, warning, failedSopInstanceUids: instances.slice(i).map((x) => x.sopInstanceUid) };
    }
    const outcome = await send(instance);
    if (outcome === 'completed') completed++;
    else if (outcome === 'warning') warning++;
    else {
      failed++;
      failedUids.push(instance.sopInstanceUid);
    }
    if ((i + 1) % PROGRESS_EVERY === 0 && i + 1 < instances.length) {
      ctx.reportProgress({ remaining: instances.length - i - 1, completed, failed, warning });
    }
  }
  return { completed, failed, warning, ...(failedUids.length ? { failedSopInstanceUids: failedUids } : {}) };
}

/**
 * Sends one instance on an association: as stored if a context accepts its transfer syntax,
 * otherwise converted to a native syntax the receiver accepts.
 */
function instanceSender(
  deps: RetrieveDependencies,
  accepted: (sopClassUid: string, syntaxes: readonly string[]) => string | undefined,
  store: (req: StoreRequest) => Promise<StoreResult>,
  moveOriginator?: { ae: string; messageId: number },
): Sender {
  return async (instance) => {
    const base = { sopClassUid: instance.sopClassUid, sopInstanceUid: instance.sopInstanceUid, ...(moveOriginator ? { moveOriginator } : {}) };
    try {
      let request: StoreRequest;
      if (accepted(instance.sopClassUid, [instance.transferSyntaxUid])) {
        const dataset = await readStoredDataset(deps.storage, instance.storageKey, instance.size);
        request = { ...base, transferSyntaxUid: instance.transferSyntaxUid, dataset };
      } else {
        const target = accepted(instance.sopClassUid, NATIVE);
        if (!target) {
          deps.logger.warn({ sopInstanceUid: instance.sopInstanceUid, sopClassUid: instance.sopClassUid }, 'receiver accepted no context for this SOP class');
          return 'failed';
        }
        const dataset = await deps.transcoder.transcode(instance, target);
        request = { ...base, transferSyntaxUid: target, dataset };
      }
      const result = await store(request);
      if (result.status === 0) return 'completed';
      if ((result.status & 0xf000) === 0xb000) return 'warning';
      deps.logger.warn({ sopInstanceUid: instance.sopInstanceUid, status: result.status, comment: result.errorComment }, 'C-STORE sub-operation refused');
      return 'failed';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        deps.logger.error({ sopInstanceUid: instance.sopInstanceUid, reason: (err as Error).message },
          `C-STORE sub-operation failed: ${MISSING_OBJECT}`);
      } else {
        deps.logger.warn({ sopInstanceUid: instance.sopInstanceUid, reason: (err as Error).message }, 'C-STORE sub-operation failed');
      }
      return 'failed';
    }
  };
}

/** Proposes each SOP class with its stored syntaxes, and separately with the native ones. */
function proposeContexts(instances: StorageRecord[]): { abstractSyntax: string; transferSyntaxes: string[] }[] {
  const stored = new Map<string, Set<string>>();
  for (const i of instances) {
    const set = stored.get(i.sopClassUid) ?? new Set<string>();
    set.add(i.transferSyntaxUid);
    stored.set(i.sopClassUid, set);
  }
  const contexts: { abstractSyntax: string; transferSyntaxes: string[] }[] = [];
  for (const [sopClassUid, syntaxes] of stored) {
    for (const ts of syntaxes) {
      if (!NATIVE.includes(ts)) contexts.push({ abstractSyntax: sopClassUid, transferSyntaxes: [ts] });
    }
    contexts.push({ abstractSyntax: sopClassUid, transferSyntaxes: NATIVE });
  }
  if (contexts.length > 128) {
    throw new Error(`${contexts.length} presentation contexts needed, more than the 128 one association can carry`);
  }
  return contexts;
}

function acceptedSyntax(association: Association, sopClassUid: string, syntaxes: readonly string[]): string | undefined {
  return findAcceptedContext(association, sopClassUid, syntaxes)?.transferSyntax;
}

/** The node a C-MOVE may send to, or the refusal (PS3.4 C.4.2.1.4). */
function moveDestination(deps: RetrieveDependencies, ctx: MoveContext): { node: DicomNode & { host: string; port: number } } | RetrieveResult {
  const name = ctx.moveDestination.trim();
  const refuse = (comment: string): RetrieveResult => ({ status: Status.MoveDestinationUnknown, completed: 0, failed: 0, warning: 0, errorComment: comment.slice(0, 64) });
  const node = deps.nodes().find((n) => n.aeTitle === name && n.host !== undefined && n.port !== undefined);
  if (!node?.host || !node.port) {
    deps.logger.warn({ from: ctx.association.callingAe, destination: name }, 'C-MOVE to an unknown destination');
    return refuse(`unknown destination ${name}`);
  }
  // A known destination the caller may not send to is refused with the same status, 0xA801: of
  // the C-MOVE refusals it is the one about the destination (0xA701/0xA702 report a lack of
  // resources and invite a retry), and it does not tell the caller which other nodes exist.
  const caller = identifyNode(deps.nodes(), ctx.association.callingAe, ctx.association.remoteAddress);
  if (!mayMoveTo(caller, node)) {
    deps.logger.warn({ from: ctx.association.callingAe, node: caller?.name, destination: name }, 'C-MOVE to a destination this node may not send to');
    return refuse(`destination ${name} not allowed for ${ctx.association.callingAe.trim()}`);
  }
  return { node: { ...node, host: node.host, port: node.port } };
}

export function moveHandler(deps: RetrieveDependencies): MoveHandler {
  return async (ctx: MoveContext) => {
    const destination = moveDestination(deps, ctx);
    if (!('node' in destination)) return destination;
    const { node } = destination;
    const instances = await resolveInstances(deps, ctx);
    if (!Array.isArray(instances)) return instances;
    if (instances.length === 0) return { completed: 0, failed: 0, warning: 0 };
    let association: Association;
    try {
      association = await connect({
        host: node.host, port: node.port, callingAe: deps.aeTitle, calledAe: node.aeTitle, tls: deps.tlsFor(node),
        contexts: proposeContexts(instances),
      });
    } catch (err) {
      deps.logger.warn({ destination: node.aeTitle, reason: (err as Error).message }, 'C-MOVE: cannot open association to destination');
      return { status: Status.UnableToPerformSubOperations, completed: 0, failed: instances.length, warning: 0, failedSopInstanceUids: instances.map((i) => i.sopInstanceUid), errorComment: `cannot reach ${node.aeTitle}`.slice(0, 64) };
    }
    try {
      const send = instanceSender(deps, (c, ts) => acceptedSyntax(association, c, ts), (req) => storeOn(association, req),
        { ae: ctx.moveOriginatorAe, messageId: ctx.messageId });
      const result = await runSubOperations(ctx, instances, send);
      deps.logger.info({ from: ctx.association.callingAe, destination: node.aeTitle, ...counts(result) }, 'C-MOVE done');
      return result;
    } finally {
      await association.release().catch(() => association.abort('release failed'));
    }
  };
}

export function getHandler(deps: RetrieveDependencies): GetHandler {
  return async (ctx: GetContext) => {
    const instances = await resolveInstances(deps, ctx);
    if (!Array.isArray(instances)) return instances;
    const send = instanceSender(deps,
      (sopClassUid, syntaxes) => ctx.findAcceptedContext(sopClassUid, syntaxes)?.transferSyntax,
      (req) => ctx.store(req));
    const result = await runSubOperations(ctx, instances, send);
    deps.logger.info({ from: ctx.association.callingAe, ...counts(result) }, 'C-GET done');
    return result;
  };
}

function counts(r: RetrieveResult): { completed: number; failed: number; warning: number } {
  return { completed: r.completed, failed: r.failed, warning: r.warning };
}
