// Runs the harness's pieces against the real peers it benchmarks (dcmtk and Orthanc): the sender
// counts what the receivers really stored, and the C-FIND client agrees with dcmtk's findscu.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDatasets } from './generate.mjs';
import { measureIngest } from './ingest.mjs';
import { openFindAssociation } from './lib/find-client.mjs';
import { sendDirectories } from './lib/storescu.mjs';
import { TARGETS } from './lib/targets.mjs';
import { queryMix } from './query.mjs';

const installed = (command: string) => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
const havePeers = installed('storescu') && installed('storescp') && installed('findscu') && fs.existsSync('/usr/sbin/Orthanc');

/** How many studies dcmtk findscu finds for the same keys (one process per query). */
function findscuMatches(port: number, ae: string, keys: Record<string, string>): number {
  const dictionaryKeys: Record<string, string> = {
    patientId: 'PatientID', patientName: 'PatientName', studyUid: 'StudyInstanceUID', accession: 'AccessionNumber',
  };
  const args = ['-v', '-S', '-aet', 'BENCH', '-aec', ae, '-k', 'QueryRetrieveLevel=STUDY', '-k', 'StudyInstanceUID'];
  for (const [key, value] of Object.entries(keys)) args.push('-k', `${dictionaryKeys[key]}=${value}`);
  const run = spawnSync('findscu', [...args, '127.0.0.1', String(port)], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`findscu failed: ${run.stderr}`);
  return (`${run.stdout}${run.stderr}`.match(/Find Response: \d+ \(Pending\)/g) ?? []).length;
}

describe.skipIf(!havePeers)('benchmark harness against dcmtk and Orthanc', () => {
  let root: string;
  let sets: Awaited<ReturnType<typeof ensureDatasets>>;

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'loire-bench-test-'));
    sets = await ensureDatasets({ out: path.join(root, 'data'), small: 800 });
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('sends the 4 shards on 4 parallel associations and storescp writes every file', async () => {
    const running = await TARGETS.storescp.start(fs.mkdtempSync(path.join(root, 'scp-')));
    try {
      const sent = await sendDirectories({ port: running.port, calledAe: running.ae, dirs: sets.small.shards.map((s) => path.join(sets.out, s)) });
      expect(sent.failures).toEqual([]);
      expect(sent.stored).toBe(800);
      expect(sent.seconds).toBeGreaterThan(0);
      expect(sent.secondsWithScan).toBeGreaterThanOrEqual(sent.seconds);
      expect(fs.readdirSync(running.dataDir)).toHaveLength(800);
    } finally {
      await running.stop();
    }
  });

  it('measures a run: its rate, and the CPU the target and the senders took per instance', async () => {
    const dirs = sets.small.shards.map((s) => path.join(sets.out, s));
    const run = await measureIngest(TARGETS.storescp, { dirs, instances: 800, bytes: sets.small.bytes }, fs.mkdtempSync(path.join(root, 'measured-')));
    expect(run).toMatchObject({ status: 'ok', instances: 800 });
    if (!fs.existsSync('/proc/stat')) return;
    // storescu parses and sends every file, storescp receives and writes it: neither is free.
    expect(run.cpu!.sendersMicros).toBeGreaterThan(0);
    expect(run.cpu!.targetMicros).toBeGreaterThan(0);
    expect(run.cpu!.idleShare).toBeGreaterThanOrEqual(0);
    expect(run.cpu!.idleShare).toBeLessThanOrEqual(1);
  });

  it('stores into Orthanc, whose C-FIND answers our client exactly as it answers findscu', async () => {
    const running = await TARGETS.orthanc.start(fs.mkdtempSync(path.join(root, 'orthanc-')));
    try {
      const sent = await sendDirectories({ port: running.port, calledAe: running.ae, dirs: [path.join(sets.out, sets.small.dir)] });
      expect(sent.stored).toBe(800);
      const statistics = await (await fetch(`http://127.0.0.1:${running.httpPort}/statistics`)).json();
      expect(statistics.CountInstances).toBe(800);

      const client = await openFindAssociation({ port: running.port, calledAe: running.ae });
      try {
        for (const query of queryMix(sets.small, 8)) {
          const ours = await client.find(query.keys);
          expect(ours.matches, `${query.kind} ${JSON.stringify(query.keys)}`).toBe(findscuMatches(running.port, running.ae, query.keys));
          expect(ours.matches).toBeGreaterThan(0);
        }
        // Each patient of the small set has 2 studies; an unknown patient has none.
        expect((await client.find({ patientId: sets.small.patients[0]!.patientId })).matches).toBe(2);
        expect((await client.find({ patientId: 'NOBODY' })).matches).toBe(0);
      } finally {
        await client.release();
      }
    } finally {
      await running.stop();
    }
  });
});
