// The three storage SCPs the benchmark compares, each started on random ports in its own
// temporary directory and stopped (data deleted) after its run.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NotAvailableError, benchEnv, freePort, httpOk, spawnServer, tcpOpen, waitReady } from './process.mjs';
import { BENCH_AE } from './storescu.mjs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * How Loire is started: the one place to change when its command line changes.
 * LOIRE_BENCH_COMMAND may override it, with {data}, {dicomPort}, {httpPort}, {ae} and {config} placeholders
 * (e.g. to benchmark an installed build: "loire serve --data {data} --dicom-port {dicomPort} --config {config} ...").
 * @param {{ dataDir: string, dicomPort: number, httpPort: number, ae: string, configFile: string }} p
 * @returns {{ command: string, args: string[] }}
 */
export function loireCommand(p) {
  const template = process.env.LOIRE_BENCH_COMMAND;
  if (template) {
    const words = template.trim().split(/\s+/).map((w) =>
      w.replaceAll('{data}', p.dataDir).replaceAll('{dicomPort}', String(p.dicomPort))
        .replaceAll('{httpPort}', String(p.httpPort)).replaceAll('{ae}', p.ae).replaceAll('{config}', p.configFile));
    return { command: words[0], args: words.slice(1) };
  }
  return {
    command: process.execPath,
    args: [
      path.join(REPO_ROOT, 'packages/server/bin/loire.js'), 'serve',
      '--data', p.dataDir, '--dicom-port', String(p.dicomPort), '--http-port', String(p.httpPort), '--ae-title', p.ae,
      '--config', p.configFile,
    ],
  };
}

/**
 * The index Loire opens by default under its data directory (its configuration's default),
 * which the 1M scenario fills before starting Loire on it.
 * @param {string} dataDir
 */
export function loireIndexUrl(dataDir) {
  return process.env.LOIRE_BENCH_DATABASE ?? `sqlite://${path.join(path.resolve(dataDir), 'index.sqlite')}`;
}

/**
 * The index module's API, from the built @loire/server: its root export if it re-exports the
 * index, else the compiled index module itself (the package does not publish that subpath).
 * @returns {Promise<{ openIndex(url: string): Promise<{ close(): Promise<void> }>,
 *   fillSynthetic(index: unknown, options: { instances: number }): Promise<number> }>}
 */
async function loadLoireIndexModule() {
  /** @type {Array<() => Promise<any>>} */
  const candidates = [
    () => import('@loire/server'),
    () => import(pathToFileURL(path.join(REPO_ROOT, 'packages/server/dist/index/index.js')).href),
  ];
  const problems = [];
  for (const load of candidates) {
    try {
      const module = await load();
      if (typeof module.fillSynthetic === 'function' && typeof module.openIndex === 'function') return module;
      problems.push('no fillSynthetic/openIndex export');
    } catch (error) {
      problems.push(error instanceof Error ? error.message.split('\n')[0] : String(error));
    }
  }
  throw new NotAvailableError(`Loire's synthetic index loader cannot be loaded (${problems.join('; ')}); run npm run build`);
}

/**
 * Fills a Loire index with synthetic instances through the index module's own loader
 * (`fillSynthetic`, through the real batch ingest path), before Loire is started on it.
 * @param {string} dataDir
 * @param {number} instances
 */
export async function fillLoireIndex(dataDir, instances) {
  const { openIndex, fillSynthetic } = await loadLoireIndexModule();
  fs.mkdirSync(dataDir, { recursive: true });
  const index = await openIndex(loireIndexUrl(dataDir));
  try {
    const filled = await fillSynthetic(index, { instances });
    if (typeof filled === 'number' && filled !== instances) throw new Error(`fillSynthetic indexed ${filled} of ${instances} instances`);
  } finally {
    await index.close();
  }
}

/**
 * A fingerprint of Loire's compiled index module (schema, migrations, synthetic loader): a
 * filled index cached under another fingerprint may not match what Loire now expects.
 */
export function loireIndexFingerprint() {
  const root = path.join(REPO_ROOT, 'packages/server/dist/index');
  const hash = createHash('sha256');
  const walk = (/** @type {string} */ dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.js')) hash.update(entry.name).update(fs.readFileSync(full));
    }
  };
  if (fs.existsSync(root)) walk(root);
  return hash.digest('hex').slice(0, 16);
}

/** Loire answers 200 here once it accepts associations. */
export const LOIRE_HEALTH_PATH = '/healthz';

/**
 * A running target: where to send, and how to stop it.
 * @typedef {{ name: string, ae: string, port: number, httpPort?: number, dataDir: string, pid?: number,
 *   stop(): Promise<void> }} RunningTarget
 */

/**
 * A target the harness can start.
 * @typedef {{ name: string, ae: string, supportsFind: boolean,
 *   start(workDir: string, options?: TargetOptions): Promise<RunningTarget> }} Target
 */

/**
 * How a target is started: its data directory, and the niceness it runs at (see TARGET_NICENESS;
 * without, the harness's own).
 * @typedef {{ dataDir?: string, niceness?: number }} TargetOptions
 */

/** dcmtk storescp: the speed-of-light baseline (receive and write files, no index). @type {Target} */
export const storescp = {
  name: 'storescp',
  ae: 'STORESCP',
  supportsFind: false,
  async start(workDir, { niceness } = {}) {
    const dataDir = path.join(workDir, 'files');
    fs.mkdirSync(dataDir, { recursive: true });
    const port = await freePort();
    // --fork: one process per association, otherwise storescp would serve the 4 parallel
    // associations one after another.
    const server = spawnServer('storescp', ['--fork', '-aet', this.ae, '-od', dataDir, String(port)], {
      logFile: path.join(workDir, 'storescp.log'),
      env: benchEnv(),
      niceness,
    });
    await waitReady(server, () => tcpOpen(port), 'storescp');
    return { name: this.name, ae: this.ae, port, dataDir, stop: () => server.stop() };
  },
};

/**
 * The Orthanc configuration of the benchmark: the Debian defaults plus the tuning the issue asks
 * for (no fsync of the storage area, no MD5 of attachments, no job persistence).
 * @param {{ dataDir: string, port: number, httpPort: number, ae: string }} p
 */
export function orthancConfig(p) {
  return {
    Name: 'loire-bench',
    StorageDirectory: path.join(p.dataDir, 'storage'),
    IndexDirectory: path.join(p.dataDir, 'index'),
    TemporaryDirectory: path.join(p.dataDir, 'tmp'),
    Plugins: [],
    DicomServerEnabled: true,
    DicomAet: p.ae,
    DicomPort: p.port,
    DicomCheckCalledAet: false,
    DicomAlwaysAllowStore: true,
    DicomAlwaysAllowFind: true,
    DicomModalities: {},
    HttpServerEnabled: true,
    HttpPort: p.httpPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    SyncStorageArea: false,
    StoreMD5ForAttachments: false,
    SaveJobs: false,
    StorageCompression: false,
    LimitFindResults: 0,
    LimitFindInstances: 0,
  };
}

/** Orthanc as Debian ships it, tuned as the issue says. @type {Target} */
export const orthanc = {
  name: 'orthanc',
  ae: 'ORTHANC',
  supportsFind: true,
  async start(workDir, { niceness } = {}) {
    const dataDir = path.join(workDir, 'orthanc');
    fs.mkdirSync(path.join(dataDir, 'tmp'), { recursive: true });
    const port = await freePort();
    const httpPort = await freePort();
    const configFile = path.join(workDir, 'config.json');
    fs.writeFileSync(configFile, JSON.stringify(orthancConfig({ dataDir, port, httpPort, ae: this.ae }), null, 2));
    if (!fs.existsSync('/usr/sbin/Orthanc')) throw new NotAvailableError('/usr/sbin/Orthanc is not installed (apt-get install orthanc)');
    const server = spawnServer('/usr/sbin/Orthanc', [configFile], { logFile: path.join(workDir, 'orthanc.log'), cwd: workDir, niceness });
    await waitReady(server, async () => (await httpOk(httpPort, '/system')) && (await tcpOpen(port)), 'Orthanc');
    return { name: this.name, ae: this.ae, port, httpPort, dataDir, stop: () => server.stop() };
  },
};

export const ORTHANC_DICOMWEB_PLUGIN = process.env.ORTHANC_DICOMWEB_PLUGIN ?? '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

/** Orthanc with Debian's DICOMweb plugin (at /dicom-web/), otherwise configured as `orthanc`. @param {string} workDir */
export async function startOrthancDicomweb(workDir) {
  if (!fs.existsSync('/usr/sbin/Orthanc')) throw new NotAvailableError('/usr/sbin/Orthanc is not installed (apt-get install orthanc)');
  if (!fs.existsSync(ORTHANC_DICOMWEB_PLUGIN)) throw new NotAvailableError(`${ORTHANC_DICOMWEB_PLUGIN} is missing (apt-get install orthanc-dicomweb)`);
  const dataDir = path.join(workDir, 'orthanc');
  fs.mkdirSync(path.join(dataDir, 'tmp'), { recursive: true });
  const port = await freePort();
  const httpPort = await freePort();
  const configFile = path.join(workDir, 'config.json');
  const config = { ...orthancConfig({ dataDir, port, httpPort, ae: 'ORTHANC' }), Plugins: [ORTHANC_DICOMWEB_PLUGIN], DicomWeb: { Enable: true, Root: '/dicom-web/' } };
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  const server = spawnServer('/usr/sbin/Orthanc', [configFile], { logFile: path.join(workDir, 'orthanc.log'), cwd: workDir });
  await waitReady(server, async () => (await httpOk(httpPort, '/dicom-web/studies?limit=1')) && (await tcpOpen(port)), 'Orthanc with DICOMweb');
  return { name: 'orthanc', ae: 'ORTHANC', port, httpPort, dataDir, stop: () => server.stop() };
}

/** The first administrator's password of the Loire the benchmarks start (a throw-away data directory). */
export const LOIRE_BENCH_ADMIN_PASSWORD = 'bench-admin-password-0123456789';
/** HTTP headers that authenticate a benchmark client to that Loire (Basic: scrypt is paid once, then cached). */
export const LOIRE_BENCH_HTTP_HEADERS = { authorization: `Basic ${Buffer.from(`admin:${LOIRE_BENCH_ADMIN_PASSWORD}`).toString('base64')}` };

/** Loire, started from this checkout's build. @type {Target} */
export const loire = {
  name: 'loire',
  ae: 'LOIRE',
  supportsFind: true,
  async start(workDir, { dataDir = path.join(workDir, 'loire'), niceness } = {}) {
    if (!process.env.LOIRE_BENCH_COMMAND) {
      for (const needed of ['packages/server/bin/loire.js', 'packages/server/dist/cli/main.js']) {
        if (!fs.existsSync(path.join(REPO_ROOT, needed))) {
          throw new NotAvailableError(`${needed} is missing (run npm run build first)`);
        }
      }
    }
    fs.mkdirSync(dataDir, { recursive: true });
    const port = await freePort();
    const httpPort = await freePort();
    // The benchmark's clients call as BENCH: Loire answers queries only to configured nodes.
    const configFile = path.join(workDir, 'loire-bench.json');
    fs.writeFileSync(configFile, JSON.stringify({ dicomNodes: [{ name: 'bench', aeTitle: BENCH_AE }] }));
    const { command, args } = loireCommand({ dataDir, dicomPort: port, httpPort, ae: this.ae, configFile });
    const server = spawnServer(command, args, { logFile: path.join(workDir, 'loire.log'), cwd: REPO_ROOT, env: benchEnv({ LOIRE_ADMIN_PASSWORD: LOIRE_BENCH_ADMIN_PASSWORD }), niceness });
    await waitReady(
      server,
      async () => (await httpOk(httpPort, LOIRE_HEALTH_PATH)) && (await tcpOpen(port)),
      'Loire',
      60_000,
    );
    return { name: this.name, ae: this.ae, port, httpPort, dataDir, pid: server.child.pid, httpHeaders: LOIRE_BENCH_HTTP_HEADERS, stop: () => server.stop() };
  },
};

export const TARGETS = { storescp, orthanc, loire };
