// Orthanc as another vendor's PACS in interoperability tests: started in a temp directory with
// its own ports, driven through its REST API. Needs the Orthanc binary (Debian: /usr/sbin/Orthanc,
// or ORTHANC_BIN).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../testing/dcmtk.js';

export interface OrthancModality {
  /** The name Orthanc's REST API knows the peer by (/modalities/{name}). */
  name: string;
  aeTitle: string;
  host: string;
  port: number;
}

export interface Orthanc {
  aeTitle: string;
  dicomPort: number;
  httpPort: number;
  /** Calls the REST API; throws with Orthanc's answer on an HTTP error. */
  rest<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', route: string, body?: unknown): Promise<T>;
  /** Raw bytes of a GET (e.g. /instances/{id}/file). */
  download(route: string): Promise<Buffer>;
  /** What Orthanc logged, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

const ORTHANC_BIN = process.env.ORTHANC_BIN ?? '/usr/sbin/Orthanc';

export interface OrthancOptions {
  aeTitle?: string;
  modalities: OrthancModality[];
  dicomPort?: number;
  httpPort?: number;
  /** Shared libraries to load as plugins (e.g. ORTHANC_DICOMWEB_PLUGIN). */
  plugins?: string[];
  /** Further configuration sections, e.g. { DicomWeb: {…} }. */
  extraConfig?: Record<string, unknown>;
}

/** The Debian orthanc-dicomweb plugin (or ORTHANC_DICOMWEB_PLUGIN). */
export const ORTHANC_DICOMWEB_PLUGIN = process.env.ORTHANC_DICOMWEB_PLUGIN ?? '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export async function startOrthanc(options: OrthancOptions): Promise<Orthanc> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loire-orthanc-'));
  const aeTitle = options.aeTitle ?? 'ORTHANC';
  const dicomPort = options.dicomPort ?? await freePort();
  const httpPort = options.httpPort ?? await freePort();
  const config = {
    Name: 'loire-interop-test',
    StorageDirectory: path.join(dir, 'storage'),
    IndexDirectory: path.join(dir, 'index'),
    DicomAet: aeTitle,
    DicomPort: dicomPort,
    HttpPort: httpPort,
    // REST on localhost only, without authentication: a test peer, never exposed.
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    Plugins: options.plugins ?? [],
    DicomModalities: Object.fromEntries(options.modalities.map((m) => [m.name, [m.aeTitle, m.host, m.port]])),
    // Close SCU associations at once instead of keeping them 5 s for reuse.
    DicomAssociationCloseDelay: 0,
    StorageCompression: false,
    SaveJobs: false,
    HttpDescribeErrors: true,
    ...options.extraConfig,
  };
  const configFile = path.join(dir, 'orthanc.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const logFile = path.join(dir, 'orthanc.log');
  const logFd = openSync(logFile, 'a');
  // Orthanc's DICOM layer is dcmtk: without TCP_NODELAY it waits ~40 ms per exchange (Nagle).
  const child: ChildProcess = spawn(ORTHANC_BIN, [configFile], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = `http://127.0.0.1:${httpPort}`;
  const log = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };

  const rest = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const init: RequestInit = { method };
    if (body !== undefined) init.body = Buffer.isBuffer(body) ? body : typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(`${base}${route}`, init);
    const text = await res.text();
    if (!res.ok) throw new Error(`Orthanc ${method} ${route}: HTTP ${res.status} ${text.slice(0, 2000)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      const output = log();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`Orthanc exited with ${child.exitCode} at start-up:\n${output.slice(-4000)}`);
    }
    try {
      const res = await fetch(`${base}/system`);
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Orthanc not answering on ${base} after 60 s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    aeTitle, dicomPort, httpPort, rest, log, stop,
    async download(route) {
      const res = await fetch(`${base}${route}`);
      if (!res.ok) throw new Error(`Orthanc GET ${route}: HTTP ${res.status} ${(await res.text()).slice(0, 2000)}`);
      return Buffer.from(await res.arrayBuffer());
    },
  };
}
