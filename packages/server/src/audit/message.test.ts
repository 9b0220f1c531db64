// The XML audit message (PS3.15 A.5.1), read back by an independent XML parser (Python's).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { badCredentials, studyDeleted, userAuthentication, userChanged } from './builders.js';
import { AUDIT_EVENT_KINDS, EVENT_KINDS, Outcome, type AuditEvent } from './event.js';
import { auditMessageXml } from './message.js';

interface XmlElement { name: string; attributes: Record<string, string>; text: string; children: XmlElement[] }

const PARSE = `
import json, sys, xml.dom.minidom as m
def walk(e):
    return {"name": e.tagName, "attributes": dict(e.attributes.items()),
            "text": "".join(c.data for c in e.childNodes if c.nodeType == c.TEXT_NODE),
            "children": [walk(c) for c in e.childNodes if c.nodeType == c.ELEMENT_NODE]}
print(json.dumps(walk(m.parseString(sys.stdin.buffer.read()).documentElement)))
`;

function parseXml(xml: string): XmlElement {
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', PARSE], { input: xml, encoding: 'utf8' })) as XmlElement;
}

const time = new Date('2026-03-04T05:06:07.089Z');
const source = { sourceId: 'LOIRE', siteId: 'CHU' };

describe('audit message XML', () => {
  it('follows the AuditMessage structure: event, participants, source, objects', () => {
    const event: AuditEvent = {
      kind: 'query', outcome: Outcome.Success,
      participants: [{ userId: 'READER', isRequestor: true, address: '10.0.0.7', role: 'source' }, { userId: 'LOIRE', isRequestor: false, address: 'pacs.example' }],
      patients: [{ id: 'P1', name: 'DOE^JANE' }],
      query: { kind: 'sop-class', target: '1.2.840.10008.5.1.4.1.2.2.1', query: Buffer.from([8, 0, 0x52, 0, 6, 0, 0, 0, 0x53, 0x54, 0x55, 0x44, 0x59, 0x20]), transferSyntaxUid: '1.2.840.10008.1.2' },
      summary: {},
    };
    const root = parseXml(auditMessageXml(event, time, source));
    expect(root.name).toBe('AuditMessage');
    expect(root.children.map((c) => c.name)).toEqual([
      'EventIdentification', 'ActiveParticipant', 'ActiveParticipant', 'AuditSourceIdentification',
      'ParticipantObjectIdentification', 'ParticipantObjectIdentification',
    ]);
    const [identification, requestor, responder, auditSource, patient, query] = root.children as [XmlElement, XmlElement, XmlElement, XmlElement, XmlElement, XmlElement];
    expect(identification.attributes).toEqual({ EventActionCode: 'E', EventDateTime: '2026-03-04T05:06:07.089Z', EventOutcomeIndicator: '0' });
    expect(identification.children[0]).toMatchObject({ name: 'EventID', attributes: { 'csd-code': '110112', codeSystemName: 'DCM', originalText: 'Query' } });
    expect(requestor.attributes).toEqual({ UserID: 'READER', UserIsRequestor: 'true', NetworkAccessPointID: '10.0.0.7', NetworkAccessPointTypeCode: '2' });
    expect(requestor.children[0]!.attributes).toEqual({ 'csd-code': '110153', codeSystemName: 'DCM', originalText: 'Source Role ID' });
    expect(responder.attributes).toMatchObject({ UserIsRequestor: 'false', NetworkAccessPointTypeCode: '1' });
    expect(auditSource.attributes).toEqual({ AuditEnterpriseSiteID: 'CHU', AuditSourceID: 'LOIRE' });
    expect(patient.attributes).toEqual({ ParticipantObjectID: 'P1', ParticipantObjectTypeCode: '1', ParticipantObjectTypeCodeRole: '1' });
    expect(patient.children.map((c) => [c.name, c.text || c.attributes['csd-code']])).toEqual([['ParticipantObjectIDTypeCode', '2'], ['ParticipantObjectName', 'DOE^JANE']]);
    expect(query.attributes).toEqual({ ParticipantObjectID: '1.2.840.10008.5.1.4.1.2.2.1', ParticipantObjectTypeCode: '2', ParticipantObjectTypeCodeRole: '3' });
    expect(query.children.map((c) => c.name)).toEqual(['ParticipantObjectIDTypeCode', 'ParticipantObjectQuery', 'ParticipantObjectDetail']);
    expect(Buffer.from(query.children[1]!.text, 'base64')).toEqual(Buffer.from(event.query!.query));
    expect(Buffer.from(query.children[2]!.attributes.value!, 'base64').toString()).toBe('1.2.840.10008.1.2');
  });

  it('escapes what users type and replaces characters XML cannot carry', () => {
    const event = userAuthentication({ type: 'login', actor: { username: 'a"<b>&\'c\u0001' }, aeTitle: 'LOIRE', outcome: Outcome.MinorFailure, reason: 'bad </EventIdentification> password' });
    const root = parseXml(auditMessageXml(event, time, source));
    expect(root.children[1]!.attributes.UserID).toBe('a"<b>&\'c\ufffd');
    expect(root.children[0]!.children.find((c) => c.name === 'EventOutcomeDescription')!.text).toBe('bad </EventIdentification> password');
  });

  it('every event kind and builder yields a well-formed message with its EventID and EventTypeCode', () => {
    const actor = { username: 'admin', address: '127.0.0.1' };
    const built = [
      userAuthentication({ type: 'logout', actor, aeTitle: 'LOIRE' }),
      userChanged({ actor, aeTitle: 'LOIRE', username: 'erin', change: 'role radiologist added' }),
      badCredentials({ actor: { username: 'anonymous' }, aeTitle: 'LOIRE', reason: 'expired token', resource: '/dicom-web/studies' }),
      studyDeleted({ actor, aeTitle: 'LOIRE', studyInstanceUid: '1.2.3', patient: { id: 'P1' }, sopClasses: [{ uid: '1.2.840.10008.5.1.4.1.1.2', count: 12 }] }),
      ...AUDIT_EVENT_KINDS.map((kind): AuditEvent => ({ kind, outcome: Outcome.Success, participants: [{ userId: 'x', isRequestor: true }], summary: {} })),
    ];
    for (const event of built) {
      const root = parseXml(auditMessageXml(event, time, source));
      const id = root.children[0]!.children[0]!;
      expect(id.attributes['csd-code']).toBe(EVENT_KINDS[event.kind].code);
      const type = root.children[0]!.children.find((c) => c.name === 'EventTypeCode');
      expect(type !== undefined).toBe(event.type !== undefined);
    }
    const deleted = parseXml(auditMessageXml(built[3]!, time, source));
    const study = deleted.children.filter((c) => c.name === 'ParticipantObjectIdentification')[1]!;
    expect(study.children.map((c) => [c.name, c.attributes['csd-code'] ?? c.attributes.UID])).toEqual([
      ['ParticipantObjectIDTypeCode', '110180'], ['SOPClass', '1.2.840.10008.5.1.4.1.1.2'],
    ]);
    expect(study.children[1]!.attributes.NumberOfInstances).toBe('12');
  });
});
