import { describe, expect, it } from 'vitest';
import { StorageCommitmentPushModelSOPClass, VerificationSOPClass } from '@loire/dicom';
import { QueryRetrieve } from '@loire/dicom-net';
import { dicomNodeSchema, type DicomNodeInput } from '../config/config.js';
import { decideNodeAccess, identifyNode, mayMoveTo, serviceOfAbstractSyntax, UNKNOWN_NODE_RIGHTS } from './node-access.js';

const CTImageStorage = '1.2.840.10008.5.1.4.1.1.2';
const ModalityWorklistFind = '1.2.840.10008.5.1.4.31';
const node = (n: DicomNodeInput) => dicomNodeSchema.parse(n);
const nodes = [
  node({ name: 'ws', aeTitle: 'WS', host: '10.0.0.5', port: 104, hosts: ['10.0.0.0/24', '2001:db8::/32'] }),
  node({ name: 'ws-other-site', aeTitle: 'WS', hosts: ['192.168.7.7'], permissions: { query: false } }),
  node({ name: 'modality', aeTitle: 'CT', host: '10.0.1.9', port: 104, permissions: { query: false, retrieve: false } }),
  node({ name: 'viewer', aeTitle: 'VIEWER', host: '10.0.0.6', port: 104, permissions: { moveDestinations: ['WS'] } }),
  node({ name: 'router', aeTitle: 'ROUTER', host: '10.0.0.7', port: 104, permissions: { moveDestinations: ['*'] } }),
];
const lenient = { strict: false };
const strict = { strict: true };
const ask = (callingAe: string, remoteAddress: string, ...abstractSyntaxes: string[]) => ({ callingAe, remoteAddress, abstractSyntaxes });

describe('DICOM node control', () => {
  it('maps abstract syntaxes to DIMSE services', () => {
    expect(serviceOfAbstractSyntax(VerificationSOPClass)).toBe('C-ECHO');
    expect(serviceOfAbstractSyntax(CTImageStorage)).toBe('C-STORE');
    expect(serviceOfAbstractSyntax(QueryRetrieve.StudyRootFind)).toBe('C-FIND');
    expect(serviceOfAbstractSyntax(QueryRetrieve.PatientRootMove)).toBe('C-MOVE');
    expect(serviceOfAbstractSyntax(QueryRetrieve.StudyRootGet)).toBe('C-GET');
    expect(serviceOfAbstractSyntax(StorageCommitmentPushModelSOPClass)).toBe('N-ACTION storage commitment');
    expect(serviceOfAbstractSyntax(ModalityWorklistFind)).toBeUndefined(); // not served: SOP class negotiation refuses it
  });

  it('identifies a node by AE title and source address, IPv4-mapped addresses included', () => {
    expect(identifyNode(nodes, 'WS  ', '10.0.0.200')?.name).toBe('ws');
    expect(identifyNode(nodes, 'WS', '::ffff:10.0.0.200')?.name).toBe('ws');
    expect(identifyNode(nodes, 'WS', '2001:db8::1')?.name).toBe('ws');
    expect(identifyNode(nodes, 'WS', '192.168.7.7')?.name).toBe('ws-other-site');
    expect(identifyNode(nodes, 'WS', '10.0.9.1')).toBeUndefined();
    expect(identifyNode(nodes, 'CT', '172.16.0.1')?.name).toBe('modality'); // no hosts: any address
  });

  it('by default lets unknown AEs store and echo but not query or retrieve', () => {
    expect(UNKNOWN_NODE_RIGHTS).toEqual({ store: true, query: false, retrieve: false });
    expect(decideNodeAccess(nodes, lenient, ask('NEWCT', '10.9.9.9', CTImageStorage, VerificationSOPClass))).toEqual({ accept: true, contexts: ['permitted', 'permitted'] });
    expect(decideNodeAccess(nodes, lenient, ask('NEWCT', '10.9.9.9', CTImageStorage, QueryRetrieve.StudyRootFind))).toMatchObject({ accept: true, contexts: ['permitted', 'refused'] });
    expect(decideNodeAccess(nodes, lenient, ask('NEWCT', '10.9.9.9', QueryRetrieve.StudyRootFind, QueryRetrieve.StudyRootMove)))
      .toMatchObject({ accept: false, reason: 'calling-ae-not-recognized' });
    // A known AE title calling from an address it may not use is an unknown node.
    expect(decideNodeAccess(nodes, lenient, ask('WS', '10.0.9.1', QueryRetrieve.StudyRootFind))).toMatchObject({ accept: false, reason: 'calling-ae-not-recognized' });
  });

  it('in strict mode refuses every unknown calling AE', () => {
    expect(decideNodeAccess(nodes, strict, ask('NEWCT', '10.9.9.9', CTImageStorage))).toMatchObject({ accept: false, reason: 'calling-ae-not-recognized' });
    expect(decideNodeAccess(nodes, strict, ask('CT', '10.9.9.9', CTImageStorage))).toMatchObject({ accept: true, contexts: ['permitted'] });
  });

  it('refuses the services a known node has no right to', () => {
    expect(decideNodeAccess(nodes, strict, ask('CT', '10.0.1.9', QueryRetrieve.StudyRootFind)))
      .toMatchObject({ accept: false, reason: 'no-permitted-service', message: expect.stringMatching(/modality.*C-FIND/) });
    expect(decideNodeAccess(nodes, strict, ask('CT', '10.0.1.9', VerificationSOPClass, QueryRetrieve.StudyRootFind, QueryRetrieve.StudyRootGet)))
      .toMatchObject({ accept: true, contexts: ['permitted', 'refused', 'refused'] });
    expect(decideNodeAccess(nodes, strict, ask('WS', '192.168.7.7', QueryRetrieve.StudyRootMove, QueryRetrieve.StudyRootFind)))
      .toMatchObject({ accept: true, contexts: ['permitted', 'refused'] });
  });

  it('accepts storage contexts from a node that may retrieve but not store only as C-GET receiver', () => {
    const viewer = node({ name: 'viewer', aeTitle: 'VIEWONLY', permissions: { store: false } });
    const get = (...scpRoles: string[]) => decideNodeAccess([viewer], strict,
      { ...ask('VIEWONLY', '10.0.0.1', QueryRetrieve.StudyRootGet, CTImageStorage), scpRoleProposed: new Set(scpRoles) });
    expect(get(CTImageStorage)).toMatchObject({ accept: true, contexts: ['permitted', 'c-get-receiver-only'] });
    expect(get()).toMatchObject({ accept: true, contexts: ['permitted', 'refused'] });
    expect(decideNodeAccess([viewer], strict, { ...ask('VIEWONLY', '10.0.0.1', CTImageStorage), scpRoleProposed: new Set([CTImageStorage]) }))
      .toMatchObject({ accept: true, contexts: ['c-get-receiver-only'] });
  });

  it('lets a node move only to the destinations it names, by default itself', () => {
    const [ws, , modality, viewer, router] = nodes;
    expect(mayMoveTo(ws, ws!)).toBe(true);
    expect(mayMoveTo(ws, viewer!)).toBe(false);
    expect(mayMoveTo(viewer, ws!)).toBe(true);
    expect(mayMoveTo(viewer, viewer!)).toBe(false);
    expect(mayMoveTo(router, modality!)).toBe(true);
    expect(mayMoveTo(modality, modality!)).toBe(false); // no retrieve right
    expect(mayMoveTo(undefined, ws!)).toBe(false);
  });
});
