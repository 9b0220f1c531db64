// The DIMSE door's audit (PS3.15 A.5.3): refused associations (Security Alert), C-FIND (Query,
// with the identifier as asked), C-MOVE/C-GET (Begin Transferring, then Instances Transferred)
// and C-STORE (Instances Transferred, one record per study per association).
//
// C-STORE records are gathered per association and recorded when it ends, and at least every
// 10 s while it lasts: a crash of the process may lose the store records of those last seconds
// (the instances themselves are safe), the price of not writing one record per instance.
import type {
  DimseServer, FindContext, FindHandler, GetHandler, MoveHandler, RetrieveContext, RetrieveResult, ServiceAssociation, StoreContext,
} from '@loire/dicom-net';
import { lookupTag } from '@loire/dicom';
import type { AuditEvent, AuditParticipant, AuditPatient, AuditStudy, EventOutcome } from '../audit/event.js';
import { Outcome } from '../audit/event.js';
import { StudyPatients } from '../audit/patients.js';
import type { AuditTrail } from '../audit/trail.js';
import type { DicomNode } from '../config/config.js';
import type { ArchiveIndex } from '../index/index.js';
import type { IngestResult } from '../ingest/ingest.js';
import type { Logger } from '../logger.js';
import { parseIdentifier, type ParsedIdentifier } from './identifier.js';
import type { StoreObserver } from './store-scp.js';

const STORE_FLUSH_MS = 10_000;

/** PS3.7 C: 0 success, Cancel FE00, Warnings Bxxx, the rest failures (Axxx refused, Cxxx unable to process). */
export function outcomeOfStatus(status: number): EventOutcome {
  if (status === 0 || (status & 0xf000) === 0xb000) return Outcome.Success;
  if ((status & 0xf000) === 0xc000) return Outcome.SeriousFailure;
  return Outcome.MinorFailure;
}

interface StudyBatch {
  sopClasses: Map<string, number>;
  stored: number;
}

interface AssociationStores {
  studies: Map<string, StudyBatch>;
  refused: { count: number; reasons: Set<string> };
}

function peer(association: ServiceAssociation, role: AuditParticipant['role'], isRequestor = true): AuditParticipant {
  return { userId: association.callingAe.trim(), isRequestor, address: association.remoteAddress, role };
}

/** Keys of an identifier by keyword (tag for private or unknown ones) → values, for the auditor to read. */
function readableKeys(parsed: ParsedIdentifier): Record<string, unknown> {
  const keys: Record<string, unknown> = { QueryRetrieveLevel: parsed.level };
  for (const [tag, element] of Object.entries(parsed.keys)) {
    const name = lookupTag(Number.parseInt(tag, 16))?.keyword || tag;
    keys[name] = element.Value === undefined ? '' : element.Value.length === 1 ? element.Value[0] : element.Value;
  }
  return keys;
}

function identifierStudies(parsed: ParsedIdentifier | undefined): AuditStudy[] {
  const values = parsed?.keys['0020000D']?.Value ?? [];
  return values.filter((v): v is string => typeof v === 'string' && v !== '').map((uid) => ({ uid }));
}

function identifierPatient(parsed: ParsedIdentifier | undefined): AuditPatient | undefined {
  const id = parsed?.keys['00100020']?.Value?.[0];
  return typeof id === 'string' && id !== '' && !/[*?\\]/.test(id) ? { id } : undefined;
}

export class DimseAuditRecorder implements StoreObserver {
  private readonly stores = new Map<ServiceAssociation, AssociationStores>();
  private readonly patients: StudyPatients;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly trail: AuditTrail,
    index: ArchiveIndex,
    private readonly aeTitle: string,
    private readonly nodes: () => readonly DicomNode[],
    private readonly logger: Logger,
  ) {
    this.patients = new StudyPatients(index);
    this.timer = setInterval(() => { for (const a of [...this.stores.keys()]) this.flushStores(a); }, STORE_FLUSH_MS);
    this.timer.unref();
  }

  /** Refused associations become Security Alerts; an association's store records are written when it ends. */
  attach(server: DimseServer): void {
    server.on('association-rejected', ({ request, remoteAddress, reason }) => {
      this.record({
        kind: 'security-alert', type: 'node-authentication', outcome: Outcome.MinorFailure,
        outcomeDescription: `association refused: ${reason}`,
        participants: [
          { userId: request?.callingAe.trim() || 'unknown', isRequestor: true, address: remoteAddress, role: 'source' },
          this.loire('destination'),
        ],
        object: { id: request?.callingAe.trim() || remoteAddress, type: 'node', description: `calling AE ${request?.callingAe.trim() ?? '?'} to called AE ${request?.calledAe.trim() ?? '?'} from ${remoteAddress}` },
        summary: { door: 'dimse', callingAe: request?.callingAe.trim(), calledAe: request?.calledAe.trim(), remoteAddress, reason },
      });
    });
    server.on('association-accepted', ({ association }) => {
      association.once('closed', () => this.flushStores(association));
    });
  }

  /** Records what open associations stored so far; call once the DIMSE server is closed. */
  close(): void {
    clearInterval(this.timer);
    for (const association of [...this.stores.keys()]) this.flushStores(association);
  }

  stored(ctx: StoreContext, result: IngestResult): void {
    const batch = this.storesOf(ctx.association);
    let study = batch.studies.get(result.studyInstanceUid);
    if (!study) batch.studies.set(result.studyInstanceUid, study = { sopClasses: new Map(), stored: 0 });
    study.stored++;
    study.sopClasses.set(result.sopClassUid, (study.sopClasses.get(result.sopClassUid) ?? 0) + 1);
  }

  refused(ctx: StoreContext, _status: number, reason: string): void {
    const batch = this.storesOf(ctx.association);
    batch.refused.count++;
    if (batch.refused.reasons.size < 10) batch.refused.reasons.add(reason.slice(0, 200));
  }

  find(inner: FindHandler): FindHandler {
    const recorder = this;
    return async function* auditedFind(ctx: FindContext) {
      let status = 0;
      let comment: string | undefined;
      let matches = 0;
      const observed: FindContext = { ...ctx, setFinalStatus: (s, c) => { status = s; comment = c; ctx.setFinalStatus(s, c); } };
      try {
        for await (const match of inner(observed)) {
          matches++;
          yield match;
        }
      } catch (err) {
        status = 0xc000;
        comment = (err as Error).message;
        throw err;
      } finally {
        if (ctx.signal.aborted && status === 0) status = 0xfe00;
        recorder.recordQuery(ctx, status, comment, matches);
      }
    };
  }

  move(inner: MoveHandler): MoveHandler {
    return async (ctx) => {
      const node = this.nodes().find((n) => n.aeTitle === ctx.moveDestination.trim());
      const destination: AuditParticipant = { userId: ctx.moveDestination.trim(), isRequestor: false, role: 'destination', ...(node ? { address: node.host } : {}) };
      return this.retrieve(ctx, 'C-MOVE', [peer(ctx.association, undefined), this.loire('source'), destination], () => inner(ctx));
    };
  }

  get(inner: GetHandler): GetHandler {
    return async (ctx) => this.retrieve(ctx, 'C-GET', [peer(ctx.association, 'destination'), this.loire('source')], () => inner(ctx));
  }

  private async retrieve(ctx: RetrieveContext, service: string, participants: AuditParticipant[], run: () => Promise<RetrieveResult>): Promise<RetrieveResult> {
    const parsed = this.parse(ctx);
    const studies = identifierStudies(parsed);
    const patient = identifierPatient(parsed) ?? (studies[0] ? await this.patients.of(studies[0].uid) : undefined);
    const base = {
      participants,
      ...(studies.length ? { studies } : {}),
      ...(patient ? { patients: [patient] } : {}),
    };
    const asked = { door: 'dimse', service, callingAe: ctx.association.callingAe.trim(), ...(parsed ? { identifier: readableKeys(parsed) } : {}) };
    this.record({ ...base, kind: 'begin-transferring', outcome: Outcome.Success, summary: asked });
    let result: RetrieveResult;
    try {
      result = await run();
    } catch (err) {
      this.record({ ...base, kind: 'instances-transferred', action: 'R', outcome: Outcome.SeriousFailure, outcomeDescription: (err as Error).message, summary: asked });
      throw err;
    }
    const status = result.status ?? (result.failed > 0 ? 0xb000 : 0);
    const outcome = result.failed > 0 && result.completed === 0 && result.warning === 0 ? Outcome.MinorFailure : outcomeOfStatus(status);
    this.record({
      ...base, kind: 'instances-transferred', action: 'R', outcome,
      ...(result.errorComment ? { outcomeDescription: result.errorComment } : {}),
      summary: { ...asked, status, completed: result.completed, failed: result.failed, warning: result.warning },
    });
    return result;
  }

  /**
   * A query is recorded right after its final response leaves, as HTTP requests are (onResponse):
   * putting the record together and journalling it then adds nothing to the query's latency. The
   * trail waits for it at shutdown like for any event being prepared.
   */
  private recordQuery(ctx: FindContext, status: number, comment: string | undefined, matches: number): void {
    this.trail.recordWhenReady(new Promise((resolve) => setImmediate(() => resolve(this.queryEvent(ctx, status, comment, matches)))));
  }

  private queryEvent(ctx: FindContext, status: number, comment: string | undefined, matches: number): AuditEvent {
    const parsed = this.parse(ctx);
    const patient = identifierPatient(parsed);
    return {
      kind: 'query', outcome: outcomeOfStatus(status),
      ...(comment ? { outcomeDescription: comment } : {}),
      participants: [peer(ctx.association, undefined), this.loire(undefined)],
      ...(patient ? { patients: [patient] } : {}),
      query: { kind: 'sop-class', target: ctx.sopClassUid, query: ctx.identifier, transferSyntaxUid: ctx.transferSyntaxUid },
      summary: { door: 'dimse', service: 'C-FIND', callingAe: ctx.association.callingAe.trim(), status, matches, ...(parsed ? { identifier: readableKeys(parsed) } : {}) },
    };
  }

  private parse(ctx: { identifier: Uint8Array; transferSyntaxUid: string; sopClassUid: string }): ParsedIdentifier | undefined {
    try {
      return parseIdentifier(ctx.identifier, ctx.transferSyntaxUid, ctx.sopClassUid);
    } catch {
      return undefined;
    }
  }

  private storesOf(association: ServiceAssociation): AssociationStores {
    let stores = this.stores.get(association);
    if (!stores) this.stores.set(association, stores = { studies: new Map(), refused: { count: 0, reasons: new Set() } });
    return stores;
  }

  private flushStores(association: ServiceAssociation): void {
    const stores = this.stores.get(association);
    if (!stores) return;
    this.stores.delete(association);
    const participants = [peer(association, 'source'), this.loire('destination')];
    const from = { door: 'dimse', service: 'C-STORE', callingAe: association.callingAe.trim(), remoteAddress: association.remoteAddress };
    for (const [studyUid, batch] of stores.studies) {
      const sopClasses = [...batch.sopClasses].map(([uid, count]) => ({ uid, count }));
      this.recordWhenReady(this.patients.of(studyUid).then((patient): AuditEvent => ({
        kind: 'instances-transferred', outcome: Outcome.Success, participants,
        studies: [{ uid: studyUid, sopClasses }],
        ...(patient ? { patients: [patient] } : {}),
        summary: { ...from, instances: batch.stored },
      })));
    }
    if (stores.refused.count > 0) {
      this.record({
        kind: 'instances-transferred', outcome: Outcome.MinorFailure, participants,
        outcomeDescription: [...stores.refused.reasons].join('; ').slice(0, 1000),
        summary: { ...from, refused: stores.refused.count, reasons: [...stores.refused.reasons] },
      });
    }
  }

  private loire(role: AuditParticipant['role']): AuditParticipant {
    return { userId: this.aeTitle, isRequestor: false, ...(role ? { role } : {}) };
  }

  private recordWhenReady(event: Promise<AuditEvent>): void {
    try {
      this.trail.recordWhenReady(event);
    } catch (err) {
      this.logger.error({ err }, 'could not record a DIMSE audit event');
    }
  }

  private record(event: AuditEvent): void {
    try {
      void Promise.resolve(this.trail.record(event)).catch(() => undefined);
    } catch (err) {
      this.logger.error({ err, kind: event.kind }, 'could not record a DIMSE audit event');
    }
  }
}
