// PS3.8 section 7.1 and PS3.7 annex D.3.3: presentation context, role and user information
// negotiation. The application decides through an AssociationPolicy; this module turns the
// decision into an A-ASSOCIATE-AC and both sides into a table of negotiated contexts.
import {
  allStorageSopClasses, ExplicitVRLittleEndian, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, ImplicitVRLittleEndian,
  isStorageSopClass, StorageCommitmentPushModelSOPClass, storageTransferSyntaxes, VerificationSOPClass,
} from '@loire/dicom';
import {
  type AcceptedContextItem, type AssociateAcPdu, type AssociateRqPdu, DICOM_APPLICATION_CONTEXT, PduType,
  PresentationResult, type PresentationResultCode, type ProposedContext, RejectReason, RejectResult, RejectSource,
  type RoleSelection, type SopClassCommonExtended, type SopClassExtended, type UserIdentityRq,
} from '../ul/pdu.js';
import type { TlsPeer } from '../transport.js';

/** The same implementation identity in file meta headers and in association negotiation. */
export { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME };
export const DEFAULT_MAX_PDU_LENGTH = 262144;

/** What the application sees of an incoming A-ASSOCIATE-RQ. */
export interface AssociateRequestInfo {
  readonly callingAe: string;
  readonly calledAe: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly contexts: readonly ProposedContext[];
  readonly roles: readonly RoleSelection[];
  readonly userIdentity?: UserIdentityRq;
  readonly extended: readonly SopClassExtended[];
  readonly commonExtended: readonly SopClassCommonExtended[];
  readonly implementationClassUid: string;
  readonly implementationVersionName?: string;
  readonly maxPduLength: number;
  /** Whether the association runs over TLS (PS3.15 annex B). */
  readonly tls: boolean;
  /** What the TLS handshake proved about the peer (protocol, cipher, verified client certificate). */
  readonly tlsPeer?: TlsPeer;
}

export type ContextRejection = 'user-rejection' | 'no-reason' | 'abstract-syntax-not-supported' | 'transfer-syntaxes-not-supported';

/** The answer for one proposed presentation context. */
export type ContextDecision = { readonly transferSyntax: string } | { readonly reject: ContextRejection };

export interface AssociationRejection {
  readonly result: 'permanent' | 'transient';
  readonly source: 'service-user' | 'service-provider-acse' | 'service-provider-presentation';
  /** PS3.8 table 9-21 reason code for the source (e.g. 3 calling AE not recognized, 7 called AE not recognized). */
  readonly reason: number;
}

export type AssociationDecision =
  | {
    readonly accept: true;
    /** One decision per proposed context, in the order of `rq.contexts`. */
    readonly contexts: readonly ContextDecision[];
    /** Role selection answers (SCU/SCP the requestor may play per SOP class). */
    readonly roles?: readonly RoleSelection[];
    readonly extended?: readonly SopClassExtended[];
    readonly userIdentityResponse?: Uint8Array;
  }
  | {
    readonly accept: false;
    readonly reject: AssociationRejection;
    /** Why, for the 'association-rejected' event (logs, audit); not sent to the peer. */
    readonly reason?: string;
  };

/** Exactly one policy decides whether an association is accepted and with which contexts. */
export type AssociationPolicy = (rq: AssociateRequestInfo) => AssociationDecision | Promise<AssociationDecision>;

/** A presentation context after negotiation, seen the same way on both sides. */
export interface NegotiatedContext {
  readonly id: number;
  readonly abstractSyntax: string;
  readonly accepted: boolean;
  readonly result: PresentationResultCode;
  /** The accepted transfer syntax ('' when rejected). */
  readonly transferSyntax: string;
  /** PS3.7 D.3.3.4: whether the association requestor may act as SCU / as SCP for this SOP class. */
  readonly requestorIsScu: boolean;
  readonly requestorIsScp: boolean;
}

export const QueryRetrieve = {
  PatientRootFind: '1.2.840.10008.5.1.4.1.2.1.1',
  PatientRootMove: '1.2.840.10008.5.1.4.1.2.1.2',
  PatientRootGet: '1.2.840.10008.5.1.4.1.2.1.3',
  StudyRootFind: '1.2.840.10008.5.1.4.1.2.2.1',
  StudyRootMove: '1.2.840.10008.5.1.4.1.2.2.2',
  StudyRootGet: '1.2.840.10008.5.1.4.1.2.2.3',
} as const;

const NATIVE_SYNTAXES = [ExplicitVRLittleEndian, ImplicitVRLittleEndian];

export interface DefaultPolicyOptions {
  /** Accept only these called AE titles (case-sensitive); default: any. */
  readonly calledAeTitles?: readonly string[];
  /** Extra abstract syntaxes to accept with their transfer syntaxes. */
  readonly extraAbstractSyntaxes?: ReadonlyMap<string, readonly string[]>;
}

/** The transfer syntaxes we accept for an abstract syntax in the default policy, or undefined. */
export function defaultTransferSyntaxes(abstractSyntax: string): readonly string[] | undefined {
  if (abstractSyntax === VerificationSOPClass || abstractSyntax === StorageCommitmentPushModelSOPClass) return NATIVE_SYNTAXES;
  if ((Object.values(QueryRetrieve) as string[]).includes(abstractSyntax)) return NATIVE_SYNTAXES;
  if (STORAGE_CLASSES.has(abstractSyntax) || isStorageSopClass(abstractSyntax)) return STORAGE_SYNTAXES;
  return undefined;
}
const STORAGE_CLASSES = new Set(allStorageSopClasses());
const STORAGE_SYNTAXES = storageTransferSyntaxes();

/** Picks, for each proposed context, the first proposed transfer syntax that `supported` allows. */
export function decideContexts(
  contexts: readonly ProposedContext[],
  supported: (abstractSyntax: string) => readonly string[] | undefined,
): ContextDecision[] {
  return contexts.map((pc) => {
    const ours = supported(pc.abstractSyntax);
    if (!ours) return { reject: 'abstract-syntax-not-supported' };
    const ts = pc.transferSyntaxes.find((t) => ours.includes(t));
    return ts ? { transferSyntax: ts } : { reject: 'transfer-syntaxes-not-supported' };
  });
}

/** Role answers: the requestor may be SCP for storage classes (C-GET) and storage commitment (N-EVENT-REPORT). */
export function defaultRoles(rq: AssociateRequestInfo): RoleSelection[] {
  return rq.roles.map((r) => {
    const scpAllowed = r.sopClassUid === StorageCommitmentPushModelSOPClass || STORAGE_CLASSES.has(r.sopClassUid) || isStorageSopClass(r.sopClassUid);
    return { sopClassUid: r.sopClassUid, scu: r.scu, scp: r.scp && scpAllowed };
  });
}

/** Accepts Verification, every storage SOP class, Patient/Study Root FIND/MOVE/GET and Storage Commitment. */
export function defaultAssociationPolicy(options: DefaultPolicyOptions = {}): AssociationPolicy {
  return (rq) => {
    if (options.calledAeTitles && !options.calledAeTitles.includes(rq.calledAe)) {
      return { accept: false, reject: { result: 'permanent', source: 'service-user', reason: RejectReason.CalledAeNotRecognized } };
    }
    const supported = (a: string) => options.extraAbstractSyntaxes?.get(a) ?? defaultTransferSyntaxes(a);
    return { accept: true, contexts: decideContexts(rq.contexts, supported), roles: defaultRoles(rq) };
  };
}

const REJECTION_CODE: Record<ContextRejection, PresentationResultCode> = {
  'user-rejection': PresentationResult.UserRejection,
  'no-reason': PresentationResult.NoReason,
  'abstract-syntax-not-supported': PresentationResult.AbstractSyntaxNotSupported,
  'transfer-syntaxes-not-supported': PresentationResult.TransferSyntaxesNotSupported,
};

export function rejectionFields(r: AssociationRejection): { result: number; source: number; reason: number } {
  return {
    result: r.result === 'permanent' ? RejectResult.Permanent : RejectResult.Transient,
    source: r.source === 'service-user' ? RejectSource.ServiceUser
      : r.source === 'service-provider-acse' ? RejectSource.ServiceProviderAcse : RejectSource.ServiceProviderPresentation,
    reason: r.reason,
  };
}

export function requestInfo(rq: AssociateRqPdu, remoteAddress: string, remotePort: number, tls: TlsPeer | undefined): AssociateRequestInfo {
  return {
    callingAe: rq.callingAe, calledAe: rq.calledAe, remoteAddress, remotePort, contexts: rq.contexts,
    roles: rq.userInfo.roles, userIdentity: rq.userInfo.userIdentity, extended: rq.userInfo.extended,
    commonExtended: rq.userInfo.commonExtended, implementationClassUid: rq.userInfo.implementationClassUid,
    implementationVersionName: rq.userInfo.implementationVersionName, maxPduLength: rq.userInfo.maxPduLength, tls: !!tls, ...(tls ? { tlsPeer: tls } : {}),
  };
}

/** Contexts with an invalid or duplicate id can never be referenced safely: reject them whatever the policy says. */
function validId(pc: ProposedContext, seen: Set<number>): boolean {
  const ok = pc.id % 2 === 1 && pc.id <= 255 && !seen.has(pc.id) && pc.abstractSyntax.length > 0;
  seen.add(pc.id);
  return ok;
}

/** Builds the A-ASSOCIATE-AC and the acceptor's table of negotiated contexts. */
export function buildAcceptance(
  rq: AssociateRqPdu,
  decision: Extract<AssociationDecision, { accept: true }>,
  ourMaxPdu: number,
): { ac: AssociateAcPdu; contexts: NegotiatedContext[] } {
  const seen = new Set<number>();
  const roleAnswers = new Map((decision.roles ?? []).map((r) => [r.sopClassUid, r]));
  const proposedRoles = new Map(rq.userInfo.roles.map((r) => [r.sopClassUid, r]));
  const items: AcceptedContextItem[] = [];
  const contexts: NegotiatedContext[] = [];
  rq.contexts.forEach((pc, i) => {
    const d = decision.contexts[i] ?? { reject: 'no-reason' as const };
    let result: PresentationResultCode = 'reject' in d ? REJECTION_CODE[d.reject] : PresentationResult.Acceptance;
    let ts = 'transferSyntax' in d ? d.transferSyntax : '';
    if (!validId(pc, seen) || (result === PresentationResult.Acceptance && !pc.transferSyntaxes.includes(ts))) {
      result = PresentationResult.NoReason;
      ts = '';
    }
    items.push({ id: pc.id, result, transferSyntax: ts });
    const role = resolveRoles(proposedRoles.get(pc.abstractSyntax), roleAnswers.get(pc.abstractSyntax));
    contexts.push({ id: pc.id, abstractSyntax: pc.abstractSyntax, accepted: result === PresentationResult.Acceptance, result, transferSyntax: ts, ...role });
  });
  const roles = rq.userInfo.roles.map((p) => {
    const a = roleAnswers.get(p.sopClassUid);
    return { sopClassUid: p.sopClassUid, scu: !!(a?.scu && p.scu), scp: !!(a?.scp && p.scp) };
  });
  const ac: AssociateAcPdu = {
    type: PduType.AssociateAc,
    protocolVersion: 1,
    calledAe: rq.calledAe,
    callingAe: rq.callingAe,
    applicationContext: DICOM_APPLICATION_CONTEXT,
    contexts: items,
    userInfo: {
      maxPduLength: ourMaxPdu,
      implementationClassUid: IMPLEMENTATION_CLASS_UID,
      implementationVersionName: IMPLEMENTATION_VERSION_NAME,
      // We perform and invoke one operation at a time: answer 1/1 whatever was proposed.
      asyncOps: rq.userInfo.asyncOps ? { invoked: 1, performed: 1 } : undefined,
      roles,
      extended: decision.extended ?? [],
      commonExtended: [],
      userIdentityResponse: rq.userInfo.userIdentity?.positiveResponseRequested ? decision.userIdentityResponse : undefined,
    },
  };
  return { ac, contexts };
}

/** PS3.7 D.3.3.4 table D.3-x: without a role item the requestor is SCU only. */
function resolveRoles(proposed: RoleSelection | undefined, answer: RoleSelection | undefined): { requestorIsScu: boolean; requestorIsScp: boolean } {
  if (!proposed) return { requestorIsScu: true, requestorIsScp: false };
  if (!answer) return { requestorIsScu: true, requestorIsScp: false };
  return { requestorIsScu: proposed.scu && answer.scu, requestorIsScp: proposed.scp && answer.scp };
}

export interface ProposedContextInput {
  readonly abstractSyntax: string;
  readonly transferSyntaxes: readonly string[];
}

export interface AssociateRequestOptions {
  readonly callingAe: string;
  readonly calledAe: string;
  readonly contexts: readonly ProposedContextInput[];
  readonly roles?: readonly RoleSelection[];
  readonly maxPdu?: number;
  readonly userIdentity?: UserIdentityRq;
  readonly extended?: readonly SopClassExtended[];
  readonly commonExtended?: readonly SopClassCommonExtended[];
}

export function buildRequest(o: AssociateRequestOptions): AssociateRqPdu {
  if (o.contexts.length === 0 || o.contexts.length > 128) throw new RangeError(`an association proposes 1 to 128 presentation contexts, not ${o.contexts.length}`);
  return {
    type: PduType.AssociateRq,
    protocolVersion: 1,
    calledAe: o.calledAe,
    callingAe: o.callingAe,
    applicationContext: DICOM_APPLICATION_CONTEXT,
    contexts: o.contexts.map((c, i) => ({ id: 2 * i + 1, abstractSyntax: c.abstractSyntax, transferSyntaxes: c.transferSyntaxes })),
    userInfo: {
      maxPduLength: o.maxPdu ?? DEFAULT_MAX_PDU_LENGTH,
      implementationClassUid: IMPLEMENTATION_CLASS_UID,
      implementationVersionName: IMPLEMENTATION_VERSION_NAME,
      roles: o.roles ?? [],
      extended: o.extended ?? [],
      commonExtended: o.commonExtended ?? [],
      userIdentity: o.userIdentity,
    },
  };
}

/** The requestor's table of negotiated contexts from its RQ and the peer's AC. */
export function contextsFromAcceptance(rq: AssociateRqPdu, ac: AssociateAcPdu): NegotiatedContext[] {
  const answers = new Map(ac.contexts.map((c) => [c.id, c]));
  const acRoles = new Map(ac.userInfo.roles.map((r) => [r.sopClassUid, r]));
  const rqRoles = new Map(rq.userInfo.roles.map((r) => [r.sopClassUid, r]));
  return rq.contexts.map((pc) => {
    const a = answers.get(pc.id);
    const accepted = a?.result === PresentationResult.Acceptance && pc.transferSyntaxes.includes(a.transferSyntax);
    return {
      id: pc.id, abstractSyntax: pc.abstractSyntax, accepted,
      result: a ? a.result : PresentationResult.NoReason,
      transferSyntax: accepted ? a!.transferSyntax : '',
      ...resolveRoles(rqRoles.get(pc.abstractSyntax), acRoles.get(pc.abstractSyntax)),
    };
  });
}
