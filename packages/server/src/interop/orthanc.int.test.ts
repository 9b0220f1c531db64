// Loire beside another vendor's PACS: Orthanc (a real, independent DICOM implementation) sends to
// Loire, receives from it by C-MOVE, queries it and retrieves from it. Orthanc runs as a child
// process in a temp directory with its own ports.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPart10File } from '@loire/dicom';
import { datasetOffset } from '../retrieve/stored-dataset.js';
import { compareWithPydicom } from '../testing/compare.js';
import { freePort, runTool, startStorescp, type Storescp } from '../testing/dcmtk.js';
import { parseFindResponses } from '../testing/find-output.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { sampleManifest, samplePath, type SampleEntry } from '../testing/samples.js';
import { startOrthanc, type Orthanc } from './orthanc.js';

/** Sent by Orthanc to Loire: an uncompressed 70-slice CT and three compressed CT images. */
const SET_A = ['ct-series/philips-head-ct-std-brain-1mm/', 'syntaxes/wg04-ct1/CT1_J2KR', 'syntaxes/wg04-ct1/CT1_JLSL', 'syntaxes/wg04-ct1/CT1_RLE'];
/** Moved by Loire to Orthanc: an MR study (ISO 2022 Japanese names), a JPEG baseline US, a JPEG lossless CT. */
const SET_B = ['mr-series/furuhashi-lspine-mr-20180113-prior/', 'syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.4.50.dcm', 'syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.4.70.dcm'];
/** Queried and retrieved by Orthanc: segmentations, an enhanced MR, a JPEG 2000 MR. */
const SET_C = ['modalities/seg/seg_image_ct_binary.dcm', 'modalities/seg/seg_image_ct_binary_fractional.dcm', 'modalities/enhanced-mr/MOVEKNEE.dcm', 'syntaxes/misc/GH064.dcm'];

function samplesOf(set: readonly string[]): SampleEntry[] {
  const entries = sampleManifest().filter((e) => e.isDicom && set.some((p) => (p.endsWith('/') ? e.path.startsWith(p) : e.path === p)));
  expect(entries.length).toBeGreaterThanOrEqual(set.length);
  return entries.sort((a, b) => a.path.localeCompare(b.path));
}

const datasetPart = (bytes: Buffer): Buffer => bytes.subarray(datasetOffset(bytes));

/** What a study-level query must find, read from the sample files themselves. */
interface StudyFacts { studyUid: string; patientName: string; studyDate: string; instances: Set<string>; series: Set<string> }

async function studyFacts(entries: readonly SampleEntry[]): Promise<Map<string, StudyFacts>> {
  const studies = new Map<string, StudyFacts>();
  for (const e of entries) {
    const { dataset } = await readPart10File(samplePath(e), { bulkDataThreshold: 1024 });
    const study = studies.get(e.studyUID!) ?? {
      studyUid: e.studyUID!,
      // The alphabetic group of the name: the one wildcards below are written against.
      patientName: (dataset.string(0x00100010) ?? '').split('=')[0]!,
      studyDate: dataset.string(0x00080020) ?? '',
      instances: new Set<string>(),
      series: new Set<string>(),
    };
    study.instances.add(e.sopInstanceUID!);
    study.series.add(e.seriesUID!);
    studies.set(e.studyUID!, study);
  }
  return studies;
}

interface QueryAnswer { [keyword: string]: string | undefined }

describe('Orthanc as another vendor\'s PACS', () => {
  let loire: TestLoire;
  let orthanc: Orthanc;
  let workDir: string;
  let storescp: Storescp;
  let storescpDir: string;

  beforeAll(async () => {
    workDir = mkdtempSync(path.join(os.tmpdir(), 'loire-orthanc-interop-'));
    storescpDir = mkdtempSync(path.join(workDir, 'storescp-'));
    storescp = await startStorescp(storescpDir, { aeTitle: 'STORESCP', extraArgs: ['+xa'] });
    const orthancDicomPort = await freePort();
    loire = await startTestLoire({ dicomNodes: [
      { name: 'orthanc', aeTitle: 'ORTHANC', host: '127.0.0.1', port: orthancDicomPort },
      // dcmtk's tools, with their default AE titles.
      { name: 'findscu', aeTitle: 'FINDSCU', permissions: { store: false, retrieve: false } },
      { name: 'movescu', aeTitle: 'MOVESCU', permissions: { moveDestinations: ['ORTHANC'] } },
    ] });
    orthanc = await startOrthanc({
      aeTitle: 'ORTHANC', dicomPort: orthancDicomPort,
      modalities: [
        { name: 'loire', aeTitle: loire.aeTitle, host: '127.0.0.1', port: loire.dicomPort },
        { name: 'storescp', aeTitle: storescp.aeTitle, host: '127.0.0.1', port: storescp.port },
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await orthanc?.stop();
    await loire?.stop();
    await storescp?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  const peer = (): string[] => ['-aec', loire.aeTitle, '127.0.0.1', String(loire.dicomPort)];

  /** Orthanc's id of an instance, by SOP Instance UID. */
  async function orthancInstance(sopInstanceUid: string): Promise<string | undefined> {
    const found = await orthanc.rest<{ ID: string; Type: string }[]>('POST', '/tools/lookup', sopInstanceUid);
    return found.find((r) => r.Type === 'Instance')?.ID;
  }

  /** Loire's stored bytes of an instance. */
  async function loireObject(sopInstanceUid: string): Promise<Buffer | undefined> {
    const record = await loire.server.archive.index.getInstance(sopInstanceUid);
    return record ? loire.server.archive.storage.readAll(record.storageKey) : undefined;
  }

  async function storeInLoire(entries: readonly SampleEntry[]): Promise<void> {
    const r = await runTool('dcmsend', [...peer(), ...entries.map((e) => samplePath(e))], { timeoutMs: 300_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const e of entries) expect(await loire.server.archive.index.getInstance(e.sopInstanceUID!), e.path).toBeDefined();
  }

  /**
   * Checks instances that went from Loire to Orthanc: every one is there, its dataset is byte for
   * byte what Loire stored, and pydicom reads the same attributes and pixel data as in the sample.
   */
  async function expectInOrthancAsInLoire(entries: readonly SampleEntry[]): Promise<void> {
    const problems: string[] = [];
    const jobs: { received: string; candidates: string[] }[] = [];
    for (const e of entries) {
      const id = await orthancInstance(e.sopInstanceUID!);
      if (!id) {
        problems.push(`${e.path}: not in Orthanc`);
        continue;
      }
      const received = await orthanc.download(`/instances/${id}/file`);
      const stored = (await loireObject(e.sopInstanceUID!))!;
      if (!datasetPart(received).equals(datasetPart(stored))) problems.push(`${e.path}: Orthanc's dataset differs from Loire's stored bytes`);
      const file = path.join(workDir, `${e.sopInstanceUID}.dcm`);
      writeFileSync(file, received);
      jobs.push({ received: file, candidates: [samplePath(e)] });
    }
    for (const c of await compareWithPydicom(jobs)) {
      if (!c.match) problems.push(`${path.basename(c.received)}: ${c.differences.join('; ')}`);
    }
    expect(problems).toEqual([]);
  }

  it('(a) Orthanc C-STOREs to Loire: Loire keeps every instance byte for byte as sent, with the attributes and pixels Orthanc holds', async () => {
    const entries = samplesOf(SET_A);
    const ids: string[] = [];
    for (const e of entries) {
      const uploaded = await orthanc.rest<{ ID: string; Status: string }>('POST', '/instances', readFileSync(samplePath(e)));
      expect(uploaded.Status, e.path).toBe('Success');
      ids.push(uploaded.ID);
    }
    const job = await orthanc.rest<{ InstancesCount: number; FailedInstancesCount: number }>('POST', '/modalities/loire/store', { Resources: ids, Synchronous: true });
    expect(job.FailedInstancesCount, orthanc.log().slice(-3000)).toBe(0);
    expect(job.InstancesCount).toBe(entries.length);

    // The same instances to dcmtk's storescp, which keeps the received bytes as they are (+B):
    // Orthanc's sender re-encodes some datasets (explicit-length sequences, no trailing padding).
    const reference = await orthanc.rest<{ FailedInstancesCount: number }>('POST', '/modalities/storescp/store', { Resources: ids, Synchronous: true });
    expect(reference.FailedInstancesCount).toBe(0);

    const problems: string[] = [];
    const jobs: { received: string; candidates: string[] }[] = [];
    for (const [i, e] of entries.entries()) {
      const stored = await loireObject(e.sopInstanceUID!);
      if (!stored) {
        problems.push(`${e.path}: not in Loire`);
        continue;
      }
      const inOrthanc = await orthanc.download(`/instances/${ids[i]}/file`);
      const onTheWire = readdirSync(storescpDir).find((f) => f.endsWith(`.${e.sopInstanceUID}`));
      if (!onTheWire) problems.push(`${e.path}: not received by storescp`);
      else if (!datasetPart(stored).equals(datasetPart(readFileSync(path.join(storescpDir, onTheWire))))) problems.push(`${e.path}: Loire's dataset differs from what Orthanc sent`);
      const storedFile = path.join(workDir, `loire-${e.sopInstanceUID}.dcm`);
      const orthancFile = path.join(workDir, `orthanc-${e.sopInstanceUID}.dcm`);
      writeFileSync(storedFile, stored);
      writeFileSync(orthancFile, inOrthanc);
      jobs.push({ received: storedFile, candidates: [orthancFile] });
      const record = (await loire.server.archive.index.getInstance(e.sopInstanceUID!))!;
      if (record.transferSyntaxUid !== e.transferSyntaxUID) problems.push(`${e.path}: stored as ${record.transferSyntaxUid}, sent ${e.transferSyntaxUID}`);
    }
    for (const c of await compareWithPydicom(jobs)) {
      if (!c.match) problems.push(`${path.basename(c.received)}: differs from Orthanc's copy: ${c.differences.join('; ')}`);
    }
    expect(problems).toEqual([]);

    // And a C-FIND at Loire counts them.
    const facts = await studyFacts(entries);
    for (const study of facts.values()) {
      const r = await runTool('findscu', ['-v', '-S', ...peer(), '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${study.studyUid}`, '-k', 'NumberOfStudyRelatedInstances']);
      expect(parseFindResponses(r.stdout + r.stderr).map((a) => a.get('00201208'))).toEqual([String(study.instances.size)]);
    }
  }, 300_000);

  it('(b) Loire C-MOVEs to Orthanc: Orthanc receives every instance with identical attributes and bytes', async () => {
    const entries = samplesOf(SET_B);
    await storeInLoire(entries);
    const studies = new Set(entries.map((e) => e.studyUID!));
    for (const studyUid of studies) {
      const r = await runTool('movescu', ['-v', '-S', '-aem', orthanc.aeTitle, ...peer(), '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${studyUid}`]);
      expect(r.stdout + r.stderr, orthanc.log().slice(-3000)).toContain('Received Final Move Response (Success)');
    }
    await expectInOrthancAsInLoire(entries);
  }, 300_000);

  it('(c) Orthanc C-FINDs Loire at study level by patient name wildcard and date range, with the right answers and counts', async () => {
    await storeInLoire(samplesOf(SET_C));
    const everything = await studyFacts([...samplesOf(SET_A), ...samplesOf(SET_B), ...samplesOf(SET_C)]);
    const inRange = (date: string, from: string, to: string): boolean => /^\d{8}$/.test(date) && date >= from && date <= to;
    const queries: { query: Record<string, string>; expected: (s: StudyFacts) => boolean }[] = [
      { query: { PatientName: 'Doe*' }, expected: (s) => s.patientName.startsWith('Doe') },
      { query: { PatientName: 'CompressedSamples*' }, expected: (s) => s.patientName.startsWith('CompressedSamples') },
      { query: { StudyDate: '20000101-20131231' }, expected: (s) => inRange(s.studyDate, '20000101', '20131231') },
      { query: { PatientName: 'CompressedSamples*', StudyDate: '20040101-20041231' }, expected: (s) => s.patientName.startsWith('CompressedSamples') && inRange(s.studyDate, '20040101', '20041231') },
      { query: { PatientName: '*Knee*', StudyDate: '20060101-' }, expected: (s) => s.patientName.includes('Knee') && inRange(s.studyDate, '20060101', '99991231') },
    ];
    for (const { query, expected } of queries) {
      const wanted = [...everything.values()].filter(expected);
      expect(wanted.length, JSON.stringify(query)).toBeGreaterThan(0);
      const answers = await orthancQuery(query);
      expect(answers.map((a) => a.StudyInstanceUID).sort(), JSON.stringify(query)).toEqual(wanted.map((s) => s.studyUid).sort());
      for (const answer of answers) {
        const study = everything.get(answer.StudyInstanceUID!)!;
        expect(answer.NumberOfStudyRelatedInstances, study.studyUid).toBe(String(study.instances.size));
        expect(answer.NumberOfStudyRelatedSeries, study.studyUid).toBe(String(study.series.size));
        expect(answer.StudyDate).toBe(study.studyDate);
        expect(answer.PatientName?.split('=')[0]).toBe(study.patientName);
      }
    }
  }, 300_000);

  /** A study-level C-FIND by Orthanc at Loire; the answers as Orthanc decoded them. */
  async function orthancQuery(query: Record<string, string>): Promise<QueryAnswer[]> {
    const { id } = await startQuery(query);
    return answersOf(id);
  }

  async function startQuery(query: Record<string, string>): Promise<{ id: string }> {
    const returned = { StudyInstanceUID: '', PatientName: '', StudyDate: '', NumberOfStudyRelatedInstances: '', NumberOfStudyRelatedSeries: '' };
    const q = await orthanc.rest<{ ID: string }>('POST', '/modalities/loire/query', { Level: 'Study', Query: { ...returned, ...query } });
    return { id: q.ID };
  }

  async function answersOf(queryId: string): Promise<QueryAnswer[]> {
    const indexes = await orthanc.rest<string[]>('GET', `/queries/${queryId}/answers`);
    return Promise.all(indexes.map((i) => orthanc.rest<QueryAnswer>('GET', `/queries/${queryId}/answers/${i}/content?simplify`)));
  }

  it('Orthanc retrieves from Loire what it found (/queries/{id}/retrieve: a C-MOVE to itself)', async () => {
    const entries = samplesOf(SET_C);
    const facts = await studyFacts(entries);
    const queries: Record<string, string>[] = [{ PatientName: 'Doe*' }, { PatientName: 'Brain*', StudyDate: '20120101-20121231' }, { PatientName: '*Knee*' }];
    for (const query of queries) {
      const { id } = await startQuery(query);
      const answers = await answersOf(id);
      expect(answers.length, JSON.stringify(query)).toBe(1);
      expect(facts.has(answers[0]!.StudyInstanceUID!)).toBe(true);
      await orthanc.rest('POST', `/queries/${id}/retrieve`, { TargetAet: orthanc.aeTitle, Synchronous: true });
    }
    await expectInOrthancAsInLoire(entries);
  }, 300_000);
});
