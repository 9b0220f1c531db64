// The `loire` command as an operator runs it, as child processes of the built package (run
// `npx tsc -b` first): serve with settings from the environment and flags, refusal of a bad
// configuration, readiness, graceful stop under load, import of a patient CD, and verify.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readPart10File } from '@loire/dicom';
import { openIndex } from '../index/index.js';
import { freePort, runTool, startStorescp } from '../testing/dcmtk.js';
import { createTestDatabase, loireBin, spawnLoire, type LoireProcess, type TestDatabase } from '../testing/loire.js';
import { repoRoot, sampleManifest, samplePath, samplesDir } from '../testing/samples.js';

const WAKASA_CD = 'media-cd/furuhashi-mr-20180107-wakasa-cd';
const MEDIA_STORAGE_DIRECTORY = '1.2.840.10008.1.3.10';

/** The environment without any LOIRE_* setting of the shell that runs the tests. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LOIRE_')) env[k] = v;
  return { ...env, ...extra };
}

interface Finished { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs `loire ARGS…` to completion. */
function runLoire(args: string[], env: NodeJS.ProcessEnv = cleanEnv(), timeoutMs = 120_000): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [loireBin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `loire serve ARGS…` in the background, with what it printed and a way to stop it. */
function serveInBackground(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [loireBin, 'serve', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => {
    if (signal) output += `\n[loire serve ended by ${signal}]`;
    resolve(code);
  }));
  return {
    child,
    output: () => output,
    exited,
    async stop(): Promise<number | null> {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

async function healthz(httpPort: number): Promise<number | 'refused'> {
  try {
    return (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status;
  } catch {
    return 'refused';
  }
}

async function waitForHealthy(httpPort: number, serve: { child: ChildProcess; output(): string }, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (serve.child.exitCode !== null || serve.child.signalCode !== null) {
      throw new Error(`loire ended (code ${serve.child.exitCode}, signal ${serve.child.signalCode}):\n${serve.output()}`);
    }
    if (await healthz(httpPort) === 200) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`loire not ready after ${timeoutMs} ms (pid ${serve.child.pid}):\n${serve.output()}`);
}

function echo(aeTitle: string, port: number) {
  return runTool('echoscu', ['-aec', aeTitle, '127.0.0.1', String(port)], { timeoutMs: 30_000 });
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)).filter((f) => statSync(f).isFile());
}

/** The summary line `loire verify` ends with: objects checked and problems. */
function verifyCounts(stdout: string): { checked: number; problems: number } {
  const m = /(\d+) objects \([\d.]+ MiB\) checked, (\d+) problem\(s\)/.exec(stdout);
  if (!m) throw new Error(`no verify summary in:\n${stdout}`);
  return { checked: Number(m[1]), problems: Number(m[2]) };
}

describe('loire command line', () => {
  const cleanup: (() => Promise<void> | void)[] = [];

  beforeAll(() => {
    if (!existsSync(path.join(repoRoot, 'packages/server/dist/cli/main.js'))) {
      throw new Error('packages/server/dist is missing: run `npx tsc -b` before the command-line tests');
    }
  });

  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** A temp directory and a fresh index database in it (or on the PostgreSQL test server). */
  async function workspace(): Promise<{ dir: string; db: TestDatabase }> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loire-cli-'));
    const db = await createTestDatabase(dir);
    cleanup.push(async () => {
      await db.dispose();
      rmSync(dir, { recursive: true, force: true });
    });
    return { dir, db };
  }

  it('serve takes every setting from LOIRE_* environment variables', async () => {
    const { dir, db } = await workspace();
    const storescpDir = mkdtempSync(path.join(dir, 'storescp-'));
    const storescp = await startStorescp(storescpDir, { aeTitle: 'ENVNODE' });
    cleanup.push(() => storescp.stop());
    const httpPort = await freePort();
    const dicomPort = await freePort();
    const dataDir = path.join(dir, 'data-from-env');
    const configFile = path.join(dir, 'loire.yaml');
    // The file declares a node (only the file can) and ports that the environment overrides.
    writeFileSync(configFile, [
      'httpPort: 1', 'dicomPort: 1', 'aeTitle: FROMFILE',
      'dicomNodes:', `  - { name: envnode, aeTitle: ENVNODE, host: 127.0.0.1, port: ${storescp.port} }`,
      '  - { name: movescu, aeTitle: MOVESCU, permissions: { moveDestinations: [ENVNODE] } }', '',
    ].join('\n'));
    const serve = serveInBackground([], cleanEnv({
      LOIRE_DATA: dataDir, LOIRE_HTTP_PORT: String(httpPort), LOIRE_DICOM_PORT: String(dicomPort),
      LOIRE_AE_TITLE: 'ENVAE', LOIRE_DATABASE: db.url, LOIRE_CONFIG: configFile,
    }));
    cleanup.push(async () => { await serve.stop(); });
    await waitForHealthy(httpPort, serve);

    expect((await echo('ENVAE', dicomPort)).code).toBe(0);
    expect((await echo('FROMFILE', dicomPort)).code).not.toBe(0);
    const file = samplePath('ct-series/philips-head-ct-std-brain-1mm/' + readdirSync(path.join(samplesDir(), 'ct-series/philips-head-ct-std-brain-1mm')).sort()[0]);
    const { dataset } = await readPart10File(file);
    const sop = dataset.string(0x00080018)!;
    const sent = await runTool('storescu', ['-aec', 'ENVAE', '127.0.0.1', String(dicomPort), file]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(filesUnder(path.join(dataDir, 'objects')), 'one object').toHaveLength(1);
    // The node from LOIRE_CONFIG's file is a C-MOVE destination.
    const moved = await runTool('movescu', ['-v', '-S', '-aec', 'ENVAE', '-aem', 'ENVNODE', '127.0.0.1', String(dicomPort),
      '-k', 'QueryRetrieveLevel=IMAGE', '-k', `StudyInstanceUID=${dataset.string(0x0020000d)}`,
      '-k', `SeriesInstanceUID=${dataset.string(0x0020000e)}`, '-k', `SOPInstanceUID=${sop}`]);
    expect(moved.stdout + moved.stderr).toContain('Received Final Move Response (Success)');
    expect(readdirSync(storescpDir).some((f) => f.endsWith(sop))).toBe(true);

    expect(await serve.stop()).toBe(0);
    // The index named by LOIRE_DATABASE holds what was stored.
    const verified = await runLoire(['verify', '--data', dataDir, '--database', db.url]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verifyCounts(verified.stdout)).toEqual({ checked: 1, problems: 0 });
  }, 120_000);

  it('serve flags override the environment (and --config overrides LOIRE_CONFIG)', async () => {
    const { dir, db } = await workspace();
    const envData = path.join(dir, 'data-from-env');
    const flagData = path.join(dir, 'data-from-flags');
    const envHttp = await freePort();
    const envDicom = await freePort();
    const httpPort = await freePort();
    const dicomPort = await freePort();
    const badConfig = path.join(dir, 'bad.yaml');
    writeFileSync(badConfig, 'httpPort: not-a-port\n');
    const goodConfig = path.join(dir, 'good.json');
    writeFileSync(goodConfig, JSON.stringify({ logLevel: 'info' }));
    const serve = serveInBackground(
      ['--data', flagData, '--http-port', String(httpPort), '--dicom-port', String(dicomPort), '--ae-title', 'FLAGAE',
        '--database', db.url, '--config', goodConfig],
      cleanEnv({
        LOIRE_DATA: envData, LOIRE_HTTP_PORT: String(envHttp), LOIRE_DICOM_PORT: String(envDicom), LOIRE_AE_TITLE: 'ENVAE',
        // Would fail if used: nothing is listening there.
        LOIRE_DATABASE: 'postgres://nobody@127.0.0.1:1/none', LOIRE_CONFIG: badConfig,
      }),
    );
    cleanup.push(async () => { await serve.stop(); });
    await waitForHealthy(httpPort, serve);
    expect((await echo('FLAGAE', dicomPort)).code).toBe(0);
    expect((await echo('ENVAE', dicomPort)).code).not.toBe(0);
    expect(await healthz(envHttp)).toBe('refused');
    expect((await echo('FLAGAE', envDicom)).code).not.toBe(0);
    expect(existsSync(path.join(flagData, 'objects'))).toBe(true);
    expect(existsSync(envData)).toBe(false);
    expect(await serve.stop()).toBe(0);
  }, 120_000);

  it('a bad configuration file stops start-up with a non-zero exit naming the wrong field', async () => {
    const { dir, db } = await workspace();
    const cases: { file: string; content: string; field: RegExp }[] = [
      { file: 'bad-node.yaml', content: 'dicomNodes:\n  - { name: ct1, aeTitle: AN_AE_TITLE_FAR_TOO_LONG, host: ct1.local, port: 104 }\n', field: /dicomNodes\.0\.aeTitle/ },
      { file: 'bad-port.json', content: JSON.stringify({ dicomNodes: [{ name: 'mr', aeTitle: 'MR', host: 'mr.local', port: 0 }] }), field: /dicomNodes\.0\.port/ },
      { file: 'typo.yaml', content: 'httpPrt: 8080\n', field: /httpPrt/ },
      { file: 'bad-pdu.yaml', content: 'dimse:\n  maxPduLength: 12\n', field: /dimse\.maxPduLength/ },
      { file: 'not-yaml.yaml', content: 'dicomNodes: [\n', field: /not valid YAML/ },
    ];
    for (const c of cases) {
      const file = path.join(dir, c.file);
      writeFileSync(file, c.content);
      const httpPort = await freePort();
      const r = await runLoire(['serve', '--data', path.join(dir, 'data'), '--database', db.url, '--http-port', String(httpPort), '--dicom-port', '0', '--config', file]);
      expect(r.signal, `${c.file}: killed by ${r.signal}: ${r.stderr}`).toBeNull();
      expect(r.code, `${c.file}: ${r.stderr}`).not.toBe(0);
      expect(r.stderr, c.file).toMatch(c.field);
      expect(r.stderr, c.file).toContain(file);
      expect(await healthz(httpPort)).toBe('refused');
    }
  }, 120_000);

  it('a port in use or a data directory that cannot be made stops start-up with one line that says what to do', async () => {
    const { dir, db } = await workspace();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '0.0.0.0', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const r = await runLoire(['serve', '--data', path.join(dir, 'data'), '--database', db.url, '--http-port', String(await freePort()), '--dicom-port', String(port)]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`loire: port ${port} on .* is in use: .*choose other ports \\(--dicom-port`));
      expect(r.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
    } finally {
      taken.close();
    }
    // The data directory under a regular file: it cannot be created.
    const file = path.join(dir, 'a-file');
    writeFileSync(file, '');
    const r = await runLoire(['serve', '--data', path.join(file, 'data'), '--http-port', String(await freePort()), '--dicom-port', '0']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`loire: cannot create ${path.join(file, 'data')}`);
    expect(r.stderr).toContain('(ENOTDIR): check that the data directory (--data, LOIRE_DATA) is on a mounted, writable file system');
    expect(r.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
    // A directory in which nothing can be made (mkdir answers ENOENT there): Node's own recursive
    // mkdir retries such a path forever; Loire fails at once.
    if (existsSync('/proc/self')) {
      const underProc = `/proc/loire-data-${process.pid}`;
      const p = await runLoire(['serve', '--data', underProc, '--http-port', String(await freePort()), '--dicom-port', '0'], cleanEnv(), 30_000);
      expect(p.code, p.stderr).toBe(1);
      expect(p.stderr).toContain(`loire: cannot create ${underProc} (ENOENT): check that the data directory`);
      expect(p.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
    }
  }, 120_000);

  it('an index database that cannot be reached, found or opened stops start-up with one line that says what to do', async () => {
    const { dir, db } = await workspace();
    const serve = (database: string) => runLoire(['serve', '--data', path.join(dir, 'data'), '--database', database, '--http-port', '0', '--dicom-port', '0'], cleanEnv(), 60_000);
    const cases: { database: string; says: string }[] = [
      // Port 1: nothing listens there.
      { database: 'postgres://postgres@127.0.0.1:1/test', says: 'loire: cannot reach the index database at 127.0.0.1:1 (ECONNREFUSED): is PostgreSQL running there? check --database (LOIRE_DATABASE)' },
      { database: `sqlite://${path.join(dir, 'not-a-database.sqlite')}`, says: 'loire: the index database file is damaged or is not a Loire index (SQLITE_NOTADB: ' },
      { database: `sqlite://${path.join(dir, 'no-such-directory', 'index.sqlite')}`, says: 'loire: the index database cannot be opened for writing (SQLITE_CANTOPEN: ' },
    ];
    writeFileSync(path.join(dir, 'not-a-database.sqlite'), 'this is not a SQLite file, but it is long enough to be read as one '.repeat(100));
    if (db.url.startsWith('postgres')) {
      const url = new URL(db.url);
      url.pathname = '/loire_no_such_database';
      cases.push({ database: url.toString(), says: 'loire: the index database refused the connection (3D000: database "loire_no_such_database" does not exist): check the database name' });
    }
    for (const { database, says } of cases) {
      const r = await serve(database);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(says);
      expect(r.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
    }
  }, 120_000);

  it('a second server on the same data directory is refused; the lock of a server that is gone is taken over', async () => {
    const { dir, db } = await workspace();
    const dataDir = path.join(dir, 'data');
    const ports = async (): Promise<string[]> => ['--http-port', String(await freePort()), '--dicom-port', String(await freePort())];
    const firstArgs = ['--data', dataDir, '--database', db.url, ...await ports()];
    const first = serveInBackground(firstArgs, cleanEnv());
    cleanup.push(async () => { await first.stop(); });
    await waitForHealthy(Number(firstArgs[firstArgs.indexOf('--http-port') + 1]), first);
    expect(readFileSync(path.join(dataDir, 'loire.pid'), 'utf8').trim()).toBe(String(first.child.pid));

    const second = await runLoire(['serve', '--data', dataDir, '--database', db.url, ...await ports()], cleanEnv(), 60_000);
    expect(second.code, second.stderr).toBe(1);
    expect(second.stderr).toContain(`loire: the data directory ${dataDir} is in use by another Loire server (process ${first.child.pid}): stop that one first, or give this one another --data`);
    expect(second.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
    // The first one never noticed: still serving. A command beside it (import) is not a server, and runs.
    expect((await echo('LOIRE', Number(firstArgs[firstArgs.indexOf('--dicom-port') + 1]))).code).toBe(0);
    const imported = await runLoire(['import', '--data', dataDir, '--database', db.url, samplePath('ct-series/philips-head-ct-std-brain-1mm/I10')], cleanEnv());
    expect(imported.code, imported.stderr).toBe(0);

    // Killed, it leaves its lock behind; the next server takes it over. Stopped cleanly, it leaves none.
    first.child.kill('SIGKILL');
    await first.exited;
    expect(existsSync(path.join(dataDir, 'loire.pid'))).toBe(true);
    const nextArgs = ['--data', dataDir, '--database', db.url, ...await ports()];
    const next = serveInBackground(nextArgs, cleanEnv());
    cleanup.push(async () => { await next.stop(); });
    await waitForHealthy(Number(nextArgs[nextArgs.indexOf('--http-port') + 1]), next);
    expect(await next.stop(), next.output()).toBe(0);
    expect(existsSync(path.join(dataDir, 'loire.pid'))).toBe(false);
  }, 180_000);

  it('/healthz answers 200 only once DICOM associations are accepted', async () => {
    const { dir, db } = await workspace();
    const httpPort = await freePort();
    const dicomPort = await freePort();
    const serve = serveInBackground(['--data', path.join(dir, 'data'), '--database', db.url, '--http-port', String(httpPort), '--dicom-port', String(dicomPort)], cleanEnv());
    cleanup.push(async () => { await serve.stop(); });
    const seen = new Set<number | 'refused'>();
    const deadline = Date.now() + 60_000;
    for (;;) {
      expect(serve.child.exitCode, serve.output()).toBeNull();
      const status = await healthz(httpPort);
      seen.add(status);
      if (status === 200) break;
      expect(Date.now(), serve.output()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 20));
    }
    // The moment health says ready, an association goes through.
    expect((await echo('LOIRE', dicomPort)).code).toBe(0);
    expect([...seen].filter((s) => s !== 200 && s !== 503 && s !== 'refused')).toEqual([]);
    expect(await serve.stop()).toBe(0);
    expect(serve.output()).toContain('Loire is ready');
  }, 120_000);

  it('SIGTERM during a storescu of a few hundred files lets the association finish, then exits 0', async () => {
    const { dir, db } = await workspace();
    // 240 files, 60 MB: well within the 30 s Loire gives open associations to finish.
    const folders = ['mr-series/philips-adni-sag3d-mprage-3t', 'ct-series/philips-head-ct-std-brain-1mm'];
    const entries = sampleManifest().filter((e) => e.isDicom && folders.some((f) => e.path.startsWith(`${f}/`)));
    const files = entries.map((e) => samplePath(e));
    const instances = new Set(entries.map((e) => e.sopInstanceUID));
    expect(files.length).toBeGreaterThan(200);
    const loire: LoireProcess = await spawnLoire(path.join(dir, 'data'), db.url, [], cleanEnv());
    cleanup.push(async () => { await loire.kill('SIGKILL'); });
    await loire.waitUntilReady();

    const storescu = runTool('storescu', ['-v', '-aec', 'LOIRE', '127.0.0.1', String(loire.dicomPort), ...files], { timeoutMs: 300_000 });
    // Wait until the transfer is under way, then ask Loire to stop.
    const objects = path.join(dir, 'data', 'objects');
    const started = Date.now();
    while (filesUnder(objects).length < 20) {
      expect(Date.now() - started, loire.output()).toBeLessThan(120_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    const storedAtSignal = filesUnder(objects).length;
    expect(storedAtSignal).toBeLessThan(files.length);
    const exitCode = loire.kill('SIGTERM');
    // Once stopping, no new association is accepted, while the open one goes on.
    while (!loire.output().includes('stopping: draining open associations')) {
      expect(loire.child.exitCode, loire.output()).toBeNull();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await echo('LOIRE', loire.dicomPort)).code).not.toBe(0);
    const sent = await storescu;
    expect(sent.code, sent.stderr.slice(-2000)).toBe(0);
    const stored = (sent.stdout + sent.stderr).match(/Received Store Response \(Success\)/g) ?? [];
    expect(stored).toHaveLength(files.length);
    expect(await exitCode, loire.output()).toBe(0);
    expect(filesUnder(objects)).toHaveLength(instances.size);

    const verified = await runLoire(['verify', '--data', path.join(dir, 'data'), '--database', db.url]);
    expect(verifyCounts(verified.stdout)).toEqual({ checked: instances.size, problems: 0 });
  }, 300_000);

  it('import of a patient CD: counts, rejected files by reason, DICOMDIR skipped, a second import finds them stored', async () => {
    const { dir, db } = await workspace();
    const cd = sampleManifest().filter((e) => e.path.startsWith(`${WAKASA_CD}/`));
    const images = cd.filter((e) => e.isDicom && e.sopClassUID !== MEDIA_STORAGE_DIRECTORY);
    const directories = cd.filter((e) => e.sopClassUID === MEDIA_STORAGE_DIRECTORY);
    const others = cd.filter((e) => !e.isDicom);
    expect(images.length).toBeGreaterThan(0);
    expect(directories).toHaveLength(1);
    expect(others.length).toBeGreaterThan(0);
    const args = ['import', '--data', path.join(dir, 'data'), '--database', db.url, samplePath(WAKASA_CD)];

    const first = await runLoire(args);
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.trim().split('\n');
    expect(lines[0]).toBe(`${cd.length} files: ${images.length} stored, 0 already stored, 1 DICOMDIR skipped (directory records, not objects), ${others.length} rejected`);
    // One group per reason: every non-DICOM file of the CD (HTML, JPEG, CSS, text) has the same one.
    const groups = lines.filter((l) => /^ {2}\d+ × /.test(l));
    expect(groups).toEqual([`  ${others.length} × not a DICOM file (no DICM prefix and no DICOM data element at its start)`]);
    expect(first.stdout).not.toContain(`${path.sep}DICOMDIR`);
    // The audit trail says what the import stored, study by study, and what it refused.
    const index = await openIndex(db.url);
    try {
      const rows = await index.db.selectFrom('audit_event').select(['event_id', 'outcome', 'summary']).where('event_id', '=', '110104').execute();
      const asked = rows.map((r) => ({ outcome: Number(r.outcome), ...JSON.parse(r.summary) as { door: string; instances?: number; refused?: number } }));
      expect(asked.every((a) => a.door === 'import')).toBe(true);
      expect(asked.filter((a) => a.outcome === 0).reduce((n, a) => n + (a.instances ?? 0), 0)).toBe(images.length);
      expect(asked.filter((a) => a.outcome === 4).map((a) => a.refused)).toEqual([others.length]);
    } finally {
      await index.close();
    }

    const second = await runLoire(args);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout.split('\n')[0]).toBe(`${cd.length} files: 0 stored, ${images.length} already stored, 1 DICOMDIR skipped (directory records, not objects), ${others.length} rejected`);
    expect(filesUnder(path.join(dir, 'data', 'objects'))).toHaveLength(images.length);

    // A folder with nothing importable fails the command.
    const none = await runLoire(['import', '--data', path.join(dir, 'data'), '--database', db.url, samplePath(`${WAKASA_CD}/IHE_PDI/DESIGN`)]);
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(/0 stored, 0 already stored, \d+ rejected/);
  }, 180_000);

  it('verify: 0 when intact; names the SOP instance of a flipped byte and of a deleted file', async () => {
    const { dir, db } = await workspace();
    const dataDir = path.join(dir, 'data');
    const common = ['--data', dataDir, '--database', db.url];
    const imported = await runLoire(['import', ...common, samplePath('ct-series/philips-head-ct-std-brain-1mm')]);
    expect(imported.code, imported.stderr).toBe(0);
    const stored = filesUnder(path.join(dataDir, 'objects')).sort();
    expect(stored).toHaveLength(70);

    const intact = await runLoire(['verify', ...common]);
    expect(intact.code, intact.stdout).toBe(0);
    expect(verifyCounts(intact.stdout)).toEqual({ checked: 70, problems: 0 });

    const flipped = stored[17]!;
    const flippedSop = (await readPart10File(flipped)).dataset.string(0x00080018)!;
    const bytes = readFileSync(flipped);
    const at = Math.floor(bytes.length * 0.7);
    bytes[at] = bytes[at]! ^ 0x01;
    writeFileSync(flipped, bytes);
    const corrupt = await runLoire(['verify', ...common]);
    expect(corrupt.code).not.toBe(0);
    expect(verifyCounts(corrupt.stdout)).toEqual({ checked: 70, problems: 1 });
    expect(corrupt.stdout).toMatch(new RegExp(`^hash-mismatch\\t${flippedSop.replace(/\./g, '\\.')}\\t`, 'm'));

    const deleted = stored[42]!;
    const deletedSop = (await readPart10File(deleted)).dataset.string(0x00080018)!;
    unlinkSync(deleted);
    const missing = await runLoire(['verify', ...common]);
    expect(missing.code).not.toBe(0);
    expect(verifyCounts(missing.stdout)).toEqual({ checked: 70, problems: 2 });
    expect(missing.stdout).toMatch(new RegExp(`^missing\\t${deletedSop.replace(/\./g, '\\.')}\\t`, 'm'));
    expect(missing.stdout).toMatch(new RegExp(`^hash-mismatch\\t${flippedSop.replace(/\./g, '\\.')}\\t`, 'm'));
  }, 180_000);
});
