// DICOM node control and DICOM TLS, driven by dcmtk: strict and default access, rights per node,
// C-MOVE destinations, and TLS (PS3.15 B.9/B.10) with certificates made for the test by openssl.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DatasetParser, encodeDataset, fromDicomJson, toDicomJson, VerificationSOPClass } from '@loire/dicom';
import {
  connect, defaultAssociationPolicy, DimseServer, nAction, PresentationResult, QueryRetrieve, retrieve, secureClientOptions,
  secureServerOptions, StorageCommitment,
} from '@loire/dicom-net';
import { runTool, startStorescp, type Storescp } from '../testing/dcmtk.js';
import { parseFindResponses } from '../testing/find-output.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { LogLines } from '../testing/log-lines.js';
import { createTestPki, type Pem, type TestPki } from '../testing/pki.js';
import { samplePath, storableSamples, type SampleEntry } from '../testing/samples.js';

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** A small uncompressed CT image, the one object these tests move around. */
function smallCt(): SampleEntry {
  const ct = storableSamples()
    .filter((e) => e.modality === 'CT' && (e.transferSyntaxUID === EXPLICIT_LE || e.transferSyntaxUID === IMPLICIT_LE))
    .sort((a, b) => a.bytes - b.bytes)[0];
  if (!ct) throw new Error('the samples hold no uncompressed CT image');
  return ct;
}

const output = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr;
/** The final status movescu printed ("Received Final Move Response (Success)" → "Success"). */
const moveStatus = (r: { stdout: string; stderr: string }) => /Received Final Move Response \(([^)]*)\)/.exec(output(r))?.[1] ?? `no final response:\n${output(r)}`;
const studyKeys = (ct: SampleEntry) => ['-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${ct.studyUID}`];

describe('DICOM node control', () => {
  let strict: TestLoire;
  let lenient: TestLoire;
  let allowed: Storescp;
  let other: Storescp;
  let allowedDir: string;
  let otherDir: string;
  const ct = smallCt();
  const strictLogs = new LogLines();

  beforeAll(async () => {
    allowedDir = mkdtempSync(path.join(os.tmpdir(), 'loire-allowed-'));
    otherDir = mkdtempSync(path.join(os.tmpdir(), 'loire-other-'));
    allowed = await startStorescp(allowedDir, { aeTitle: 'ALLOWED', extraArgs: ['+xa'] });
    other = await startStorescp(otherDir, { aeTitle: 'OTHER', extraArgs: ['+xa'] });
    const nodes = [
      { name: 'modality', aeTitle: 'CT', permissions: { query: false, retrieve: false } },
      { name: 'workstation', aeTitle: 'WS', permissions: { moveDestinations: ['ALLOWED'] } },
      { name: 'self-only', aeTitle: 'SELFONLY' }, // may move only to itself (the default)
      { name: 'far-away', aeTitle: 'FARAWAY', hosts: ['10.99.0.0/16'] },
      { name: 'viewer', aeTitle: 'VIEWER', hosts: ['127.0.0.0/8'], permissions: { store: false } },
      { name: 'allowed', aeTitle: 'ALLOWED', host: '127.0.0.1', port: allowed.port, permissions: { query: false, retrieve: false } },
      { name: 'other', aeTitle: 'OTHER', host: '127.0.0.1', port: other.port, permissions: { query: false, retrieve: false } },
    ];
    strict = await startTestLoire({ dicomNodes: nodes, dicomAccess: { strict: true }, logDestination: strictLogs });
    lenient = await startTestLoire({ dicomNodes: nodes });
    for (const loire of [strict, lenient]) {
      const sent = await runTool('storescu', ['-aet', 'CT', '-aec', loire.aeTitle, '127.0.0.1', String(loire.dicomPort), samplePath(ct)]);
      expect(sent.code, output(sent)).toBe(0);
    }
  });

  afterAll(async () => {
    await Promise.all([strict?.stop(), lenient?.stop(), allowed?.stop(), other?.stop()]);
    rmSync(allowedDir, { recursive: true, force: true });
    rmSync(otherDir, { recursive: true, force: true });
  });

  const at = (loire: TestLoire, callingAe: string) => ['-aet', callingAe, '-aec', loire.aeTitle, '127.0.0.1', String(loire.dicomPort)];

  it('strict mode: an unknown calling AE is rejected with "calling AE title not recognized", whatever it proposes', async () => {
    for (const tool of ['echoscu', 'storescu']) {
      const r = await runTool(tool, [...at(strict, 'STRANGER'), ...(tool === 'storescu' ? [samplePath(ct)] : [])]);
      expect(r.code, tool).not.toBe(0);
      expect(output(r)).toMatch(/Association Rejected[\s\S]*Rejected Permanent[\s\S]*Service User[\s\S]*Calling AE Title Not Recognized/);
    }
    expect((await runTool('echoscu', at(strict, 'CT'))).code).toBe(0);
    // The administrator reads who was refused, from where, and why.
    expect(strictLogs.lines.filter((l) => l.msg === 'association rejected' && l.callingAe === 'STRANGER')).toEqual([
      expect.objectContaining({ remoteAddress: expect.stringMatching(/127\.0\.0\.1/), reason: expect.stringMatching(/"STRANGER" from .* is not a configured DICOM node/) }),
      expect.objectContaining({ reason: expect.stringMatching(/not a configured DICOM node/) }),
    ]);
  });

  it('strict mode: a known AE title calling from an address outside its hosts is an unknown node', async () => {
    const r = await runTool('echoscu', at(strict, 'FARAWAY'));
    expect(output(r)).toMatch(/Calling AE Title Not Recognized/);
  });

  it('default mode: anyone may echo and store, but queries and retrievals are refused to unknown AEs', async () => {
    expect((await runTool('echoscu', at(lenient, 'STRANGER'))).code).toBe(0);
    const sent = await runTool('storescu', [...at(lenient, 'STRANGER'), samplePath(ct)]);
    expect(sent.code, output(sent)).toBe(0);
    const find = await runTool('findscu', ['-S', ...at(lenient, 'STRANGER'), ...studyKeys(ct)]);
    expect(find.code).not.toBe(0);
    expect(output(find)).toMatch(/Association Rejected[\s\S]*Calling AE Title Not Recognized/);
    const move = await runTool('movescu', ['-S', '-aem', 'ALLOWED', ...at(lenient, 'STRANGER'), ...studyKeys(ct)]);
    expect(output(move)).toMatch(/Association Rejected[\s\S]*Calling AE Title Not Recognized/);
  });

  it('a node without query rights is refused: the association if it proposes only C-FIND, the C-FIND context otherwise', async () => {
    const find = await runTool('findscu', ['-S', ...at(strict, 'CT'), ...studyKeys(ct)]);
    expect(find.code).not.toBe(0);
    expect(output(find)).toMatch(/Association Rejected[\s\S]*Rejected Permanent[\s\S]*Service User[\s\S]*No Reason/);
    const association = await connect({
      host: '127.0.0.1', port: strict.dicomPort, callingAe: 'CT', calledAe: strict.aeTitle,
      contexts: [{ abstractSyntax: VerificationSOPClass, transferSyntaxes: [IMPLICIT_LE] }, { abstractSyntax: QueryRetrieve.StudyRootFind, transferSyntaxes: [IMPLICIT_LE] }],
    });
    try {
      expect(association.contexts.map((c) => [c.abstractSyntax, c.result])).toEqual([
        [VerificationSOPClass, PresentationResult.Acceptance], [QueryRetrieve.StudyRootFind, PresentationResult.UserRejection]]);
    } finally {
      await association.release();
    }
    // A node with query rights gets its answer.
    const allowedFind = await runTool('findscu', ['-v', '-S', ...at(strict, 'WS'), ...studyKeys(ct), '-k', 'NumberOfStudyRelatedInstances']);
    expect(parseFindResponses(output(allowedFind)).map((m) => m.get('00201208'))).toEqual(['1']);
  });

  it('a node that may retrieve but not store gets C-GET (as Storage SCP) but cannot send objects', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loire-viewer-'));
    try {
      const got = await runTool('getscu', ['-S', '-od', dir, ...at(strict, 'VIEWER'), ...studyKeys(ct)]);
      expect(got.code, output(got)).toBe(0);
      expect(readdirSync(dir)).toEqual([`CT.${ct.sopInstanceUID}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const sent = await runTool('storescu', [...at(strict, 'VIEWER'), samplePath(ct)]);
    expect(sent.code).not.toBe(0);
    expect(output(sent)).toMatch(/Association Rejected[\s\S]*No Reason/);
  });

  it('C-MOVE: 0xA801 for an unknown destination and for one the caller may not send to; success to an allowed one', async () => {
    const move = (callingAe: string, destination: string) => runTool('movescu', ['-v', '-S', '-aem', destination, ...at(strict, callingAe), ...studyKeys(ct)]);
    expect(moveStatus(await move('WS', 'NOBODY'))).toBe('Refused: MoveDestinationUnknown');
    expect(moveStatus(await move('WS', 'OTHER'))).toBe('Refused: MoveDestinationUnknown');
    expect(moveStatus(await move('SELFONLY', 'ALLOWED'))).toBe('Refused: MoveDestinationUnknown');
    expect(readdirSync(otherDir)).toEqual([]);
    expect(readdirSync(allowedDir)).toEqual([]);
    expect(moveStatus(await move('WS', 'ALLOWED'))).toBe('Success');
    expect(readdirSync(allowedDir).some((f) => f.endsWith(ct.sopInstanceUID!))).toBe(true);
    // A storage-only node cannot retrieve at all.
    const byModality = await move('CT', 'ALLOWED');
    expect(output(byModality)).toMatch(/Association Rejected[\s\S]*No Reason/);
  });
});

describe('DICOM TLS', () => {
  let pki: TestPki;
  let rogue: TestPki;
  let pems: Record<'loire' | 'ws' | 'dest' | 'modality' | 'intruder', Pem>;
  let loire: TestLoire;
  let dest: Storescp;
  /** A modality's storage commitment SCU: it receives N-EVENT-REPORTs on its TLS port. */
  let modality: DimseServer;
  const reports: { transactionUid: string; clientCertificate?: string }[] = [];
  const logs = new LogLines();
  let destDir: string;
  const ct = smallCt();

  beforeAll(async () => {
    pki = createTestPki();
    rogue = createTestPki('Rogue CA');
    pems = { loire: pki.issue('loire'), ws: pki.issue('ws'), dest: pki.issue('dest'), modality: pki.issue('modality'), intruder: rogue.issue('intruder') };
    const certificateOf = new Map<object, string | undefined>();
    modality = new DimseServer({
      policy: defaultAssociationPolicy({ calledAeTitles: ['TLSCT'] }),
      handlers: {
        onNEventReport: (ctx) => {
          const parser = new DatasetParser({ transferSyntaxUid: ctx.transferSyntaxUid });
          if (ctx.dataset) parser.push(ctx.dataset);
          const transactionUid = String(toDicomJson(parser.end())['00081195']?.Value?.[0]);
          reports.push({ transactionUid, clientCertificate: certificateOf.get(ctx.association) });
          return { status: 0 };
        },
      },
    });
    modality.on('association-accepted', (e) => certificateOf.set(e.association, e.request.tlsPeer?.certificate?.subject));
    const modalityPort = (await modality.listen({ host: '127.0.0.1', port: 0,
      tls: secureServerOptions({ key: pems.modality.key, cert: pems.modality.cert, ca: pki.ca.cert, clientCertificates: 'required' }) })).port;
    destDir = mkdtempSync(path.join(os.tmpdir(), 'loire-tlsdest-'));
    // storescp +tls requires and verifies the client certificate (dcmtk's default, +rv).
    dest = await startStorescp(destDir, { aeTitle: 'TLSDEST', extraArgs: ['+xa', '+tls', pems.dest.keyFile, pems.dest.certFile, '+cf', pki.ca.certFile] });
    loire = await startTestLoire({
      logDestination: logs,
      dicomTls: { port: 0, certificate: pems.loire.certFile, key: pems.loire.keyFile, ca: pki.ca.certFile, clientCertificates: 'required', plain: false },
      dicomNodes: [
        { name: 'ws', aeTitle: 'WS', permissions: { moveDestinations: ['TLSDEST'] } },
        { name: 'tls-destination', aeTitle: 'TLSDEST', host: '127.0.0.1', port: dest.port, tls: true, permissions: { query: false, retrieve: false } },
        { name: 'tls-modality', aeTitle: 'TLSCT', host: '127.0.0.1', port: modalityPort, tls: true, permissions: { query: false, retrieve: false } },
      ],
    });
  });

  afterAll(async () => {
    await Promise.all([loire?.stop(), dest?.stop(), modality?.close({ drain: false })]);
    pki?.dispose();
    rogue?.dispose();
    rmSync(destDir, { recursive: true, force: true });
  });

  const tlsPeer = (): string[] => ['-aec', loire.aeTitle, '127.0.0.1', String(loire.dicomTlsPort)];
  const withCert = (p: Pem, ca = pki.ca.certFile) => ['+tls', p.keyFile, p.certFile, '+cf', ca];

  it('serves only the TLS port when plain DICOM is switched off', () => {
    expect(loire.server.dimsePort).toBeUndefined();
    expect(loire.dicomTlsPort).toBeGreaterThan(0);
  });

  it('echoscu and storescu +tls succeed with a certificate from the trusted authority', async () => {
    const echo = await runTool('echoscu', [...withCert(pems.ws), '-aet', 'WS', ...tlsPeer()]);
    expect(echo.code, output(echo)).toBe(0);
    const sent = await runTool('storescu', [...withCert(pems.ws), '-aet', 'WS', ...tlsPeer(), samplePath(ct)]);
    expect(sent.code, output(sent)).toBe(0);
    expect(await loire.server.archive.index.getInstance(ct.sopInstanceUID!)).toBeDefined();
  });

  it('fail without TLS, without a client certificate, with a certificate from another authority, or when Loire is not trusted', async () => {
    const attempts = {
      plain: await runTool('echoscu', ['-aet', 'WS', ...tlsPeer()]),
      anonymous: await runTool('echoscu', ['+tla', '+cf', pki.ca.certFile, '-aet', 'WS', ...tlsPeer()]),
      rogueCertificate: await runTool('storescu', [...withCert(pems.intruder), '-aet', 'WS', ...tlsPeer(), samplePath(ct)]),
      loireNotTrusted: await runTool('echoscu', [...withCert(pems.ws, rogue.ca.certFile), '-aet', 'WS', ...tlsPeer()]),
    };
    for (const [name, r] of Object.entries(attempts)) {
      expect(r.code, `${name}: ${output(r)}`).not.toBe(0);
      expect(output(r), name).not.toMatch(/Association Accepted/);
    }
    const refused = logs.lines.filter((l) => l.msg === 'DICOM TLS connection refused').map((l) => String(l.reason));
    expect(refused.length).toBeGreaterThanOrEqual(3);
    expect(refused.join('\n')).toMatch(/certificate/i);
  });

  it('C-MOVE sends to a destination marked tls: true over TLS, presenting Loire\'s certificate', async () => {
    // movescu has no TLS options: the C-MOVE comes from Loire's own SCU, over TLS with the workstation's certificate.
    const association = await connect({
      host: '127.0.0.1', port: loire.dicomTlsPort!, callingAe: 'WS', calledAe: loire.aeTitle,
      tls: secureClientOptions({ ca: pki.ca.cert, key: pems.ws.key, cert: pems.ws.cert }),
      contexts: [{ abstractSyntax: QueryRetrieve.StudyRootMove, transferSyntaxes: [EXPLICIT_LE] }],
    });
    try {
      const identifier = encodeDataset(fromDicomJson({
        '00080052': { vr: 'CS', Value: ['STUDY'] }, '0020000D': { vr: 'UI', Value: [ct.studyUID!] },
      }), { transferSyntaxUid: EXPLICIT_LE });
      const outcome = await retrieve(association, 'move', QueryRetrieve.StudyRootMove, identifier, EXPLICIT_LE, 'TLSDEST');
      expect(outcome).toMatchObject({ status: 0, completed: 1, failed: 0 });
    } finally {
      await association.release();
    }
    expect(readdirSync(destDir).some((f) => f.endsWith(ct.sopInstanceUID!))).toBe(true);
  });

  it('sends a storage commitment result on a new TLS association when the requester has gone', async () => {
    const requester = await connect({
      host: '127.0.0.1', port: loire.dicomTlsPort!, callingAe: 'TLSCT', calledAe: loire.aeTitle,
      tls: secureClientOptions({ ca: pki.ca.cert, key: pems.modality.key, cert: pems.modality.cert }),
      contexts: [{ abstractSyntax: StorageCommitment.sopClassUid, transferSyntaxes: [EXPLICIT_LE] }],
    });
    // Hold the commitment until the requester has released its association.
    let released!: () => void;
    const requesterGone = new Promise<void>((resolve) => { released = resolve; });
    const storage = loire.server.archive.storage;
    const sync = storage.sync.bind(storage);
    vi.spyOn(storage, 'sync').mockImplementation(async (keys) => {
      await requesterGone;
      await sync(keys);
    });
    const transactionUid = `2.25.${Date.now()}`;
    try {
      const rsp = await nAction(requester, {
        actionTypeId: StorageCommitment.requestActionType,
        dataset: encodeDataset(fromDicomJson({
          '00081195': { vr: 'UI', Value: [transactionUid] },
          '00081199': { vr: 'SQ', Value: [{ '00081150': { vr: 'UI', Value: [ct.sopClassUID!] }, '00081155': { vr: 'UI', Value: [ct.sopInstanceUID!] } }] },
        }), { transferSyntaxUid: EXPLICIT_LE }),
      });
      expect(rsp.status).toBe(0);
      await requester.release();
      released();
      await expect.poll(() => reports.find((r) => r.transactionUid === transactionUid), { timeout: 10_000 }).toEqual({ transactionUid, clientCertificate: 'CN=loire' });
    } finally {
      vi.restoreAllMocks();
    }
  });
});
