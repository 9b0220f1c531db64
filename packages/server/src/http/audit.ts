// The HTTP door's audit: one record per request to a route that needs a permission, chosen from
// the route's declared `config.access`, recorded after the response is sent (never delaying it);
// and GET /api/audit for the auditor.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Archive } from '../archive.js';
import { HttpError } from '../dicomweb/http-error.js';
import type { Permission } from '../security/permissions.js';
import '../security/principal.js';
import {
  AUDIT_EVENT_KINDS, EVENT_KINDS, EVENT_TYPES, Outcome,
  type AuditEvent, type AuditEventKind, type AuditParticipant, type AuditPatient, type AuditStudy, type EventOutcome,
} from '../audit/event.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * What a handler learnt that the path does not say, for the audit record: the studies a
     * STOW-RS stored, the patient of a deleted study. Set it before replying; the hook adds it.
     */
    auditObjects?: { patients?: AuditPatient[]; studies?: AuditStudy[]; summary?: Record<string, unknown> };
  }
}
import { StudyPatients } from '../audit/patients.js';
import { searchAudit, type AuditRow } from '../audit/store.js';

/** 2xx/3xx success; 4xx the request was refused (minor failure); 5xx serious failure (PS3.15 A.5.1). */
export function outcomeOfStatus(status: number): EventOutcome {
  if (status < 400) return Outcome.Success;
  return status < 500 ? Outcome.MinorFailure : Outcome.SeriousFailure;
}

function requestor(request: FastifyRequest): AuditParticipant {
  const principal = request.principal;
  return {
    userId: principal?.kind === 'user' && principal.username ? principal.username : 'anonymous',
    isRequestor: true,
    address: request.ip,
    ...(principal?.method ? { alternativeUserId: `${principal.method}` } : {}),
  };
}

/** Study/Series/SOP Instance UIDs named in the route's path parameters (`:study`, `:studyInstanceUid`, …). */
function pathUids(params: unknown): { study?: string; series?: string; instance?: string } {
  const found: { study?: string; series?: string; instance?: string } = {};
  if (typeof params !== 'object' || params === null) return found;
  for (const [name, value] of Object.entries(params as Record<string, unknown>)) {
    if (typeof value !== 'string') continue;
    if (/^study/i.test(name)) found.study = value;
    else if (/^series/i.test(name)) found.series = value;
    else if (/^(instance|sop)/i.test(name)) found.instance = value;
  }
  return found;
}

const UID = /^[0-9.]{1,64}$/;

function queryString(url: string): string {
  const at = url.indexOf('?');
  return at < 0 ? '' : url.slice(at + 1);
}

/** The Patient ID a QIDO request filters on, when it names exactly one (no wildcard). */
function queriedPatientId(query: unknown): string | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const q = query as Record<string, unknown>;
  const value = q.PatientID ?? q['00100020'];
  return typeof value === 'string' && value !== '' && !/[*?\\]/.test(value) ? value : undefined;
}

const KIND_OF_PERMISSION: Readonly<Record<Permission, AuditEventKind>> = {
  query: 'query',
  view: 'instances-accessed',
  store: 'instances-transferred',
  delete: 'study-deleted',
  export: 'export',
  'modify-patients': 'instances-accessed',
  'manage-users': 'security-alert',
  configure: 'security-alert',
  'read-audit': 'audit-log-used',
};

/**
 * The audit event for a request to a route needing `access`. Path parameters are recorded as
 * given (a refused request's odd UID is worth keeping); only well-formed UIDs are looked up.
 */
export async function httpEvent(
  request: FastifyRequest, reply: FastifyReply, access: Permission, aeTitle: string, patients: StudyPatients,
): Promise<AuditEvent> {
  const kind = KIND_OF_PERMISSION[access];
  const uids = pathUids(request.params);
  // PS3.18 10.5.3: STOW-RS answers 202 when some instances were stored and others not.
  const outcome = access === 'store' && reply.statusCode === 202 ? Outcome.MinorFailure : outcomeOfStatus(reply.statusCode);
  const path = request.routeOptions.url ?? request.url.split('?')[0]!;
  const summary: Record<string, unknown> = { method: request.method, route: path, url: request.url, status: reply.statusCode };
  const loire: AuditParticipant = { userId: aeTitle, isRequestor: false, role: 'application' };
  const event: AuditEvent = { kind, outcome, participants: [requestor(request), loire], summary };
  if (outcome !== Outcome.Success) event.outcomeDescription = `HTTP ${reply.statusCode}`;
  if (uids.study) {
    event.studies = [{ uid: uids.study }];
    const patient = UID.test(uids.study) ? await patients.of(uids.study) : undefined;
    if (patient) event.patients = [patient];
    if (uids.series) summary.series = uids.series;
    if (uids.instance) summary.instance = uids.instance;
  }
  const given = request.auditObjects;
  if (given?.studies?.length) event.studies = [...(event.studies ?? []).filter((s) => !given.studies!.some((g) => g.uid === s.uid)), ...given.studies];
  if (given?.patients?.length) event.patients = given.patients;
  if (given?.summary) Object.assign(summary, given.summary);
  if (!event.patients && event.studies && event.studies.length > 0 && !uids.study) {
    const patient = await patients.of(event.studies[0]!.uid);
    if (patient) event.patients = [patient];
  }
  switch (access) {
    case 'query': {
      const qs = queryString(request.url);
      summary.parameters = request.query;
      event.query = { kind: 'url', target: path, query: Buffer.from(qs, 'utf8') };
      const patientId = queriedPatientId(request.query);
      if (patientId && !event.patients) event.patients = [{ id: patientId }];
      break;
    }
    case 'modify-patients':
      event.action = 'U';
      break;
    case 'manage-users':
    case 'configure': {
      const mutation = request.method !== 'GET' && request.method !== 'HEAD';
      event.type = !mutation ? 'use-of-restricted-function'
        : access === 'manage-users' ? 'user-security-attributes-changed' : 'security-configuration';
      const params = (request.params ?? {}) as Record<string, unknown>;
      const target = [params.username, params.user, params.name, params.id].find((v): v is string => typeof v === 'string');
      event.object = access === 'manage-users' && target
        ? { id: target, type: 'user', description: `${request.method} ${path}` }
        : { id: path, type: 'configuration', description: `${request.method} ${request.url}` };
      break;
    }
    case 'read-audit':
      summary.parameters = request.query;
      event.object = { id: path, type: 'security-resource', description: 'Security Audit Log' };
      break;
    default:
      break;
  }
  return event;
}

/** Records every request to a non-public route (after its response is sent). */
export function registerAuditHook(app: FastifyInstance, archive: Archive): void {
  if (!archive.audit.enabled) return;
  const patients = new StudyPatients(archive.index);
  app.addHook('onResponse', async (request, reply) => {
    const declared = request.routeOptions.config?.access;
    if (declared === undefined || declared === 'public') return;
    // A user's own profile: reading it is not worth a record; changing one's password or tokens is a security event.
    if (declared === 'authenticated' && request.method === 'GET') return;
    const access = declared === 'authenticated' ? 'manage-users' : declared;
    archive.audit.recordWhenReady(httpEvent(request, reply, access, archive.config.aeTitle, patients));
  });
}

const MAX_LIMIT = 1000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function timeBound(value: string, end: boolean): string {
  if (DATE.test(value)) return `${value}T${end ? '23:59:59.999' : '00:00:00.000'}Z`;
  const parsed = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(parsed.getTime())) {
    throw HttpError.badRequest(`"${value.slice(0, 40)}" is not a date (YYYY-MM-DD) or an ISO 8601 date-time`);
  }
  return parsed.toISOString();
}

const searchParams = z.object({
  patient: z.string().min(1).max(64).optional(),
  user: z.string().min(1).max(256).optional(),
  from: z.string().min(1).max(40).optional(),
  to: z.string().min(1).max(40).optional(),
  event: z.string().min(1).max(400).optional(),
  limit: z.string().regex(/^\d{1,6}$/, 'must be a whole number').optional(),
  before: z.string().regex(/^\d{1,15}$/, 'must be a record number').optional(),
}).strict();

const CODE_OF_EVENT = new Map<string, string>([
  ...AUDIT_EVENT_KINDS.map((k) => [k, EVENT_KINDS[k].code] as [string, string]),
  ...AUDIT_EVENT_KINDS.map((k) => [EVENT_KINDS[k].code, EVENT_KINDS[k].code] as [string, string]),
]);
const KIND_OF_CODE = new Map<string, AuditEventKind>(AUDIT_EVENT_KINDS.map((k) => [EVENT_KINDS[k].code, k]));
const TYPE_OF_CODE = new Map<string, string>(Object.values(EVENT_TYPES).map((t) => [t.code, t.name]));

function recordJson(row: AuditRow): Record<string, unknown> {
  const kind = KIND_OF_CODE.get(row.event_id);
  return {
    seq: row.seq,
    time: row.event_time,
    event: {
      kind: kind ?? row.event_id,
      id: row.event_id,
      name: kind ? EVENT_KINDS[kind].name : row.event_id,
      ...(row.event_type ? { type: row.event_type, typeName: TYPE_OF_CODE.get(row.event_type) ?? row.event_type } : {}),
      action: row.action,
      outcome: row.outcome,
    },
    user: { id: row.user_id, address: row.user_address },
    patient: row.patient_id,
    studies: row.study_uids ? row.study_uids.split('\\') : [],
    asked: JSON.parse(row.summary) as unknown,
  };
}

/** GET /api/audit: newest first; pass the answer's `nextBefore` as `before` for the next page. */
export function registerAuditRoutes(app: FastifyInstance, archive: Archive): void {
  app.get('/api/audit', { config: { access: 'read-audit' } }, async (request) => {
    const parsed = searchParams.safeParse(request.query);
    if (!parsed.success) {
      throw HttpError.badRequest(parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ')
        + ' (parameters: patient, user, from, to, event, limit, before)');
    }
    const q = parsed.data;
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (limit < 1 || limit > MAX_LIMIT) throw HttpError.badRequest(`limit: must be between 1 and ${MAX_LIMIT}`);
    const eventIds = q.event?.split(',').map((e) => {
      const code = CODE_OF_EVENT.get(e.trim());
      if (!code) throw HttpError.badRequest(`event: "${e.trim().slice(0, 40)}" is not one of ${AUDIT_EVENT_KINDS.join(', ')} (or their DCM codes)`);
      return code;
    });
    const from = q.from === undefined ? undefined : timeBound(q.from, false);
    const to = q.to === undefined ? undefined : timeBound(q.to, true);
    if (from && to && from > to) throw HttpError.badRequest('from is after to');
    // What the auditor read is recorded by the hook; make it visible to the next search.
    await archive.audit.flush();
    const rows = await searchAudit(archive.index.db, {
      ...(q.patient !== undefined ? { patientId: q.patient } : {}),
      ...(q.user !== undefined ? { userId: q.user } : {}),
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      ...(eventIds ? { eventIds } : {}),
      ...(q.before !== undefined ? { beforeSeq: Number(q.before) } : {}),
      limit,
    });
    return { records: rows.map(recordJson), ...(rows.length === limit ? { nextBefore: rows[rows.length - 1]!.seq } : {}) };
  });
}
