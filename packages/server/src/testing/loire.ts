// A whole Loire for a test: temp data directory, fresh index (SQLite, or a new PostgreSQL
// database when LOIRE_TEST_DATABASE names a server), free ports. In-process or as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkNodes, dicomNodeSchema, loadConfig, type DicomNodeInput, type LoireConfig } from '../config/config.js';
import { createLogger, silentLogger } from '../logger.js';
import { startServer, type RunningServer } from '../server.js';
import { randomPassword } from '../security/password.js';
import type { Role } from '../security/permissions.js';
import { createTestDatabase } from './database.js';

export { createTestDatabase, type TestDatabase } from './database.js';
import { freePort } from './dcmtk.js';
import { repoRoot } from './samples.js';

export interface TestLoireOptions {
  aeTitle?: string;
  /** Nodes as in a config file (permissions default to all rights, moves only to the node itself). */
  dicomNodes?: DicomNodeInput[];
  dicomTls?: LoireConfig['dicomTls'];
  dicomAccess?: LoireConfig['dicomAccess'];
  duplicatePolicy?: LoireConfig['duplicatePolicy'];
  /** STOW-RS limits, e.g. small ones to test what happens beyond them. */
  stow?: Partial<LoireConfig['stow']>;
  /** Origins allowed to call DICOMweb from a browser (config dicomweb.cors.origins). */
  corsOrigins?: string[];
  /** Receives the server's JSON log lines (level debug), e.g. to assert what an administrator reads. */
  logDestination?: NodeJS.WritableStream;
  /** Overrides of the `http` section (e.g. tls). */
  http?: Partial<LoireConfig['http']>;
  /** Overrides of the `security` section (e.g. lockout, oidc). */
  security?: Partial<LoireConfig['security']>;
}

/** Users that tests create, with the credentials to act as them. */
export interface TestUser {
  username: string;
  password: string;
  roles: Role[];
  /** Authorization: Bearer with an API token of this user. */
  httpHeaders: Record<string, string>;
}

export interface TestLoire {
  server: RunningServer;
  config: LoireConfig;
  dataDir: string;
  aeTitle: string;
  /** The plain DICOM port (0 when dicomTls.plain is false). */
  dicomPort: number;
  dicomTlsPort: number | undefined;
  httpPort: number;
  /** Headers that authenticate an HTTP request as the test administrator: add them to every request. */
  httpHeaders: Record<string, string>;
  /** The `admin` account's password (random per test Loire). */
  adminPassword: string;
  /** Base URL of the HTTP door (https:// when tls is configured and plain HTTP is off). */
  httpUrl: string;
  /** Creates an account with these roles and an API token for it. */
  createUser(roles: Role[], username?: string): Promise<TestUser>;
  stop(): Promise<void>;
}

function testConfig(dataDir: string, database: string, options: TestLoireOptions, ports: { dicom: number; http: number }): LoireConfig {
  const config = loadConfig({ data: dataDir, database, dicomPort: String(ports.dicom), httpPort: String(ports.http), aeTitle: options.aeTitle ?? 'LOIRE' }, {});
  const dicomNodes = (options.dicomNodes ?? []).map((n) => dicomNodeSchema.parse(n));
  checkNodes(dicomNodes, !!options.dicomTls, 'test');
  return {
    ...config,
    bindAddress: '127.0.0.1',
    dicomNodes,
    ...(options.dicomTls ? { dicomTls: options.dicomTls } : {}),
    dicomAccess: options.dicomAccess ?? config.dicomAccess,
    duplicatePolicy: options.duplicatePolicy ?? config.duplicatePolicy,
    stow: { ...config.stow, ...options.stow },
    dicomweb: { ...config.dicomweb, cors: { origins: options.corsOrigins ?? config.dicomweb.cors.origins } },
    logLevel: process.env.LOIRE_TEST_LOG ? 'debug' : 'silent',
    http: { ...config.http, ...options.http },
    security: {
      ...config.security,
      // Cheaper scrypt than production (16 MiB instead of 128 MiB per hash): tests log in often on a shared machine.
      passwordHash: { ln: 14, r: 8, p: 1 },
      ...options.security,
      initialAdminPassword: randomPassword(),
    },
  };
}

let userSerial = 0;

async function createTestUser(server: RunningServer, roles: Role[], username = `user${++userSerial}-${roles.join('-') || 'none'}`): Promise<TestUser> {
  const password = randomPassword();
  await server.archive.accounts.create({ username, roles, password, displayName: `Test ${roles.join(', ')}` });
  const { token } = await server.archive.accounts.createToken(username, 'test');
  return { username, password, roles, httpHeaders: { authorization: `Bearer ${token}` } };
}

/** Starts Loire in this process. Logs go to `logDestination`, or nowhere unless LOIRE_TEST_LOG names a file. */
export async function startTestLoire(options: TestLoireOptions = {}): Promise<TestLoire> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'loire-test-'));
  const database = await createTestDatabase(dataDir);
  const config = testConfig(dataDir, database.url, options, { dicom: 0, http: 0 });
  const logFile = process.env.LOIRE_TEST_LOG;
  const destination = options.logDestination ?? (logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined);
  const logger = destination ? createLogger('debug', destination) : silentLogger();
  let server: RunningServer;
  try {
    server = await startServer(config, logger);
  } catch (error) {
    await database.dispose();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const { token } = await server.archive.accounts.createToken('admin', 'test');
  const secure = config.http.tls !== undefined && !config.http.plain;
  return {
    server, config, dataDir, aeTitle: config.aeTitle, dicomPort: server.dimsePort ?? 0, dicomTlsPort: server.dicomTlsPort, httpPort: server.httpPort,
    httpHeaders: { authorization: `Bearer ${token}` },
    adminPassword: config.security.initialAdminPassword!,
    httpUrl: `${secure ? 'https' : 'http'}://127.0.0.1:${server.httpPort}`,
    createUser: (roles, username) => createTestUser(server, roles, username),
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

/** Writes a config file (JSON) declaring `dicomNodes`, for `spawnLoire(..., ['--config', file])`. */
export function writeNodesConfig(file: string, dicomNodes: DicomNodeInput[]): string {
  writeFileSync(file, JSON.stringify({ dicomNodes }, null, 2));
  return file;
}

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
