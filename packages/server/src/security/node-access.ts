// DICOM node control as data: which DIMSE service needs which node right, what a calling AE
// not configured as a node may do, and who a calling AE is (AE title and, optionally, source
// address). The DIMSE door asks `decideNodeAccess` at association time; nothing else decides.
import net from 'node:net';
import { isStorageSopClass, StorageCommitmentPushModelSOPClass, VerificationSOPClass } from '@loire/dicom';
import { QueryRetrieve } from '@loire/dicom-net';
import type { DicomAccessConfig, DicomNode } from '../config/config.js';
import type { Permission } from './permissions.js';

export const NODE_RIGHTS = ['store', 'query', 'retrieve'] as const;
export type NodeRight = (typeof NODE_RIGHTS)[number];
export type NodeRights = Readonly<Record<NodeRight, boolean>>;

export type DimseService = 'C-ECHO' | 'C-STORE' | 'C-FIND' | 'C-MOVE' | 'C-GET' | 'N-ACTION storage commitment';

/** The node right each DIMSE service needs (null: any accepted peer may use it). */
export const DIMSE_SERVICE_RIGHT: Readonly<Record<DimseService, NodeRight | null>> = {
  'C-ECHO': null,
  'C-STORE': 'store',
  // Commitment is asked by whoever sent the objects: it belongs with storage (PS3.4 J.1).
  'N-ACTION storage commitment': 'store',
  'C-FIND': 'query',
  'C-MOVE': 'retrieve',
  'C-GET': 'retrieve',
};

/** The user permission of the matrix in permissions.ts that each node right stands for (audit, console). */
export const NODE_RIGHT_PERMISSION: Readonly<Record<NodeRight, Permission>> = {
  store: 'store',
  query: 'query',
  retrieve: 'view',
};

/**
 * What a calling AE that is no configured node may do when dicomAccess.strict is off: send
 * objects (modalities are often added before anyone configures them), never read patient data.
 */
export const UNKNOWN_NODE_RIGHTS: NodeRights = { store: true, query: false, retrieve: false };

const SERVICE_OF_ABSTRACT_SYNTAX: ReadonlyMap<string, DimseService> = new Map([
  [VerificationSOPClass, 'C-ECHO'],
  [StorageCommitmentPushModelSOPClass, 'N-ACTION storage commitment'],
  [QueryRetrieve.PatientRootFind, 'C-FIND'],
  [QueryRetrieve.StudyRootFind, 'C-FIND'],
  [QueryRetrieve.PatientRootMove, 'C-MOVE'],
  [QueryRetrieve.StudyRootMove, 'C-MOVE'],
  [QueryRetrieve.PatientRootGet, 'C-GET'],
  [QueryRetrieve.StudyRootGet, 'C-GET'],
]);

/** The DIMSE service a presentation context's abstract syntax opens, or undefined if we serve none. */
export function serviceOfAbstractSyntax(abstractSyntax: string): DimseService | undefined {
  return SERVICE_OF_ABSTRACT_SYNTAX.get(abstractSyntax) ?? (isStorageSopClass(abstractSyntax) ? 'C-STORE' : undefined);
}

const networks = new WeakMap<DicomNode, net.BlockList>();

function allowedSources(node: DicomNode): net.BlockList {
  let list = networks.get(node);
  if (!list) {
    list = new net.BlockList();
    for (const entry of node.hosts ?? []) {
      const [address = '', prefix] = entry.split('/');
      const family = net.isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) list.addAddress(address, family);
      else list.addSubnet(address, Number(prefix), family);
    }
    networks.set(node, list);
  }
  return list;
}

/** Whether `remoteAddress` is one the node may call from (IPv4-mapped IPv6 addresses count as IPv4). */
export function callsFromAllowedAddress(node: DicomNode, remoteAddress: string): boolean {
  if (!node.hosts) return true;
  const list = allowedSources(node);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  if (mapped?.[1]) return list.check(mapped[1], 'ipv4');
  return list.check(remoteAddress, net.isIP(remoteAddress) === 6 ? 'ipv6' : 'ipv4');
}

/** The configured node a calling AE title and source address identify (the first that matches both). */
export function identifyNode(nodes: readonly DicomNode[], callingAe: string, remoteAddress: string): DicomNode | undefined {
  const ae = callingAe.trim();
  return nodes.find((n) => n.aeTitle === ae && callsFromAllowedAddress(n, remoteAddress));
}

export function rightsOf(node: DicomNode | undefined): NodeRights {
  return node ? node.permissions : UNKNOWN_NODE_RIGHTS;
}

/** Whether `node` may use `service`. */
export function mayUse(node: DicomNode | undefined, service: DimseService): boolean {
  const right = DIMSE_SERVICE_RIGHT[service];
  return right === null || rightsOf(node)[right];
}

/**
 * For one proposed context: permitted (services we do not serve pass too, for the SOP class
 * negotiation to refuse), refused, or — for a storage SOP class proposed by a node that may
 * retrieve but not store — accepted only with the requestor as Storage SCP (C-GET sub-operations,
 * PS3.4 C.4.3.3 and PS3.7 D.3.3.4), never as SCU.
 */
export type ContextAccess = 'permitted' | 'refused' | 'c-get-receiver-only';

export type NodeAccessDecision =
  | {
    readonly accept: true;
    readonly node?: DicomNode;
    /** One answer per proposed context, in order. */
    readonly contexts: readonly ContextAccess[];
  }
  | { readonly accept: false; readonly reason: 'calling-ae-not-recognized' | 'no-permitted-service'; readonly message: string };

/**
 * Decides at association time (PS3.8 7.1): in strict mode an unknown calling AE is refused;
 * otherwise each proposed context is permitted or refused by the node's rights, and an
 * association in which every context is refused for want of rights is refused as a whole.
 */
export function decideNodeAccess(
  nodes: readonly DicomNode[],
  access: DicomAccessConfig,
  rq: {
    callingAe: string;
    remoteAddress: string;
    abstractSyntaxes: readonly string[];
    /** SOP classes for which the requestor proposes the SCP role (SCP/SCU Role Selection items). */
    scpRoleProposed?: ReadonlySet<string>;
  },
): NodeAccessDecision {
  const node = identifyNode(nodes, rq.callingAe, rq.remoteAddress);
  if (!node && access.strict) {
    return { accept: false, reason: 'calling-ae-not-recognized', message: `calling AE title "${rq.callingAe.trim()}" from ${rq.remoteAddress} is not a configured DICOM node (dicomAccess.strict)` };
  }
  const contexts = rq.abstractSyntaxes.map((a): ContextAccess => {
    const service = serviceOfAbstractSyntax(a);
    if (service === undefined || mayUse(node, service)) return 'permitted';
    if (service === 'C-STORE' && mayUse(node, 'C-GET') && rq.scpRoleProposed?.has(a)) return 'c-get-receiver-only';
    return 'refused';
  });
  const refusedForRights = rq.abstractSyntaxes.filter((_, i) => contexts[i] === 'refused');
  if (refusedForRights.length > 0 && refusedForRights.length === rq.abstractSyntaxes.length) {
    const services = [...new Set(refusedForRights.map((a) => serviceOfAbstractSyntax(a)))].join(', ');
    return node
      ? { accept: false, reason: 'no-permitted-service', message: `node "${node.name}" (${node.aeTitle}) has no right to ${services}` }
      : { accept: false, reason: 'calling-ae-not-recognized', message: `calling AE title "${rq.callingAe.trim()}" from ${rq.remoteAddress} is not a configured DICOM node, and unknown nodes may not use ${services}` };
  }
  return { accept: true, ...(node ? { node } : {}), contexts };
}

/**
 * Whether `caller` may name `destination` as C-MOVE destination: the AE titles in its
 * permissions.moveDestinations ('*': any configured node), by default only itself.
 */
export function mayMoveTo(caller: DicomNode | undefined, destination: DicomNode): boolean {
  if (!caller || !caller.permissions.retrieve) return false;
  const allowed = caller.permissions.moveDestinations ?? [caller.aeTitle];
  return allowed.includes('*') || allowed.includes(destination.aeTitle);
}
