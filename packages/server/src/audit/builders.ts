// Ready-made events for the doors that record them directly (login/logout, account changes,
// deletion): they call `archive.audit.record(userAuthentication({...}))` and the like.
import { Outcome, type AuditEvent, type AuditParticipant, type AuditPatient, type EventOutcome } from './event.js';

export interface Actor {
  /** Username (or 'anonymous' when unknown). */
  username: string;
  /** Remote address of the request. */
  address?: string;
  /** How the actor authenticated: session, basic, token, oidc. */
  method?: string;
}

function participant(actor: Actor): AuditParticipant {
  return { userId: actor.username, isRequestor: true, ...(actor.address ? { address: actor.address } : {}), ...(actor.method ? { alternativeUserId: actor.method } : {}) };
}

function application(aeTitle: string): AuditParticipant {
  return { userId: aeTitle, isRequestor: false, role: 'application' };
}

/** PS3.15 A.5.3.9 User Authentication: a login (success or failure) or a logout. */
export function userAuthentication(args: {
  type: 'login' | 'logout'; actor: Actor; aeTitle: string; outcome?: EventOutcome; reason?: string;
}): AuditEvent {
  return {
    kind: 'user-authentication', type: args.type, outcome: args.outcome ?? Outcome.Success,
    ...(args.reason ? { outcomeDescription: args.reason } : {}),
    participants: [participant(args.actor), application(args.aeTitle)],
    summary: { [args.type]: args.actor.username, ...(args.actor.method ? { method: args.actor.method } : {}), ...(args.reason ? { reason: args.reason } : {}) },
  };
}

/** PS3.15 A.5.3.11 Security Alert: an account created, changed, disabled or its password reset. */
export function userChanged(args: { actor: Actor; aeTitle: string; username: string; change: string; outcome?: EventOutcome }): AuditEvent {
  return {
    kind: 'security-alert', type: 'user-security-attributes-changed', outcome: args.outcome ?? Outcome.Success,
    participants: [participant(args.actor), application(args.aeTitle)],
    object: { id: args.username, type: 'user', description: args.change },
    summary: { user: args.username, change: args.change },
  };
}

/** PS3.15 A.5.3.11 Security Alert: a request with a forged, expired or replayed token or session. */
export function badCredentials(args: { actor: Actor; aeTitle: string; reason: string; resource: string }): AuditEvent {
  return {
    kind: 'security-alert', type: 'use-of-restricted-function', outcome: Outcome.MinorFailure,
    outcomeDescription: args.reason,
    participants: [participant(args.actor), application(args.aeTitle)],
    object: { id: args.resource, type: 'security-resource', description: args.reason },
    summary: { resource: args.resource, reason: args.reason },
  };
}

/** PS3.15 A.5.3.8 DICOM Study Deleted. */
export function studyDeleted(args: {
  actor: Actor; aeTitle: string; studyInstanceUid: string; patient?: AuditPatient;
  sopClasses?: { uid: string; count: number }[]; outcome?: EventOutcome; reason?: string;
}): AuditEvent {
  return {
    kind: 'study-deleted', outcome: args.outcome ?? Outcome.Success,
    ...(args.reason ? { outcomeDescription: args.reason } : {}),
    participants: [participant(args.actor), application(args.aeTitle)],
    studies: [{ uid: args.studyInstanceUid, ...(args.sopClasses ? { sopClasses: args.sopClasses } : {}) }],
    ...(args.patient ? { patients: [args.patient] } : {}),
    summary: { study: args.studyInstanceUid, ...(args.sopClasses ? { instances: args.sopClasses.reduce((n, c) => n + c.count, 0) } : {}) },
  };
}
