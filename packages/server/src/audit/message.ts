// The DICOM audit message (PS3.15 A.5.1, the RFC 3881 structure as DICOM extends it): XML for
// syslog and export. The same message is stored with each record and covered by its hash.
import {
  EVENT_KINDS, EVENT_TYPES, type AuditEvent, type AuditParticipant, type AuditPatient, type AuditQuery, type AuditStudy,
} from './event.js';

/** Who writes the message: AuditSourceIdentification (PS3.15 A.5.2.3). */
export interface AuditSource {
  /** AuditSourceID: Loire's AE title (unique within the enterprise). */
  sourceId: string;
  /** AuditEnterpriseSiteID, when configured. */
  siteId?: string;
}

const ROLE_CODES = {
  source: ['110153', 'Source Role ID'],
  destination: ['110152', 'Destination Role ID'],
  application: ['110150', 'Application'],
  'application-launcher': ['110151', 'Application Launcher'],
} as const;

// XML 1.0 forbids most control characters even escaped; they are replaced, never passed on.
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

/** Whether a value needs any escaping or replacing at all (most do not: UIDs, AE titles, codes). */
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPING = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff&<>"']/;

export function escapeXml(value: string): string {
  if (!NEEDS_ESCAPING.test(value)) return value;
  return value.replace(INVALID_XML, '\ufffd')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function attrs(values: Record<string, string | number | boolean | undefined>): string {
  return Object.entries(values)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');
}

function code(element: string, csdCode: string, codeSystemName: string, originalText: string): string {
  return `<${element}${attrs({ 'csd-code': csdCode, codeSystemName, originalText })}/>`;
}

/** NetworkAccessPointTypeCode (A.5.1): 1 machine name, 2 IP address. */
function accessPointType(address: string): number {
  return /^[\d.]+$/.test(address) || address.includes(':') ? 2 : 1;
}

function activeParticipant(p: AuditParticipant): string {
  const role = p.role ? code('RoleIDCode', ROLE_CODES[p.role][0], 'DCM', ROLE_CODES[p.role][1]) : '';
  return `<ActiveParticipant${attrs({
    UserID: p.userId,
    AlternativeUserID: p.alternativeUserId,
    UserName: p.userName,
    UserIsRequestor: p.isRequestor,
    NetworkAccessPointID: p.address,
    NetworkAccessPointTypeCode: p.address ? accessPointType(p.address) : undefined,
  })}>${role}</ActiveParticipant>`;
}

function participantObject(attributes: Record<string, string | number>, children: string): string {
  return `<ParticipantObjectIdentification${attrs(attributes)}>${children}</ParticipantObjectIdentification>`;
}

function patientObject(patient: AuditPatient): string {
  // Person (1) in the role Patient (1), identified by its Patient Number (RFC 3881 code 2).
  return participantObject({ ParticipantObjectID: patient.id, ParticipantObjectTypeCode: 1, ParticipantObjectTypeCodeRole: 1 },
    code('ParticipantObjectIDTypeCode', '2', 'RFC-3881', 'Patient Number')
    + (patient.name ? `<ParticipantObjectName>${escapeXml(patient.name)}</ParticipantObjectName>` : ''));
}

function studyObject(study: AuditStudy): string {
  // System object (2) in the role Report (3), identified by its Study Instance UID (110180).
  const sopClasses = (study.sopClasses ?? [])
    .map((c) => `<SOPClass${attrs({ UID: c.uid, NumberOfInstances: c.count })}/>`).join('');
  return participantObject({ ParticipantObjectID: study.uid, ParticipantObjectTypeCode: 2, ParticipantObjectTypeCodeRole: 3 },
    code('ParticipantObjectIDTypeCode', '110180', 'DCM', 'Study Instance UID')
    + sopClasses);
}

function queryObject(query: AuditQuery): string {
  // PS3.15 A.5.3.12: the query, base64, with its transfer syntax as a ParticipantObjectDetail.
  const idType = query.kind === 'sop-class'
    ? code('ParticipantObjectIDTypeCode', '110181', 'DCM', 'SOP Class UID')
    : code('ParticipantObjectIDTypeCode', '12', 'RFC-3881', 'URI');
  const detail = query.transferSyntaxUid
    ? `<ParticipantObjectDetail${attrs({ type: 'TransferSyntax', value: Buffer.from(query.transferSyntaxUid).toString('base64') })}/>`
    : '';
  return participantObject({ ParticipantObjectID: query.target, ParticipantObjectTypeCode: 2, ParticipantObjectTypeCodeRole: 3 },
    `${idType}<ParticipantObjectQuery>${Buffer.from(query.query).toString('base64')}</ParticipantObjectQuery>${detail}`);
}

function otherObject(object: NonNullable<AuditEvent['object']>): string {
  const description = object.description ? `<ParticipantObjectDescription>${escapeXml(object.description)}</ParticipantObjectDescription>` : '';
  switch (object.type) {
    case 'user': // Person (1), Security User Entity (11), User Identifier (11)
      return participantObject({ ParticipantObjectID: object.id, ParticipantObjectTypeCode: 1, ParticipantObjectTypeCodeRole: 11 },
        code('ParticipantObjectIDTypeCode', '11', 'RFC-3881', 'User Identifier') + description);
    case 'node': // System (2), Security Resource (13), Node ID (110182)
      return participantObject({ ParticipantObjectID: object.id, ParticipantObjectTypeCode: 2, ParticipantObjectTypeCodeRole: 13 },
        code('ParticipantObjectIDTypeCode', '110182', 'DCM', 'Node ID') + description);
    case 'configuration':
    case 'security-resource': // System (2), Security Resource (13), URI (12)
      return participantObject({ ParticipantObjectID: object.id, ParticipantObjectTypeCode: 2, ParticipantObjectTypeCodeRole: 13 },
        code('ParticipantObjectIDTypeCode', '12', 'RFC-3881', 'URI') + description);
  }
}

/** The PS3.15 A.5.1 AuditMessage for one event. */
export function auditMessageXml(event: AuditEvent, time: Date, source: AuditSource): string {
  const kind = EVENT_KINDS[event.kind];
  const type = event.type ? EVENT_TYPES[event.type] : undefined;
  const identification = `<EventIdentification${attrs({
    EventActionCode: event.action ?? kind.action,
    EventDateTime: time.toISOString(),
    EventOutcomeIndicator: event.outcome,
  })}>${code('EventID', kind.code, 'DCM', kind.name)}${type ? code('EventTypeCode', type.code, 'DCM', type.name) : ''}${
    event.outcomeDescription ? `<EventOutcomeDescription>${escapeXml(event.outcomeDescription)}</EventOutcomeDescription>` : ''
  }</EventIdentification>`;
  // AuditSourceTypeCode 4: Application Server Process (RFC 3881 5.4 / PS3.15 A.5.1).
  const sourceIdentification = `<AuditSourceIdentification${attrs({ AuditEnterpriseSiteID: source.siteId, AuditSourceID: source.sourceId })}>${
    code('AuditSourceTypeCode', '4', 'DCM', 'Application Server Process')}</AuditSourceIdentification>`;
  const objects = [
    ...(event.patients ?? []).map(patientObject),
    ...(event.studies ?? []).map(studyObject),
    ...(event.query ? [queryObject(event.query)] : []),
    ...(event.object ? [otherObject(event.object)] : []),
  ];
  return `<?xml version="1.0" encoding="UTF-8"?><AuditMessage>${identification}${event.participants.map(activeParticipant).join('')}${sourceIdentification}${objects.join('')}</AuditMessage>`;
}
