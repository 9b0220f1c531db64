// A whole Loire for a test: temp data directory, fresh index (SQLite, or a new PostgreSQL
// database when LOIRE_TEST_DATABASE names a server), free ports. In-process or as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type DicomNode, type LoireConfig } from '../config/config.js';
import { createLogger, silentLogger } from '../logger.js';
import { startServer, type RunningServer } from '../server.js';
import { createTestDatabase } from './database.js';

export { createTestDatabase, type TestDatabase } from './database.js';
import { freePort } from './dcmtk.js';
import { repoRoot } from './samples.js';

export interface TestLoireOptions {
  aeTitle?: string;
  dicomNodes?: DicomNode[];
  duplicatePolicy?: LoireConfig['duplicatePolicy'];
  /** Origins allowed to call DICOMweb from a browser (config dicomweb.cors.origins). */
  corsOrigins?: string[];
  /** Receives the server's JSON log lines (level debug), e.g. to assert what an administrator reads. */
  logDestination?: NodeJS.WritableStream;
}

export interface TestLoire {
  server: RunningServer;
  config: LoireConfig;
  dataDir: string;
  aeTitle: string;
  dicomPort: number;
  httpPort: number;
  /** Headers that authenticate an HTTP request as the test administrator: add them to every request. */
  httpHeaders: Record<string, string>;
  stop(): Promise<void>;
}

function testConfig(dataDir: string, database: string, options: TestLoireOptions, ports: { dicom: number; http: number }): LoireConfig {
  const config = loadConfig({ data: dataDir, database, dicomPort: String(ports.dicom), httpPort: String(ports.http), aeTitle: options.aeTitle ?? 'LOIRE' }, {});
  return {
    ...config,
    bindAddress: '127.0.0.1',
    dicomNodes: options.dicomNodes ?? [],
    duplicatePolicy: options.duplicatePolicy ?? config.duplicatePolicy,
    dicomweb: { ...config.dicomweb, cors: { origins: options.corsOrigins ?? config.dicomweb.cors.origins } },
    logLevel: process.env.LOIRE_TEST_LOG ? 'debug' : 'silent',
  };
}

/** Starts Loire in this process. Logs go to `logDestination`, or nowhere unless LOIRE_TEST_LOG names a file. */
export async function startTestLoire(options: TestLoireOptions = {}): Promise<TestLoire> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'loire-test-'));
  const database = await createTestDatabase(dataDir);
  const config = testConfig(dataDir, database.url, options, { dicom: 0, http: 0 });
  const logFile = process.env.LOIRE_TEST_LOG;
  const destination = options.logDestination ?? (logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined);
  const logger = destination ? createLogger('debug', destination) : silentLogger();
  const server = await startServer(config, logger);
  return {
    server, config, dataDir, aeTitle: config.aeTitle, dicomPort: server.dimsePort, httpPort: server.httpPort,
    httpHeaders: {},
    stop: async () => {
      await server.close();
      await database.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface LoireProcess {
  child: ChildProcess;
  dataDir: string;
  database: string;
  dicomPort: number;
  httpPort: number;
  /** Everything the process printed (JSON log lines). */
  output(): string;
  waitUntilReady(timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

export const loireBin = path.join(repoRoot, 'packages/server/bin/loire.js');

/** Runs `loire serve` as a child process (for crash and memory tests); needs `npm run build`. */
export async function spawnLoire(dataDir: string, database: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<LoireProcess> {
  const dicomPort = await freePort();
  const httpPort = await freePort();
  const child = spawn(process.execPath, [loireBin, 'serve', '--data', dataDir, '--database', database,
    '--dicom-port', String(dicomPort), '--http-port', String(httpPort), ...extraArgs], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child, dataDir, database, dicomPort, httpPort,
    output: () => output,
    async waitUntilReady(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`loire exited with ${child.exitCode}:\n${output}`);
        try {
          const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
          if (res.status === 200) return;
        } catch { /* not listening yet */ }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`loire not ready after ${timeoutMs} ms:\n${output}`);
    },
    async kill(signal) {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
