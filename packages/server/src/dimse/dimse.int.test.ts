// The DIMSE door against real dcmtk clients, on every storable file of the shared samples:
// store, query back with exact counts at every level, retrieve with C-MOVE and C-GET and compare
// what arrives with what was sent, byte for byte.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPart10File } from '@loire/dicom';
import { connect, store } from '@loire/dicom-net';
import { datasetOffset } from '../retrieve/stored-dataset.js';
import { compareWithPydicom } from '../testing/compare.js';
import { datasetBytesOfFile } from '../testing/dataset-bytes.js';
import { runTool, startStorescp, type Storescp } from '../testing/dcmtk.js';
import { parseFindResponses } from '../testing/find-output.js';
import { LogLines } from '../testing/log-lines.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { mapPool } from '../testing/pool.js';
import { samplePath, storableSamples, type SampleEntry } from '../testing/samples.js';

/**
 * Files dcmtk 3.6.7 (Debian 12) cannot send as they are, each for a reason of dcmtk's own; Loire's
 * SCU sends them instead, so that every storable sample is still stored.
 */
const NO_META = 'not sent by dcmsend'; // dcmsend refuses files without a File Meta Information header
const DCMTK_CANNOT_SEND = new Map<string, string>([
  ['modalities/cr-dx/CR-MONO1-10-chest', NO_META],
  ['pydicom-test-files/ExplVR_LitEndNoMeta.dcm', NO_META],
  ['pydicom-test-files/rtstruct.dcm', NO_META],
  ['syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.dcm', NO_META],
  // HTJ2K (2023) is newer than dcmtk 3.6.7, which cannot parse these files.
  ['syntaxes/htj2k/CT1_JPH', 'not sent by dcmsend'],
  ['syntaxes/htj2k/MR1_JPH', 'not sent by dcmsend'],
  ['syntaxes/htj2k/NM1_JPH', 'not sent by dcmsend'],
  ['syntaxes/htj2k/US1_JPH', 'not sent by dcmsend'],
  ['syntaxes/htj2k/XA1_JPH', 'not sent by dcmsend'],
  // SOP Class UID encoded with VR UN: dcmsend puts a wrong Affected SOP Class UID ("31") in the
  // C-STORE-RQ, which Loire rightly refuses as not matching the presentation context.
  ['modalities/pet-nm/2021-02-19-MalaterreCP246.dcm', 'Refused: SOPClassNotSupported'],
  // Odd-length RLE pixel data: dcmtk misreads the dataset and sends other UIDs than its list says.
  ['pydicom-test-files/rtdose_rle.dcm', 'Refused: SOPClassNotSupported'],
  ['pydicom-test-files/rtdose_rle_1frame.dcm', 'Refused: SOPClassNotSupported'],
  // dcmtk's parser stops in the encapsulated pixel data or on non-standard VRs these files carry.
  ['modalities/us-multiframe/DIRW0007', 'no response'],
  ['modalities/us/GH364.dcm', 'no response'],
]);

/**
 * Instances a dcmtk 3.6.7 receiver cannot take, each for a reason of its own; Loire reports them as
 * failed sub-operations (and the final status says so), everything else must arrive.
 */
const RECEIVER_CANNOT_TAKE: Record<'storescp' | 'getscu', (e: SampleEntry) => string | undefined> = {
  storescp: (e) => ({
    '1.2.840.10008.5.1.4.1.1.66.7': 'Label Map Segmentation (2023) is unknown to storescp 3.6.7',
  } as Record<string, string>)[e.sopClassUID ?? ''] ?? (e.path === 'modalities/us/GH364.dcm' ? 'storescp cannot parse its odd-length JPEG-LS fragment and aborts' : undefined),
  getscu: (e) => ({
    '1.2.840.10008.5.1.4.1.1.66.7': 'getscu does not propose Label Map Segmentation',
    '1.2.840.10008.5.1.4.1.1.91.1': 'getscu does not propose Microscopy Bulk Simple Annotations',
    '1.2.840.10008.5.1.4.1.1.104.3': 'getscu does not propose Encapsulated STL',
  } as Record<string, string>)[e.sopClassUID ?? ''] ??
    (e.path === 'pydicom-test-files/JPEG2000-embedded-sequence-delimiter.dcm' ? 'its JPEG 2000 fragment is a parsing test stub, not an image: it cannot be decompressed' : undefined),
};

/** Files whose header contradicts their content, so that readers disagree on their attributes. */
const SELF_CONTRADICTORY = new Set([
  // Explicit VR LE in the meta header, a second meta group and JPEG Lossless pixel data in the dataset.
  'modalities/large-matrix/GH1376.dcm',
]);

/** Files outside malformed/ that are broken on purpose (pydicom's own test files): refused, with a reason. */
const BROKEN_ON_PURPOSE = new Map([
  ['pydicom-test-files/rtplan_truncated.dcm', 'truncated'],
  ['pydicom-test-files/MR_truncated.dcm', 'truncated'],
  // Declares JPEG Baseline (explicit VR) but its dataset is encoded in implicit VR.
  ['pydicom-test-files/SC_rgb_jpeg.dcm', 'implicit VR under an explicit VR transfer syntax'],
]);

interface Expected {
  studies: Map<string, { series: Map<string, Set<string>> }>;
  /** Every file holding a SOP Instance UID (duplicated UIDs exist among the samples). */
  filesOfInstance: Map<string, SampleEntry[]>;
}

function expectations(stored: readonly SampleEntry[]): Expected {
  const studies: Expected['studies'] = new Map();
  const filesOfInstance = new Map<string, SampleEntry[]>();
  for (const e of stored) {
    const study = studies.get(e.studyUID!) ?? { series: new Map() };
    studies.set(e.studyUID!, study);
    const series = study.series.get(e.seriesUID!) ?? new Set<string>();
    study.series.set(e.seriesUID!, series);
    series.add(e.sopInstanceUID!);
    filesOfInstance.set(e.sopInstanceUID!, [...(filesOfInstance.get(e.sopInstanceUID!) ?? []), e]);
  }
  return { studies, filesOfInstance };
}

/** dcmsend's report: file name → "Success" or the DIMSE status text it printed. */
function parseDcmsendReport(report: string): Map<string, string> {
  const outcomes = new Map<string, string>();
  for (const block of report.split(/\n(?=Number\s+:)/)) {
    const file = /Filename\s+:\s*(.*)/.exec(block)?.[1]?.trim();
    const status = /DIMSE Status\s+:\s*0x[0-9a-f]{4} \(([^)]*)\)/i.exec(block)?.[1];
    if (file) outcomes.set(file, status ?? 'no response');
  }
  return outcomes;
}

/** Sends one file as it is with Loire's own C-STORE SCU; "Success" or the failure. */
async function storeWithLoireScu(file: string, loire: TestLoire): Promise<string> {
  const part10 = await readPart10File(file);
  const sopClassUid = part10.dataset.string(0x00080016) ?? '';
  const sopInstanceUid = part10.dataset.string(0x00080018) ?? '';
  const association = await connect({
    host: '127.0.0.1', port: loire.dicomPort, callingAe: 'LOIRESCU', calledAe: loire.aeTitle,
    contexts: [{ abstractSyntax: sopClassUid, transferSyntaxes: [part10.transferSyntaxUid] }],
  });
  try {
    const result = await store(association, {
      sopClassUid, sopInstanceUid, transferSyntaxUid: part10.transferSyntaxUid, dataset: datasetBytesOfFile(file),
    });
    return result.status === 0 ? 'Success' : `status 0x${result.status.toString(16)} ${result.errorComment ?? ''}`;
  } finally {
    await association.release();
  }
}

describe('DIMSE with dcmtk', () => {
  let loire: TestLoire;
  let scp: Storescp;
  let scpDir: string;
  const stored: SampleEntry[] = [];
  let expected: Expected;
  const logs = new LogLines();

  beforeAll(async () => {
    scpDir = mkdtempSync(path.join(os.tmpdir(), 'loire-storescp-'));
    scp = await startStorescp(scpDir, { extraArgs: ['+xa'] });
    // dcmtk's tools call with their default AE titles; queries and retrievals are answered only to configured nodes.
    loire = await startTestLoire({ logDestination: logs, dicomNodes: [
      { name: 'storescp', aeTitle: scp.aeTitle, host: '127.0.0.1', port: scp.port },
      { name: 'findscu', aeTitle: 'FINDSCU', permissions: { store: false, retrieve: false } },
      { name: 'movescu', aeTitle: 'MOVESCU', permissions: { moveDestinations: [scp.aeTitle] } },
      { name: 'getscu', aeTitle: 'GETSCU' },
    ] });
  });

  afterAll(async () => {
    await scp?.stop();
    await loire?.stop();
    rmSync(scpDir, { recursive: true, force: true });
  });

  const peer = (): string[] => ['-aec', loire.aeTitle, '127.0.0.1', String(loire.dicomPort)];

  it('answers C-ECHO', async () => {
    const r = await runTool('echoscu', ['-v', ...peer()]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('stores every storable sample with dcmsend (and the few dcmtk 3.6.7 cannot send, with our SCU)', async () => {
    const samples = storableSamples().sort((a, b) => a.path.localeCompare(b.path));
    const reportDir = mkdtempSync(path.join(os.tmpdir(), 'loire-dcmsend-'));
    // dcmsend proposes each file's own transfer syntax; batches keep each association under 128 contexts.
    const batches: SampleEntry[][] = [];
    for (let i = 0; i < samples.length; i += 50) batches.push(samples.slice(i, i + 50));
    const outcomes = new Map<string, string>();
    await mapPool(batches, 2, async (batch, n) => {
      const report = path.join(reportDir, `report-${n}.txt`);
      await runTool('dcmsend', ['--no-halt', '--create-report-file', report, ...peer(), ...batch.map((e) => samplePath(e))], { timeoutMs: 300_000 });
      for (const [file, status] of parseDcmsendReport(readFileSync(report, 'latin1'))) outcomes.set(file, status);
    });
    rmSync(reportDir, { recursive: true, force: true });
    const viaOwnScu = samples.filter((e) => outcomes.get(samplePath(e)) !== 'Success' && !BROKEN_ON_PURPOSE.has(e.path));
    expect(viaOwnScu.map((e) => `${e.path}: ${outcomes.get(samplePath(e)) ?? 'not sent by dcmsend'}`).sort())
      .toEqual([...DCMTK_CANNOT_SEND].map(([file, why]) => `${file}: ${why}`).sort());
    for (const entry of viaOwnScu) outcomes.set(samplePath(entry), await storeWithLoireScu(samplePath(entry), loire));
    const unexpected: string[] = [];
    for (const entry of samples) {
      const outcome = outcomes.get(samplePath(entry)) ?? 'not sent';
      const broken = BROKEN_ON_PURPOSE.has(entry.path);
      if (outcome === 'Success') stored.push(entry);
      if ((outcome === 'Success') === broken) unexpected.push(`${entry.path}: ${outcome}${broken ? ' although broken' : ''}`);
    }
    expect(unexpected).toEqual([]);
    expected = expectations(stored);
    expect(expected.studies.size).toBeGreaterThan(90);
  }, 600_000);

  it('finds every study, series and instance with the exact counts', async () => {
    const find = async (keys: string[]) => {
      const r = await runTool('findscu', ['-v', '-S', ...peer(), ...keys.flatMap((k) => ['-k', k])]);
      expect(r.code, r.stderr).toBe(0);
      return parseFindResponses(r.stdout + r.stderr);
    };
    const all = await find(['QueryRetrieveLevel=STUDY', 'StudyInstanceUID', 'NumberOfStudyRelatedInstances', 'NumberOfStudyRelatedSeries']);
    expect(new Set(all.map((r) => r.get('0020000D')))).toEqual(new Set(expected.studies.keys()));
    const problems: string[] = [];
    await mapPool([...expected.studies], 4, async ([studyUid, study]) => {
      const instances = [...study.series.values()].reduce((n, s) => n + s.size, 0);
      const [studyRow] = await find(['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${studyUid}`, 'NumberOfStudyRelatedInstances', 'NumberOfStudyRelatedSeries']);
      if (studyRow?.get('00201208') !== String(instances) || studyRow.get('00201206') !== String(study.series.size)) {
        problems.push(`study ${studyUid}: ${studyRow?.get('00201206')} series/${studyRow?.get('00201208')} instances, expected ${study.series.size}/${instances}`);
      }
      const series = await find(['QueryRetrieveLevel=SERIES', `StudyInstanceUID=${studyUid}`, 'SeriesInstanceUID', 'NumberOfSeriesRelatedInstances']);
      for (const row of series) {
        const uid = row.get('0020000E') ?? '';
        if (row.get('00201209') !== String(study.series.get(uid)?.size)) problems.push(`series ${uid}: ${row.get('00201209')} instances, expected ${study.series.get(uid)?.size}`);
      }
      if (series.length !== study.series.size) problems.push(`study ${studyUid}: ${series.length} series found, expected ${study.series.size}`);
      for (const [seriesUid, sops] of study.series) {
        const images = await find(['QueryRetrieveLevel=IMAGE', `StudyInstanceUID=${studyUid}`, `SeriesInstanceUID=${seriesUid}`, 'SOPInstanceUID']);
        const found = new Set(images.map((r) => r.get('00080018')));
        if (found.size !== sops.size || [...sops].some((s) => !found.has(s))) problems.push(`series ${seriesUid}: instances differ`);
      }
    });
    expect(problems).toEqual([]);
  }, 600_000);

  /**
   * Checks a retrieval to a dcmtk receiver: each study's final status; every instance the receiver
   * can take arrived once; its dataset is byte for byte what Loire stored when it went in the stored
   * transfer syntax; and pydicom reads the same attributes and pixel data as in the sample sent
   * (pixels decoded by a reference decoder when Loire had to decompress).
   */
  async function checkRetrieval(receiver: 'storescp' | 'getscu', statuses: Map<string, string>, files: { file: string; sop: string }[]): Promise<string[]> {
    const problems: string[] = [];
    /** The sample an instance was stored from (some samples share a SOP Instance UID): the one closest in size. */
    const keptFile = async (sop: string): Promise<SampleEntry> => {
      const record = (await loire.server.archive.index.getInstance(sop))!;
      const candidates = expected.filesOfInstance.get(sop)!.filter((e) => stored.includes(e) && e.transferSyntaxUID === record.transferSyntaxUid);
      const pool = candidates.length ? candidates : expected.filesOfInstance.get(sop)!;
      return pool.reduce((best, e) => (Math.abs(e.bytes - record.size) < Math.abs(best.bytes - record.size) ? e : best));
    };
    const received = new Map(files.map((f) => [f.sop, f.file]));
    for (const [studyUid, study] of expected.studies) {
      let refused = 0;
      let total = 0;
      for (const sops of study.series.values()) {
        for (const sop of sops) {
          total++;
          const why = RECEIVER_CANNOT_TAKE[receiver](await keptFile(sop));
          if (why) refused++;
          if (why && received.has(sop)) problems.push(`${sop} arrived although expected to fail: ${why}`);
          if (!why && !received.has(sop)) problems.push(`${sop} not received`);
        }
      }
      const wanted = refused === 0 ? 'Success' : refused === total ? 'Refused: OutOfResourcesSubOperations' : 'Warning: SubOperationsCompleteOneOrMoreFailures';
      if (statuses.get(studyUid) !== wanted) problems.push(`study ${studyUid}: final status ${statuses.get(studyUid)}, expected ${wanted}`);
    }
    const jobs: { received: string; candidates: string[] }[] = [];
    for (const { file, sop } of files) {
      const record = await loire.server.archive.index.getInstance(sop);
      if (!record) {
        problems.push(`${sop} received but not in the index`);
        continue;
      }
      const storedBytes = await loire.server.archive.storage.readAll(record.storageKey);
      const bytes = readFileSync(file);
      if ((await readPart10File(file)).transferSyntaxUid === record.transferSyntaxUid &&
        !storedBytes.subarray(datasetOffset(storedBytes)).equals(bytes.subarray(datasetOffset(bytes)))) {
        problems.push(`${sop}: dataset bytes differ from the stored object`);
      }
      const candidates = (expected.filesOfInstance.get(sop) ?? []).filter((e) => stored.includes(e) && !SELF_CONTRADICTORY.has(e.path));
      if (candidates.length) jobs.push({ received: file, candidates: candidates.map((e) => samplePath(e)) });
    }
    for (const c of await compareWithPydicom(jobs)) {
      if (!c.match) problems.push(`${path.basename(c.received)}: differs from the sample sent: ${c.differences.join('; ')}`);
    }
    return problems;
  }

  /** The final status movescu ("Received Final Move Response (…)") or getscu (its last "Received C-GET Response (…)") printed. */
  const finalStatus = (output: string, operation: 'Move' | 'Get'): string => {
    const pattern = operation === 'Move' ? /Received Final Move Response \(([^)]*)\)/g : /Received C-GET Response \(([^)]*)\)/g;
    return [...output.matchAll(pattern)].pop()?.[1] ?? 'none';
  };

  it('moves every study to storescp with identical attributes and pixel data', async () => {
    const statuses = new Map<string, string>();
    for (const studyUid of expected.studies.keys()) {
      const r = await runTool('movescu', ['-v', '-S', '-aem', scp.aeTitle, ...peer(), '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${studyUid}`]);
      statuses.set(studyUid, finalStatus(r.stdout + r.stderr, 'Move'));
    }
    // storescp names its files <modality>.<SOP Instance UID>.
    const files = readdirSync(scpDir).map((f) => ({ file: path.join(scpDir, f), sop: f.slice(f.indexOf('.') + 1) }));
    expect(await checkRetrieval('storescp', statuses, files)).toEqual([]);
  }, 600_000);

  it('refuses C-MOVE to an unknown destination with 0xA801', async () => {
    const [studyUid] = expected.studies.keys();
    const r = await runTool('movescu', ['-v', '-S', '-aem', 'NOBODY', ...peer(), '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${studyUid}`]);
    expect(finalStatus(r.stdout + r.stderr, 'Move')).toBe('Refused: MoveDestinationUnknown');
  });

  it('serves every study with C-GET to a peer that takes only uncompressed syntaxes (decompressing)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loire-get-'));
    try {
      const statuses = new Map<string, string>();
      for (const studyUid of expected.studies.keys()) {
        const r = await runTool('getscu', ['-v', '-S', '+B', '-od', dir, ...peer(), '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${studyUid}`]);
        statuses.set(studyUid, finalStatus(r.stdout + r.stderr, 'Get'));
      }
      // getscu names its files by SOP Instance UID.
      const files = readdirSync(dir).map((f) => ({ file: path.join(dir, f), sop: f }));
      expect(await checkRetrieval('getscu', statuses, files)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);

  // Last: it removes a stored object.
  it('moves the rest of a study whose one object is missing from storage, with a warning, and logs how to find such objects', async () => {
    const [studyUid, { series }] = [...expected.studies].find(([, study]) => [...study.series.values()].some((sops) => sops.size >= 3))!;
    const sops = [...[...series.values()].find((s) => s.size >= 3)!];
    const missing = (await loire.server.archive.index.getInstance(sops[0]!))!;
    await loire.server.archive.storage.delete(missing.storageKey);
    const r = await runTool('movescu', ['-v', '-S', '-aem', scp.aeTitle, ...peer(), '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${studyUid}`]);
    expect(finalStatus(r.stdout + r.stderr, 'Move'), r.stdout + r.stderr).toBe('Warning: SubOperationsCompleteOneOrMoreFailures');
    expect(logs.lines.filter((l) => l.sopInstanceUid === sops[0]).map((l) => l.msg))
      .toContain('C-STORE sub-operation failed: the indexed object is missing from storage; run `loire verify` to list every such object');
  }, 120_000);
});
