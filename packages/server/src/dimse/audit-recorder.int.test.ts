// The DIMSE door's audit against dcmtk peers: a refused association is a Security Alert naming
// the node; a C-MOVE to an unknown destination and a C-STORE refused are recorded as failures.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows } from '../testing/audit.js';
import { runTool } from '../testing/dcmtk.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';

describe('DIMSE audit', () => {
  let loire: TestLoire;
  let scratch: string;

  beforeAll(async () => {
    // WS1 may query and retrieve (unknown AEs may only store).
    loire = await startTestLoire({ dicomNodes: [{ name: 'ws1', aeTitle: 'WS1', permissions: { store: false, query: true, retrieve: true } }] });
    scratch = mkdtempSync(path.join(os.tmpdir(), 'loire-dimse-audit-'));
  });
  afterAll(async () => {
    await loire?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function rowsOf(eventId: string, n: number) {
    for (let i = 0; i < 200; i++) {
      await loire.server.archive.audit.flush();
      const rows = (await auditRows(loire.server.archive.index)).filter((r) => r.event_id === eventId);
      if (rows.length >= n) return rows;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no ${n} audit record(s) ${eventId}`);
  }

  it('records a refused association as a Security Alert (node authentication) naming the calling AE', async () => {
    const r = await runTool('echoscu', ['-aet', 'INTRUDER', '-aec', 'NOT-LOIRE', '127.0.0.1', String(loire.dicomPort)]);
    expect(r.code).not.toBe(0);
    const [alert] = await rowsOf('110113', 1);
    expect(alert).toMatchObject({ event_type: '110126', outcome: 4, user_id: 'INTRUDER', user_address: '127.0.0.1' });
    expect(JSON.parse(alert!.summary)).toMatchObject({ callingAe: 'INTRUDER', calledAe: 'NOT-LOIRE' });
    expect(alert!.message).toContain('<ParticipantObjectIDTypeCode csd-code="110182" codeSystemName="DCM" originalText="Node ID"/>');
  });

  it('records a C-MOVE to an unknown destination as a failed transfer', async () => {
    const r = await runTool('movescu', ['-S', '-aem', 'NOBODY', '-aet', 'WS1', '-aec', loire.aeTitle, '127.0.0.1', String(loire.dicomPort),
      '-k', 'QueryRetrieveLevel=STUDY', '-k', 'StudyInstanceUID=1.2.3.4']);
    expect(r.code).not.toBe(0); // the final response says Move Destination Unknown
    const [begin] = await rowsOf('110102', 1);
    expect(begin).toMatchObject({ user_id: 'WS1', study_uids: '1.2.3.4' });
    const [transferred] = await rowsOf('110104', 1);
    expect(transferred).toMatchObject({ action: 'R', outcome: 4, user_id: 'WS1', study_uids: '1.2.3.4' });
    expect(JSON.parse(transferred!.summary)).toMatchObject({ service: 'C-MOVE', status: 0xa801 });
    expect(transferred!.message).toMatch(/UserID="NOBODY" UserIsRequestor="false"><RoleIDCode csd-code="110152"/);
  });

  it('records refused C-STOREs of an association as one failed Instances Transferred', async () => {
    // A dataset without its Study Instance UID: Loire refuses it.
    const file = path.join(scratch, 'no-study.dcm');
    const dump = path.join(scratch, 'no-study.dump');
    writeFileSync(dump, '(0008,0016) UI =SecondaryCaptureImageStorage\n(0008,0018) UI [1.2.3.4.5.6]\n(0010,0020) LO [P]\n');
    const made = await runTool('dump2dcm', ['+te', dump, file]);
    expect(made.code, made.stderr).toBe(0);
    await runTool('storescu', ['-aet', 'MOD2', '-aec', loire.aeTitle, '127.0.0.1', String(loire.dicomPort), file]);
    const rows = await rowsOf('110104', 2);
    const refused = rows.find((r) => r.user_id === 'MOD2')!;
    expect(refused).toMatchObject({ action: 'C', outcome: 4, study_uids: null });
    expect(JSON.parse(refused.summary)).toMatchObject({ service: 'C-STORE', refused: 1 });
  });
});
