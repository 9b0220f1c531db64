// Acceptance: for every storable sample, Loire's WADO-RS metadata equals what Orthanc's DICOMweb
// plugin answers for the same file, attribute by attribute, except the differences listed in
// KNOWN_DIFFERENCES below, each checked against the standard. BulkDataURI values are compared
// for presence only: each server names its own bulk data resources (PS3.18 §8.7.3.3: a URI
// is opaque to the client).
import { readFileSync } from 'node:fs';
import { lookupTag } from '@loire/dicom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFile } from '../cli/import.js';
import type { DicomJson, DicomJsonElement } from '../index/index.js';
import { ORTHANC_DICOMWEB_PLUGIN, startOrthanc, type Orthanc } from '../interop/orthanc.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { samplePath, storableSamples, type SampleEntry } from '../testing/samples.js';

interface Difference {
  sample: string;
  /** Tag path: tag, item index, tag… */
  path: string[];
  /** What differs: the element's presence, its VR, or its value. */
  aspect: 'presence' | 'vr' | 'value';
  loire: DicomJsonElement | undefined;
  orthanc: DicomJsonElement | undefined;
  /** The instance's Specific Character Set values, as Loire reports them. */
  charset: string;
}

interface KnownDifference {
  reason: string;
  applies(d: Difference): boolean;
}

const tagOf = (d: Difference): string => d.path[d.path.length - 1]!;
const strings = (e: DicomJsonElement | undefined): unknown[] => e?.Value ?? [];
const BINARY = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);

/** Files Orthanc refuses to store (so there is nothing to compare), with why. */
const REFUSED_BY_ORTHANC: Record<string, string> = {
  'modalities/us/GH364.dcm': 'Orthanc (dcmtk) cannot parse it; Loire reads it as a valid US image',
  'modalities/us-multiframe/DIRW0007': 'Orthanc (dcmtk) cannot parse it; Loire reads it as a valid multi-frame US image',
  'pydicom-test-files/SC_rgb_jpeg.dcm': 'Orthanc (dcmtk) cannot parse it; Loire reads it as a valid JPEG secondary capture',
  'pydicom-test-files/MR_truncated.dcm': 'truncated inside Pixel Data: both servers refuse it',
  'pydicom-test-files/rtplan_truncated.dcm': 'truncated inside a value: both servers refuse it',
};

/** Instances Orthanc stored but cannot find through its own DICOMweb routes. */
const NOT_FOUND_IN_ORTHANC: Record<string, string> = {
  'pydicom-test-files/badVR.dcm': 'Orthanc stores it but its WADO-RS answers 404 for the instance; Loire serves it',
};

const KNOWN_DIFFERENCES: KnownDifference[] = [
  {
    reason: 'Orthanc leaves Pixel Data out of the metadata of encapsulated (compressed) images and of some large native ones; '
      + 'Loire always offers a BulkDataURI for it, as PS3.18 §10.4.1.1.2 asks (bulk data replaced by a BulkDataURI, not dropped)',
    applies: (d) => d.aspect === 'presence' && tagOf(d) === '7FE00010' && d.orthanc === undefined && d.loire?.BulkDataURI !== undefined,
  },
  {
    reason: 'Orthanc leaves out sequences all of whose items are empty; Loire keeps them: the items exist in the object '
      + '(PS3.18 F.2.4 writes an empty item as {})',
    applies: (d) => d.aspect === 'presence' && d.orthanc === undefined && d.loire?.vr === 'SQ'
      && (d.loire.Value ?? []).length > 0 && (d.loire.Value as DicomJson[]).every((item) => Object.keys(item).length === 0),
  },
  {
    reason: 'Orthanc leaves out attributes encoded with VR UN; Loire keeps them, as InlineBinary/BulkDataURI (PS3.18 F.2.7), '
      + 'or with their dictionary VR when the tag is a standard one (PS3.5 6.2.2)',
    applies: (d) => d.aspect === 'presence' && d.orthanc === undefined && d.loire !== undefined
      && (d.loire.vr === 'UN' || UN_ENCODED.has(`${d.sample} ${tagOf(d)}`)),
  },
  {
    reason: 'Orthanc decodes byte 5Ch as "¥" in values of instances whose character set includes ISO 2022 IR 13 (JIS X 0201), '
      + 'so it neither splits multi-valued strings nor parses such numbers; the backslash is the value delimiter whatever '
      + 'the character set (PS3.5 6.1.2.5.3, 6.2), which Loire honours',
    applies: (d) => d.aspect === 'value' && /IR 13/.test(d.charset)
      && (strings(d.orthanc).some((v) => typeof v === 'string' && v.includes('¥')) || (strings(d.orthanc).length === 0 && strings(d.loire).length > 1)),
  },
  {
    reason: 'Orthanc mis-decodes the ideographic and phonetic groups of person names in Japanese instances (ISO 2022 IR 13 '
      + 'and IR 87, switched by escape sequences within the value, PS3.5 6.1.2.5.3 and annex H): "8E66^BgCO" for "古橋^大地"',
    applies: (d) => d.aspect === 'value' && d.loire?.vr === 'PN' && /IR (13|87)/.test(d.charset)
      && JSON.stringify(strings(d.loire).map((pn) => (pn as { Alphabetic?: string }).Alphabetic))
        === JSON.stringify(strings(d.orthanc).map((pn) => (pn as { Alphabetic?: string }).Alphabetic)),
  },
  {
    reason: 'the first value of Specific Character Set is empty (the default repertoire, PS3.3 C.12.1.1.2): Loire writes it as '
      + 'null (PS3.18 F.2.5), Orthanc drops it',
    applies: (d) => d.aspect === 'value' && tagOf(d) === '00080005' && strings(d.loire)[0] === null
      && JSON.stringify(strings(d.loire).slice(1)) === JSON.stringify(strings(d.orthanc)),
  },
  {
    reason: 'Orthanc writes an empty Alphabetic group ("") before a non-empty one; PS3.18 F.2.2 leaves empty groups out',
    applies: (d) => d.aspect === 'value' && d.loire?.vr === 'PN'
      && JSON.stringify(strings(d.loire)) === JSON.stringify(strings(d.orthanc).map(withoutEmptyGroups)),
  },
  {
    reason: 'a person name made only of delimiters ("^^^^") is empty (PS3.5 6.2.1: trailing delimiters may be omitted); '
      + 'Orthanc returns the delimiters',
    applies: (d) => d.loire?.vr === 'PN' && d.loire.Value === undefined
      && strings(d.orthanc).every((pn) => Object.values(pn as object).every((g) => /^[\^= ]*$/.test(String(g)))),
  },
  {
    reason: 'leading and trailing spaces are padding in DA, TM, DT, LO, SH, CS… (PS3.5 6.2): Loire removes them, '
      + 'Orthanc keeps some',
    applies: (d) => d.aspect === 'value' && d.loire !== undefined && !['ST', 'LT', 'UT', 'PN'].includes(d.loire.vr)
      && JSON.stringify(strings(d.loire)) === JSON.stringify(strings(d.orthanc).map((v) => (typeof v === 'string' ? (v.trim() === '' ? null : v.trim()) : v))),
  },
  {
    reason: 'ST, LT and UT are single-valued: a backslash in them is text, not a delimiter (PS3.5 6.2); Orthanc splits it',
    applies: (d) => d.aspect === 'value' && ['ST', 'LT', 'UT'].includes(d.loire?.vr ?? '') && strings(d.loire).length === 1
      && strings(d.orthanc).join('\\') === strings(d.loire)[0],
  },
  {
    reason: 'tiny numbers (below 1e-15 in magnitude): Loire returns the value as encoded (FL/FD exactly, DS as written), '
      + 'Orthanc prints them as 0',
    applies: (d) => d.aspect === 'value' && ['FL', 'FD', 'DS'].includes(d.loire?.vr ?? '')
      && strings(d.loire).every((v, i) => v === strings(d.orthanc)[i] || (typeof v === 'number' && Math.abs(v) < 1e-15 && strings(d.orthanc)[i] === 0)),
  },
  {
    reason: 'private attributes encoded with VR UN: Orthanc gives them a VR from its own private dictionaries; Loire has none '
      + 'and keeps UN (PS3.5 6.2.2), its value offered as bulk data',
    applies: (d) => d.aspect === 'vr' && d.loire?.vr === 'UN' && parseInt(tagOf(d).slice(0, 4), 16) % 2 === 1,
  },
  {
    reason: 'trailing component delimiters of a person name carry nothing (PS3.5 6.2.1); Loire removes them, Orthanc keeps them',
    applies: (d) => d.aspect === 'value' && d.loire?.vr === 'PN'
      && JSON.stringify(strings(d.loire)) === JSON.stringify(strings(d.orthanc).map(withoutTrailingDelimiters)),
  },
  {
    reason: 'the File Meta Information (group 0002) is not part of the data set (PS3.10 §7.1); Orthanc includes it for a file '
      + 'whose meta group it could not separate',
    applies: (d) => d.aspect === 'presence' && d.loire === undefined && tagOf(d).startsWith('0002'),
  },
  {
    reason: 'attributes whose VR is "OB or OW" in an implicit VR file: PS3.5 A.1 leaves the choice open; Loire says OW, Orthanc OB',
    applies: (d) => d.aspect === 'vr' && ['OB', 'OW'].includes(d.loire?.vr ?? '') && ['OB', 'OW'].includes(d.orthanc?.vr ?? '')
      && (lookupTag(parseInt(tagOf(d), 16))?.vrs.includes('OW') ?? /^50[0-9A-F]{2}3000$/.test(tagOf(d))),
  },
  {
    reason: 'binary values: Loire always gives a BulkDataURI (PS3.18 F.2.6 lets the server choose); Orthanc inlines some '
      + 'OD/OF values and leaves Encapsulated Document without a value',
    applies: (d) => d.aspect === 'value' && BINARY.has(d.loire?.vr ?? '') && d.loire?.BulkDataURI !== undefined
      && d.orthanc?.BulkDataURI === undefined,
  },
  {
    reason: 'text values over 64 KiB stay in the stored object at ingest and are offered as bulk data (PS3.18 F.2.6); '
      + 'Orthanc inlines them',
    applies: (d) => d.aspect === 'value' && !BINARY.has(d.loire?.vr ?? 'OB') && d.loire?.BulkDataURI !== undefined && d.orthanc?.Value !== undefined,
  },
];

/** Standard attributes that these files encode with VR UN (Loire gives them their dictionary VR; Orthanc omits them). */
const UN_ENCODED = new Set([
  'modalities/pet-nm/2021-02-19-MalaterreCP246.dcm 00540081',
  'modalities/pet-nm/2021-02-19-MalaterreCP246.dcm 00541330',
  'modalities/us/Implicit-vr-us-palette.dcm 00281101',
  'modalities/us/Implicit-vr-us-palette.dcm 00281102',
  'modalities/us/Implicit-vr-us-palette.dcm 00281103',
]);

function withoutTrailingDelimiters(pn: unknown): unknown {
  if (typeof pn !== 'object' || pn === null) return pn;
  return Object.fromEntries(Object.entries(pn).map(([group, text]) => [group, String(text).replace(/\^+$/, '')]));
}

function withoutEmptyGroups(pn: unknown): unknown {
  if (typeof pn !== 'object' || pn === null) return pn;
  return Object.fromEntries(Object.entries(pn).filter(([, v]) => v !== ''));
}

let loire: TestLoire;
let orthanc: Orthanc;
const stored: SampleEntry[] = [];
const refusedByOrthanc = new Map<string, string>();
const refusedByLoire = new Map<string, string>();

beforeAll(async () => {
  [loire, orthanc] = await Promise.all([
    startTestLoire(),
    startOrthanc({ modalities: [], plugins: [ORTHANC_DICOMWEB_PLUGIN], extraConfig: { DicomWeb: { Enable: true, Root: '/dicom-web/' } } }),
  ]);
  for (const sample of storableSamples()) {
    const file = samplePath(sample);
    // Orthanc first: a file it refuses must not reach Loire either, or a later duplicate of the
    // same SOP Instance UID would be kept by one server and not the other.
    try {
      await orthanc.rest('POST', '/instances', readFileSync(file));
    } catch (error) {
      refusedByOrthanc.set(sample.path, (error as Error).message.slice(0, 300));
      continue;
    }
    try {
      await importFile(loire.server.archive.ingest, file);
      stored.push(sample);
    } catch (error) {
      refusedByLoire.set(sample.path, (error as Error).message);
    }
  }
}, 900_000);

afterAll(async () => {
  await Promise.all([loire?.stop(), orthanc?.stop()]);
});

async function metadata(url: string, headers: Record<string, string> = {}): Promise<{ status: number; json: DicomJson[] }> {
  const res = await fetch(url, { headers: { accept: 'application/dicom+json', ...headers } });
  if (res.status !== 200) return { status: res.status, json: [] };
  return { status: 200, json: (await res.json()) as DicomJson[] };
}

function compare(sample: string, charset: string, prefix: string[], a: DicomJson, b: DicomJson, out: Difference[]): void {
  for (const tag of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const path = [...prefix, tag];
    const x = a[tag];
    const y = b[tag];
    const difference = (aspect: Difference['aspect']): void => { out.push({ sample, path, aspect, loire: x, orthanc: y, charset }); };
    if (!x || !y) { difference('presence'); continue; }
    if (x.vr !== y.vr) { difference('vr'); continue; }
    if (x.vr === 'SQ') {
      const xi = (x.Value ?? []) as DicomJson[];
      const yi = (y.Value ?? []) as DicomJson[];
      if (xi.length !== yi.length) difference('value');
      else xi.forEach((item, i) => compare(sample, charset, [...path, String(i)], item, yi[i]!, out));
      continue;
    }
    if (x.BulkDataURI !== undefined && y.BulkDataURI !== undefined) continue;
    if (x.InlineBinary !== y.InlineBinary || x.BulkDataURI !== y.BulkDataURI || JSON.stringify(x.Value) !== JSON.stringify(y.Value)) difference('value');
  }
}

describe('WADO-RS metadata equals Orthanc DICOMweb plugin', () => {
  it('for every storable sample, except the differences listed with their reason', async () => {
    const loireBase = `http://127.0.0.1:${loire.httpPort}/dicom-web`;
    const orthancBase = `http://127.0.0.1:${orthanc.httpPort}/dicom-web`;
    expect([...refusedByOrthanc.keys()].sort()).toEqual(Object.keys(REFUSED_BY_ORTHANC).sort());
    expect([...refusedByLoire.keys()]).toEqual([]);

    // Both servers keep the first object received for a SOP Instance UID.
    const bySop = new Map<string, SampleEntry>();
    for (const s of stored) if (!bySop.has(s.sopInstanceUID!)) bySop.set(s.sopInstanceUID!, s);
    const unexplained: Difference[] = [];
    const explained = new Map<string, number>();
    const notFound: string[] = [];
    let compared = 0;
    for (const sample of bySop.values()) {
      const route = `/studies/${sample.studyUID}/series/${sample.seriesUID}/instances/${sample.sopInstanceUID}/metadata`;
      const [ours, theirs] = await Promise.all([metadata(loireBase + route, loire.httpHeaders), metadata(orthancBase + route)]);
      expect(ours.status, `${sample.path}: Loire ${route}`).toBe(200);
      if (theirs.status !== 200) { notFound.push(sample.path); continue; }
      expect(ours.json).toHaveLength(1);
      expect(theirs.json).toHaveLength(1);
      const charset = strings(ours.json[0]!['00080005']).join('\\');
      const differences: Difference[] = [];
      compare(sample.path, charset, [], ours.json[0]!, theirs.json[0]!, differences);
      for (const d of differences) {
        const known = KNOWN_DIFFERENCES.find((k) => k.applies(d));
        if (known) explained.set(known.reason, (explained.get(known.reason) ?? 0) + 1);
        else unexplained.push(d);
      }
      compared++;
    }
    expect(notFound.sort()).toEqual(Object.keys(NOT_FOUND_IN_ORTHANC).sort());
    // Every listed difference still occurs: a rule that explains nothing is removed, not kept.
    expect(KNOWN_DIFFERENCES.map((k) => k.reason).filter((reason) => !explained.has(reason))).toEqual([]);
    expect(compared).toBeGreaterThan(500);
    expect(unexplained.map((d) => `${d.sample} ${d.path.join('/')} ${d.aspect}: Loire ${JSON.stringify(d.loire)?.slice(0, 300)} `
      + `Orthanc ${JSON.stringify(d.orthanc)?.slice(0, 300)}`)).toEqual([]);
  }, 900_000);
});
