// Every malformed sample is sent to Loire as it is. Each is either stored (then C-FIND finds it and
// the stored dataset bytes are the bytes sent) or refused with a failure status and a log line that
// names the SOP instance and the reason. Loire keeps answering afterwards.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePart10, readPart10File } from '@loire/dicom';
import { connect, store } from '@loire/dicom-net';
import { datasetOffset } from '../retrieve/stored-dataset.js';
import { datasetBytesOfFile } from '../testing/dataset-bytes.js';
import { runTool } from '../testing/dcmtk.js';
import { parseFindResponses } from '../testing/find-output.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { LogLines } from '../testing/log-lines.js';
import { samplesDir } from '../testing/samples.js';

type Outcome = { stored: true } | { status: number; reason: RegExp };

interface Expectation {
  outcome: Outcome;
  /** Sent with Loire's own SCU, because dcmsend cannot send the file or would not send its bytes as they are. */
  ownScu?: string;
  why: string;
}

const STORED: Outcome = { stored: true };
const refused = (status: number, reason: RegExp): Outcome => ({ status, reason });

/** What Loire must do with each file of malformed/, and why. A file missing here fails the test. */
const EXPECTED: Record<string, Expectation> = {
  '2017-06-27-XSSInjection.dcm': { outcome: STORED, why: 'markup in text values is data; escaping is the viewers\' and DICOMweb\'s job, not a reason to refuse' },
  '2026-05-06-Deeply-Nested-Sequence.dcm': {
    outcome: refused(0xc000, /nested deeper than the limit of 64/), ownScu: 'dcmsend 3.6.7 crashes (stack overflow) reading it',
    why: 'thousands of nested sequences would exhaust the stack: the parser stops at depth 64',
  },
  '2026-05-26-oob-monochrome-46341.dcm': { outcome: STORED, why: 'Rows/Columns are only indexed, never used to allocate at ingest: the object is kept as sent' },
  '2026-05-26-oob-monochrome-65535.dcm': { outcome: STORED, why: 'same as the 46341 variant: no allocation from declared dimensions at ingest' },
  'DummyCTInvalidRows.dcm': { outcome: STORED, why: 'an invalid Rows value is an image problem, not an identity problem; the bytes are archived as sent' },
  'DummyCTWithLongTag.dcm': { outcome: STORED, why: 'a long value is valid DICOM; it is stored whole' },
  'GH1146.dcm': { outcome: STORED, why: 'an empty PixelData is legal encoding; the four identifying UIDs are present' },
  'GH177_D_CLUNIE_CT1_IVRLE_BigEndian_ELE_undefinded_length.dcm': {
    outcome: STORED, ownScu: 'dcmsend re-encodes its undefined-length UN element',
    why: 'an undefined-length UN is read as an implicit VR sequence (CP-246): the dataset parses and its identity is complete',
  },
  'GH177_D_CLUNIE_CT1_IVRLE_BigEndian_undefined_length.dcm': {
    outcome: STORED, ownScu: 'dcmsend converts it from big to little endian',
    why: 'as the ELE variant: with the CP-246 rule the dataset parses, and the bytes are archived as sent',
  },
  'GH220.dcm': { outcome: refused(0xa900, /StudyInstanceUID is missing/), why: 'Philips private object with no study or series: it cannot be placed in the patient/study hierarchy' },
  'GH223.dcm': { outcome: refused(0xa900, /StudyInstanceUID is missing/), why: 'a header without Study Instance UID cannot be indexed' },
  'GH487.dcm': { outcome: refused(0xa900, /StudyInstanceUID is missing/), why: 'a header without Study Instance UID cannot be indexed' },
  'Issue1097_FailToOpenDeflatedFileWithSQ.dcm': { outcome: STORED, ownScu: 'dcmsend inflates and deflates it again, into other bytes', why: 'a deflated dataset with a sequence is valid; it is stored still deflated, as sent' },
  'Issue195-bis.dcm': {
    outcome: refused(0xa900, /SOPClassUID is missing/), ownScu: 'dcmsend sends nothing without a SOP Class UID in the dataset',
    why: 'no SOP Class UID in the dataset: the object has no type to archive',
  },
  'Issue195.dcm': { outcome: refused(0xa900, /SOPClassUID is missing/), ownScu: 'as Issue195-bis.dcm', why: 'no SOP Class UID in the dataset' },
  'Issue196.dcm': { outcome: refused(0xa900, /StudyInstanceUID is missing/), why: 'a minimal dataset without Study Instance UID cannot be indexed' },
  'Issue22-NoPixelData.dcm': { outcome: STORED, why: 'an Enhanced MR without pixel data is still a complete, identifiable object' },
  'UnknownSopClassUid.dcm': { outcome: STORED, ownScu: 'dcmsend converts it from implicit to explicit VR', why: 'an archive keeps private SOP classes it does not know (accepted as storage)' },
  'charsets/chrSQEncoding.dcm': {
    outcome: refused(0xa900, /SOPClassUID is missing/), ownScu: 'dcmsend sends nothing without a SOP Class UID in the dataset',
    why: 'a character set test fragment with no identifying UIDs in the dataset',
  },
  'charsets/chrSQEncoding1.dcm': { outcome: refused(0xa900, /SOPClassUID is missing/), ownScu: 'as chrSQEncoding.dcm', why: 'as chrSQEncoding.dcm' },
};

/** The other character set samples: valid objects whose text is in one of many character sets, all stored as sent. */
for (const name of [
  '1403-OB', 'GH1301', 'ISO_IR13', 'Lena-arabic', 'Lena-ascii', 'Lena-cyrillic', 'Lena-greek', 'Lena-hebrew', 'Lena-latin1',
  'Lena-latin2', 'Lena-latin3', 'Lena-latin4', 'Lena-latin5', 'Lena-shift-jis', 'Lena-tis-620', 'Lena-utf8', 'chrArab',
  'chrFren', 'chrGB2312', 'chrGerm', 'chrGreek', 'chrH31', 'chrH32', 'chrHbrw', 'chrI2', 'chrJapMulti',
  'chrJapMultiExplicitIR6', 'chrKoreanMulti', 'chrRuss', 'chrX1', 'chrX2',
]) EXPECTED[`charsets/${name}.dcm`] = { outcome: STORED, why: 'valid object; its character set only affects how text is decoded for the index' };
for (const name of ['chrJapMulti', 'chrKoreanMulti']) {
  EXPECTED[`charsets/${name}.dcm`]!.ownScu = 'its group length elements are wrong and dcmsend rewrites them';
}

function malformedFiles(): string[] {
  const root = path.join(samplesDir(), 'malformed');
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(root, path.join(d.parentPath, d.name)));
  return files.sort();
}

interface Sent {
  via: 'dcmsend' | 'loire-scu';
  /** DIMSE status of the C-STORE-RSP; undefined when no response came. */
  status: number | undefined;
  sopInstanceUid: string;
  detail: string;
}

/** dcmsend's report for one file: the DIMSE status, or undefined when it did not send it. */
function dcmsendStatus(report: string): number | undefined {
  const m = /DIMSE Status\s+:\s*0x([0-9a-f]{4})/i.exec(report);
  return m ? parseInt(m[1]!, 16) : undefined;
}

/** The file's identity from its File Meta Information, read without parsing the dataset (which may be what is broken). */
function declaredIdentity(file: string): { sopClassUid: string; sopInstanceUid: string; transferSyntaxUid: string } {
  const bytes = readFileSync(file);
  const meta = parsePart10(bytes.subarray(0, datasetOffset(bytes))).meta;
  if (!meta) throw new Error(`${file} has no File Meta Information`);
  return {
    sopClassUid: meta.string(0x00020002) ?? '',
    sopInstanceUid: meta.string(0x00020003) ?? '',
    transferSyntaxUid: meta.string(0x00020010) ?? '',
  };
}

/** What a sender announces in the C-STORE-RQ: the dataset's UIDs when it can be read (as dcmsend does), else the meta header's. */
async function announcedIdentity(file: string): Promise<{ sopClassUid: string; sopInstanceUid: string; transferSyntaxUid: string }> {
  const declared = declaredIdentity(file);
  const dataset = await readPart10File(file).then((p) => p.dataset, () => undefined);
  return {
    ...declared,
    sopClassUid: dataset?.string(0x00080016) || declared.sopClassUid,
    sopInstanceUid: dataset?.string(0x00080018) || declared.sopInstanceUid,
  };
}

/** Sends the file's dataset bytes as they are, under the identity its meta header declares. */
async function sendWithLoireScu(file: string, loire: TestLoire): Promise<Sent> {
  const { sopClassUid, sopInstanceUid, transferSyntaxUid } = await announcedIdentity(file);
  const association = await connect({
    host: '127.0.0.1', port: loire.dicomPort, callingAe: 'LOIRESCU', calledAe: loire.aeTitle,
    contexts: [{ abstractSyntax: sopClassUid, transferSyntaxes: [transferSyntaxUid] }],
  });
  try {
    const result = await store(association, { sopClassUid, sopInstanceUid, transferSyntaxUid, dataset: datasetBytesOfFile(file) });
    return { via: 'loire-scu', status: result.status, sopInstanceUid, detail: result.errorComment ?? '' };
  } finally {
    await association.release();
  }
}

describe('malformed samples', () => {
  let loire: TestLoire;
  let workDir: string;
  const logs = new LogLines();

  beforeAll(async () => {
    workDir = mkdtempSync(path.join(os.tmpdir(), 'loire-malformed-'));
    // Several samples share a SOP Instance UID: each new one replaces the last, so that what is
    // stored can be compared with what was just sent.
    loire = await startTestLoire({ logDestination: logs, duplicatePolicy: 'overwrite',
      dicomNodes: [{ name: 'findscu', aeTitle: 'FINDSCU', permissions: { store: false, retrieve: false } }] });
  }, 60_000);

  afterAll(async () => {
    await loire?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  const peer = (): string[] => ['-aec', loire.aeTitle, '127.0.0.1', String(loire.dicomPort)];

  /** Sends a file as the table says; the SOP Instance UID is the one the C-STORE-RQ carried. */
  async function send(file: string, n: number, expectation: Expectation): Promise<Sent> {
    if (expectation.ownScu) return sendWithLoireScu(file, loire);
    const report = path.join(workDir, `report-${n}.txt`);
    const r = await runTool('dcmsend', ['--no-halt', '--create-report-file', report, ...peer(), file], { timeoutMs: 120_000 });
    const text = existsSync(report) ? readFileSync(report, 'latin1') : '';
    const status = dcmsendStatus(text);
    if (status === undefined) throw new Error(`dcmsend did not send it: ${r.stderr.slice(0, 300)}`);
    // dcmsend's report names the meta header's UID; the request carries the dataset's.
    const { sopInstanceUid } = await announcedIdentity(file);
    return { via: 'dcmsend', status, sopInstanceUid, detail: r.stderr.slice(0, 300) };
  }

  async function found(file: string, sopInstanceUid: string): Promise<boolean> {
    const dataset = (await readPart10File(file)).dataset;
    const r = await runTool('findscu', ['-v', '-S', ...peer(), '-k', 'QueryRetrieveLevel=IMAGE',
      '-k', `StudyInstanceUID=${dataset.string(0x0020000d) ?? ''}`, '-k', `SeriesInstanceUID=${dataset.string(0x0020000e) ?? ''}`,
      '-k', `SOPInstanceUID=${sopInstanceUid}`]);
    return parseFindResponses(r.stdout + r.stderr).some((id) => id.get('00080018') === sopInstanceUid);
  }

  it('stores or refuses each file as expected, with a reason in the log', async () => {
    const files = malformedFiles();
    const problems: string[] = [];
    for (const [n, name] of files.entries()) {
      const file = path.join(samplesDir(), 'malformed', name);
      const expected = EXPECTED[name];
      if (!expected) {
        problems.push(`${name}: no expectation`);
        continue;
      }
      const logStart = logs.lines.length;
      const declaredUid = (await announcedIdentity(file)).sopInstanceUid;
      const before = await loire.server.archive.index.getInstance(declaredUid);
      let sent: Sent;
      try {
        sent = await send(file, n, expected);
      } catch (err) {
        problems.push(`${name}: not sent: ${(err as Error).message}`);
        continue;
      }
      const line = logs.lines.slice(logStart).find((l) => l.sopInstanceUid === sent.sopInstanceUid && typeof l.reason === 'string' && (l.level as number) >= 40);
      if ('stored' in expected.outcome) {
        if (sent.status !== 0) {
          problems.push(`${name}: refused with 0x${sent.status?.toString(16)} (${sent.detail}), expected stored`);
          continue;
        }
        const record = await loire.server.archive.index.getInstance(sent.sopInstanceUid);
        if (!record) {
          problems.push(`${name}: acknowledged but ${sent.sopInstanceUid} is not in the index`);
          continue;
        }
        const storedBytes = await loire.server.archive.storage.readAll(record.storageKey);
        if (!storedBytes.subarray(datasetOffset(storedBytes)).equals(datasetBytesOfFile(file))) problems.push(`${name}: stored dataset differs from the one sent`);
        if (!(await found(file, sent.sopInstanceUid))) problems.push(`${name}: not found with C-FIND`);
      } else {
        if (sent.status !== expected.outcome.status) problems.push(`${name}: status 0x${sent.status?.toString(16)}, expected 0x${expected.outcome.status.toString(16)}`);
        if (!line) problems.push(`${name}: no warning in the log names ${sent.sopInstanceUid} with a reason`);
        else if (!expected.outcome.reason.test(String(line.reason))) problems.push(`${name}: logged reason "${String(line.reason)}" does not match ${expected.outcome.reason}`);
        // Some samples share a SOP Instance UID with a stored one: a refusal must leave that one as it was.
        const after = await loire.server.archive.index.getInstance(declaredUid);
        if (after?.storageKey !== before?.storageKey) problems.push(`${name}: refused, yet the index changed for ${declaredUid}`);
      }
    }
    expect(Object.keys(EXPECTED).sort()).toEqual(files);
    expect(problems).toEqual([]);
  }, 600_000);

  it('still answers C-ECHO after all of them', async () => {
    const r = await runTool('echoscu', ['-v', ...peer()]);
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);
});
