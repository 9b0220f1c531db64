import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { DicomJson } from './json.js';
import { escapeXml, NATIVE_DICOM_MODEL_NAMESPACE, toNativeDicomModel } from './xml.js';

// An independent reader: Python's XML parser walks the document and writes back the DICOM JSON
// model, so that the test checks the structure PS3.19 A.1 defines, not our own string layout.
const PYTHON_READER = String.raw`
import json, sys, xml.etree.ElementTree as ET
NS = '{${NATIVE_DICOM_MODEL_NAMESPACE}}'
COMPONENTS = ['FamilyName', 'GivenName', 'MiddleName', 'NamePrefix', 'NameSuffix']
def numbered(parent, name):
    children = parent.findall(NS + name)
    assert [int(c.get('number')) for c in children] == list(range(1, len(children) + 1)), name + ' numbers'
    return children
def dataset(node):
    out = {}
    for attr in node:
        assert attr.tag == NS + 'DicomAttribute', attr.tag
        element = {'vr': attr.get('vr')}
        for extra in ('keyword', 'privateCreator'):
            if attr.get(extra) is not None: element['@' + extra] = attr.get(extra)
        bulk = attr.find(NS + 'BulkData')
        inline = attr.find(NS + 'InlineBinary')
        if bulk is not None: element['BulkDataURI'] = bulk.get('uri')
        elif inline is not None: element['InlineBinary'] = inline.text
        elif element['vr'] == 'SQ':
            items = numbered(attr, 'Item')
            if items: element['Value'] = [dataset(i) for i in items]
        elif element['vr'] == 'PN':
            names = numbered(attr, 'PersonName')
            if names:
                element['Value'] = []
                for pn in names:
                    value = {}
                    for group in pn:
                        parts = {c.tag[len(NS):]: c.text for c in group}
                        last = max(COMPONENTS.index(k) for k in parts)
                        value[group.tag[len(NS):]] = '^'.join(parts.get(c) or '' for c in COMPONENTS[:last + 1])
                    element['Value'].append(value)
        else:
            values = numbered(attr, 'Value')
            if values: element['Value'] = [v.text for v in values]
        assert attr.get('tag') not in out
        out[attr.get('tag')] = element
    return out
root = ET.fromstring(sys.stdin.buffer.read())
assert root.tag == NS + 'NativeDicomModel', root.tag
print(json.dumps(dataset(root)))
`;

function readWithPython(xml: string): unknown {
  const result = spawnSync('/usr/bin/python3', ['-c', PYTHON_READER], { input: Buffer.from(xml, 'utf8'), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`python could not read the document: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

describe('Native DICOM Model XML (PS3.19 A.1)', () => {
  it('writes every kind of attribute so that an independent XML reader recovers the data set', () => {
    const json: DicomJson = {
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' }] },
      '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
      '00080060': { vr: 'CS', Value: ['CT'] },
      '00081030': { vr: 'LO', Value: ['Thorax <contrast> & "more"'] },
      '00280030': { vr: 'DS', Value: [0.5, 0.25] },
      '00280010': { vr: 'US', Value: [512] },
      '00200037': { vr: 'DS', Value: [1, null, 0, 0, 1, 0] },
      '00081090': { vr: 'LO' },
      '00091010': { vr: 'LO', Value: ['private value'] },
      '00090010': { vr: 'LO', Value: ['ACME 1.0'] },
      '00081115': { vr: 'SQ', Value: [
        { '0020000E': { vr: 'UI', Value: ['1.2.3'] }, '00081199': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: ['1.2.3.4'] } }] } },
        {},
      ] },
      '7FE00010': { vr: 'OW', BulkDataURI: 'http://host/dicom-web/studies/1/series/2/instances/3/bulkdata/7FE00010?a=1&b=2' },
      '00282000': { vr: 'OB', InlineBinary: 'AAECAw==' },
      '00080008': { vr: 'CS', Value: ['ORIGINAL', 'PRIMARY'] },
    };
    expect(readWithPython(toNativeDicomModel(json))).toEqual({
      '00080005': { vr: 'CS', '@keyword': 'SpecificCharacterSet', Value: ['ISO_IR 192'] },
      '00080008': { vr: 'CS', '@keyword': 'ImageType', Value: ['ORIGINAL', 'PRIMARY'] },
      '00080060': { vr: 'CS', '@keyword': 'Modality', Value: ['CT'] },
      '00081030': { vr: 'LO', '@keyword': 'StudyDescription', Value: ['Thorax <contrast> & "more"'] },
      '00081090': { vr: 'LO', '@keyword': 'ManufacturerModelName' },
      '00081115': { vr: 'SQ', '@keyword': 'ReferencedSeriesSequence', Value: [
        {
          '0020000E': { vr: 'UI', '@keyword': 'SeriesInstanceUID', Value: ['1.2.3'] },
          '00081199': { vr: 'SQ', '@keyword': 'ReferencedSOPSequence', Value: [{ '00081155': { vr: 'UI', '@keyword': 'ReferencedSOPInstanceUID', Value: ['1.2.3.4'] } }] },
        },
        {},
      ] },
      '00090010': { vr: 'LO', Value: ['ACME 1.0'] },
      '00091010': { vr: 'LO', '@privateCreator': 'ACME 1.0', Value: ['private value'] },
      '00100010': { vr: 'PN', '@keyword': 'PatientName', Value: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' }] },
      '00200037': { vr: 'DS', '@keyword': 'ImageOrientationPatient', Value: ['1', null, '0', '0', '1', '0'] },
      '00280010': { vr: 'US', '@keyword': 'Rows', Value: ['512'] },
      '00280030': { vr: 'DS', '@keyword': 'PixelSpacing', Value: ['0.5', '0.25'] },
      '00282000': { vr: 'OB', '@keyword': 'ICCProfile', InlineBinary: 'AAECAw==' },
      '7FE00010': { vr: 'OW', '@keyword': 'PixelData', BulkDataURI: 'http://host/dicom-web/studies/1/series/2/instances/3/bulkdata/7FE00010?a=1&b=2' },
    });
  });

  it('writes attributes in tag order and keeps PN components in their positions', () => {
    const xml = toNativeDicomModel({
      '00100020': { vr: 'LO', Value: ['P1'] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^^Q^Dr' }] },
    });
    expect(xml.indexOf('tag="00100010"')).toBeLessThan(xml.indexOf('tag="00100020"'));
    expect(xml).toContain('<Alphabetic><FamilyName>Doe</FamilyName><MiddleName>Q</MiddleName><NamePrefix>Dr</NamePrefix></Alphabetic>');
    expect(readWithPython(xml)).toMatchObject({ '00100010': { Value: [{ Alphabetic: 'Doe^^Q^Dr' }] } });
  });

  it('replaces characters XML cannot carry instead of writing an unreadable document', () => {
    expect(escapeXml('a\u0000b\u001bc\td')).toBe('a\uFFFDb\uFFFDc\td');
    const xml = toNativeDicomModel({ '00081030': { vr: 'LO', Value: ['bad\u0001text\rline'] } });
    expect(readWithPython(xml)).toMatchObject({ '00081030': { Value: ['bad\uFFFDtext\rline'] } });
  });

  it('refuses keys that are not tags', () => {
    expect(() => toNativeDicomModel({ PatientName: { vr: 'PN' } })).toThrow(/not a tag/);
  });
});
