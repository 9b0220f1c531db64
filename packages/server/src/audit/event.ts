// What happened, as the callers of the audit trail describe it: one event kind per DICOM audit
// message of PS3.15 A.5.3, with the participants and objects that message carries.

/** PS3.15 A.5.3 event kinds and their EventID codes (DCM coding scheme, PS3.16 CID 400). */
export const EVENT_KINDS = {
  'application-activity': { code: '110100', name: 'Application Activity', action: 'E' },
  'audit-log-used': { code: '110101', name: 'Audit Log Used', action: 'R' },
  'begin-transferring': { code: '110102', name: 'Begin Transferring DICOM Instances', action: 'E' },
  'instances-accessed': { code: '110103', name: 'DICOM Instances Accessed', action: 'R' },
  'instances-transferred': { code: '110104', name: 'DICOM Instances Transferred', action: 'C' },
  'study-deleted': { code: '110105', name: 'DICOM Study Deleted', action: 'D' },
  export: { code: '110106', name: 'Export', action: 'R' },
  query: { code: '110112', name: 'Query', action: 'E' },
  'security-alert': { code: '110113', name: 'Security Alert', action: 'E' },
  'user-authentication': { code: '110114', name: 'User Authentication', action: 'E' },
} as const satisfies Record<string, { code: string; name: string; action: EventAction }>;
export type AuditEventKind = keyof typeof EVENT_KINDS;
export const AUDIT_EVENT_KINDS = Object.keys(EVENT_KINDS) as AuditEventKind[];

/** EventTypeCode values (PS3.16 CID 401, 402, 403, 404). */
export const EVENT_TYPES = {
  'application-start': { code: '110120', name: 'Application Start' },
  'application-stop': { code: '110121', name: 'Application Stop' },
  login: { code: '110122', name: 'Login' },
  logout: { code: '110123', name: 'Logout' },
  'node-authentication': { code: '110126', name: 'Node Authentication' },
  'network-configuration': { code: '110128', name: 'Network Configuration' },
  'security-configuration': { code: '110129', name: 'Security Configuration' },
  'software-configuration': { code: '110131', name: 'Software Configuration' },
  'use-of-restricted-function': { code: '110132', name: 'Use of Restricted Function' },
  'audit-recording-stopped': { code: '110133', name: 'Audit Recording Stopped' },
  'audit-recording-started': { code: '110134', name: 'Audit Recording Started' },
  'security-roles-changed': { code: '110136', name: 'Security Roles Changed' },
  'user-security-attributes-changed': { code: '110137', name: 'User security Attributes Changed' },
} as const;
export type AuditEventType = keyof typeof EVENT_TYPES;

/** PS3.15 A.5.1 EventActionCode: Create, Read, Update, Delete, Execute. */
export type EventAction = 'C' | 'R' | 'U' | 'D' | 'E';

/** PS3.15 A.5.1 EventOutcomeIndicator. */
export const Outcome = { Success: 0, MinorFailure: 4, SeriousFailure: 8, MajorFailure: 12 } as const;
export type EventOutcome = (typeof Outcome)[keyof typeof Outcome];

/** Someone or something taking part: a user account, a DICOM node (AE title) or Loire itself. */
export interface AuditParticipant {
  /** Username, AE title, or the process for Loire itself. */
  userId: string;
  /** e.g. the AE title when userId is a process, or the display name of a user. */
  alternativeUserId?: string;
  userName?: string;
  isRequestor: boolean;
  /** Network address (IP or host name) it acted from. */
  address?: string;
  /** PS3.15 A.5.3: Source (110153), Destination (110152), Application (110150), Application Launcher (110151). */
  role?: 'source' | 'destination' | 'application' | 'application-launcher';
}

export interface AuditPatient {
  id: string;
  name?: string;
}

export interface AuditStudy {
  uid: string;
  /** SOP classes and how many instances of each took part. */
  sopClasses?: { uid: string; count: number }[];
}

/** The query as asked: C-FIND identifier bytes, or a DICOMweb query string. */
export interface AuditQuery {
  /** SOP Class UID of the C-FIND (110181), or the URL path of a QIDO-RS request. */
  target: string;
  kind: 'sop-class' | 'url';
  /** The raw query: stored base64 in ParticipantObjectQuery (PS3.15 A.5.3.12). */
  query: Uint8Array;
  transferSyntaxUid?: string;
}

export interface AuditEvent {
  kind: AuditEventKind;
  /** Defaults to the kind's action (e.g. R for Instances Accessed; U when a modification). */
  action?: EventAction;
  type?: AuditEventType;
  outcome: EventOutcome;
  /** When it happened; defaults to when record() was called. */
  time?: Date;
  /** Why it failed or what the alert is about (EventOutcomeDescription). */
  outcomeDescription?: string;
  /** Participants: the requestor first (a user or a node), then any other (e.g. a C-MOVE destination). */
  participants: AuditParticipant[];
  patients?: AuditPatient[];
  studies?: AuditStudy[];
  query?: AuditQuery;
  /** Another object the event is about (a user account changed, a node refused, a configuration key). */
  object?: { id: string; type: 'user' | 'node' | 'configuration' | 'security-resource'; description?: string };
  /** What was asked, in plain words and values for the auditor (query parameters, counts, route). */
  summary: Record<string, unknown>;
}
