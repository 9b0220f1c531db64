// Acceptance (issue 4, point 4): a scripted scenario produces exactly the expected audit records,
// and altering one row makes `loire audit verify` fail naming that row.
// Every step goes through a real door: the login route, DIMSE from dcmtk, the DICOMweb delete
// route, and the auditor's GET /api/audit.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPart10File } from '@loire/dicom';
import { auditRows, dropAppendOnlyGuards } from '../testing/audit.js';
import { runTool } from '../testing/dcmtk.js';
import { loireBin, startTestLoire, type TestLoire } from '../testing/loire.js';
import { samplePath, sampleManifest } from '../testing/samples.js';
import { Outcome } from './event.js';

function runLoire(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [loireBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('audit trail scenario', () => {
  let loire: TestLoire;
  let scratch: string;
  // Three CT slices of one study, sent on one association.
  const files = sampleManifest().filter((e) => e.path.startsWith('ct-series/furuhashi-lspine-ct-20180201-sagittal3mm/')).slice(0, 3);
  const studyUid = files[0]!.studyUID!;
  const sopClassUid = files[0]!.sopClassUID!;
  let patientId: string;

  beforeAll(async () => {
    loire = await startTestLoire({
      dicomNodes: [{ name: 'reader', aeTitle: 'READER', permissions: { store: false, query: true, retrieve: true } }],
    });
    scratch = mkdtempSync(path.join(os.tmpdir(), 'loire-audit-scenario-'));
    patientId = (await readPart10File(samplePath(files[0]!))).dataset.string(0x00100020) ?? '';
  });
  afterAll(async () => {
    await loire?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  const peer = (callingAe: string) => ['-aet', callingAe, '-aec', loire.aeTitle, '127.0.0.1', String(loire.dicomPort)];
  const audit = () => loire.server.archive.audit;
  const index = () => loire.server.archive.index;

  /** Waits until the trail holds `n` records (store records are written when the association ends). */
  async function untilRecords(n: number): Promise<void> {
    for (let i = 0; i < 200; i++) {
      await audit().flush();
      if ((await auditRows(index())).length >= n) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`the audit trail never reached ${n} records: ${JSON.stringify((await auditRows(index())).map((r) => r.event_id))}`);
  }

  it('records login, store, query, view, delete and the auditor reading them, exactly', async () => {
    expect(files).toHaveLength(3);
    expect(patientId).not.toBe('');
    await untilRecords(1); // Application Start

    // Login: a radiologist signs in to the console.
    const alice = await loire.createUser(['radiologist'], 'alice');
    const login = await fetch(`${loire.httpUrl}/api/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice', password: alice.password }),
    });
    expect(login.status).toBe(200);
    await untilRecords(2);

    // Store: C-STORE of 3 instances of one study from MODALITY1.
    const stored = await runTool('storescu', [...peer('MODALITY1'), ...files.map((f) => samplePath(f))]);
    expect(stored.code, stored.stderr).toBe(0);
    await untilRecords(3);

    // Query: C-FIND at STUDY level for the patient.
    const found = await runTool('findscu', ['-S', ...peer('READER'), '-k', 'QueryRetrieveLevel=STUDY', '-k', `PatientID=${patientId}`, '-k', 'StudyInstanceUID']);
    expect(found.code, found.stderr).toBe(0);
    await untilRecords(4);

    // View: C-GET of the study (the viewer's WADO-RS requests record Instances Accessed the same way).
    const got = await runTool('getscu', ['-S', '-od', scratch, ...peer('READER'), '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${studyUid}`]);
    expect(got.code, got.stderr).toBe(0);
    await untilRecords(6);

    // Delete: the administrator deletes the study through DICOMweb.
    const deleted = await fetch(`${loire.httpUrl}/dicom-web/studies/${studyUid}`, { method: 'DELETE', headers: loire.httpHeaders });
    expect(deleted.status).toBe(204);
    await untilRecords(7);

    // The auditor reads the trail for this patient over HTTP.
    const response = await fetch(`http://127.0.0.1:${loire.httpPort}/api/audit?patient=${encodeURIComponent(patientId)}&limit=50`, { headers: loire.httpHeaders });
    expect(response.status).toBe(200);
    const body = await response.json() as { records: { event: { kind: string }; user: { id: string }; patient: string; asked: Record<string, unknown> }[] };
    expect(body.records.map((r) => [r.event.kind, r.user.id])).toEqual([
      ['study-deleted', 'admin'],
      ['instances-transferred', 'READER'],
      ['begin-transferring', 'READER'],
      ['query', 'READER'],
      ['instances-transferred', 'MODALITY1'],
    ]);
    const query = body.records[3]!.asked as { identifier: Record<string, unknown>; matches: number };
    expect(query.identifier).toEqual({ QueryRetrieveLevel: 'STUDY', PatientID: patientId, StudyInstanceUID: '' });
    expect(query.matches).toBe(1);
    await untilRecords(8);

    const rows = await auditRows(index());
    expect(rows.map((r) => [r.event_id, r.event_type, r.action, r.outcome, r.user_id, r.patient_id, r.study_uids])).toEqual([
      ['110100', '110120', 'E', Outcome.Success, loire.aeTitle, null, null], // Application Activity: start
      ['110114', '110122', 'E', Outcome.Success, 'alice', null, null], // User Authentication: login
      ['110104', null, 'C', Outcome.Success, 'MODALITY1', patientId, studyUid], // Instances Transferred (stored)
      ['110112', null, 'E', Outcome.Success, 'READER', patientId, null], // Query
      ['110102', null, 'E', Outcome.Success, 'READER', patientId, studyUid], // Begin Transferring (C-GET)
      ['110104', null, 'R', Outcome.Success, 'READER', patientId, studyUid], // Instances Transferred (C-GET)
      ['110105', null, 'D', Outcome.Success, 'admin', patientId, studyUid], // Study Deleted
      ['110101', null, 'R', Outcome.Success, 'admin', null, null], // Audit Log Used (GET /api/audit)
    ]);
    expect(JSON.parse(rows[2]!.summary)).toMatchObject({ service: 'C-STORE', callingAe: 'MODALITY1', instances: 3 });
    expect(rows[2]!.message).toContain(`<SOPClass UID="${sopClassUid}" NumberOfInstances="3"/>`);
    expect(rows[3]!.message).toContain('<ParticipantObjectQuery>');
    expect(JSON.parse(rows[5]!.summary)).toMatchObject({ service: 'C-GET', completed: 3, failed: 0 });
    expect(JSON.parse(rows[7]!.summary)).toMatchObject({ parameters: { patient: patientId, limit: '50' }, status: 200 });
  });

  it('`loire audit verify` passes, then fails naming the one row altered in the database', async () => {
    const args = ['audit', 'verify', '--data', loire.dataDir, '--database', loire.config.database];
    const intact = await runLoire(args);
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toMatch(/8 audit record\(s\) checked, hash chain intact/);

    await dropAppendOnlyGuards(index());
    await index().db.updateTable('audit_event').set({ user_id: 'someone-else' }).where('seq', '=', 4).execute();
    const broken = await runLoire(args);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/audit trail BROKEN at record 4 \(hash-mismatch\)/);
    expect(broken.stdout).toMatch(/3 record\(s\) before it are intact/);
  });
});
