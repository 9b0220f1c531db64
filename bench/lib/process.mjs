// Child-process and port helpers shared by the targets and the senders.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';

/** A target that cannot run here (not installed, not built yet, failed to start). */
export class NotAvailableError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'NotAvailableError';
  }
}

/** The environment every DICOM peer of the benchmark runs with: dcmtk and Orthanc read TCP_NODELAY. */
export function benchEnv(extra = {}) {
  return { ...process.env, TCP_NODELAY: '1', ...extra };
}

/** A free loopback port, never the same one twice in this process. */
export { freePort } from '@loire/dicom-net/test-support/ports';

/** @param {number} ms */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The niceness the ingest scenarios run their targets at, the senders staying at the harness's
 * own. The senders share the target's two cores, where a modality sends from a machine of its own: the
 * kernel then gives the core of a target's busiest thread to the sender that thread has just
 * answered, and leaves it waiting for a core while the other is idle (measured on Loire, four
 * associations: its receiving thread waited ~100 µs per small instance in a run queue with both
 * cores idle ~20% of the run; ~30 µs at this niceness). Every target gets the same.
 */
export const TARGET_NICENESS = -10;

/**
 * Whether this process may start others at `niceness` (root, or CAP_SYS_NICE): `nice` itself
 * only warns when it may not, and runs the command at the usual priority.
 * @param {number} niceness
 */
export function canRunAtNiceness(niceness) {
  const probe = spawnSync('nice', niceArgs(niceness, ['nice']), { encoding: 'utf8' });
  return probe.status === 0 && probe.stdout.trim() === String(niceness);
}

/**
 * `nice`'s arguments that run `command` at `niceness` (nice adjusts this process's own).
 * @param {number} niceness
 * @param {string[]} command
 */
function niceArgs(niceness, command) {
  return ['-n', String(niceness - os.getPriority()), ...command];
}

/**
 * Spawns a long-running server process with its output in a log file, and tracks its exit.
 * With `niceness`, it runs under `nice` (which execs it: the pid is the server's), so that every
 * thread and child process it makes has that niceness; without, it has this process's.
 * @param {string} command
 * @param {string[]} args
 * @param {{ logFile: string, cwd?: string, env?: NodeJS.ProcessEnv, niceness?: number }} options
 */
export function spawnServer(command, args, { logFile, cwd, env = benchEnv(), niceness }) {
  const log = fs.openSync(logFile, 'a');
  const [file, argv] = niceness === undefined ? [command, args] : ['nice', niceArgs(niceness, [command, ...args])];
  const child = spawn(file, argv, { cwd, env, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const state = {
    exited: false,
    code: /** @type {number | null} */ (null),
    signal: /** @type {string | null} */ (null),
    error: /** @type {Error | null} */ (null),
  };
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      state.exited = true;
      state.code = code;
      state.signal = signal;
      resolve(undefined);
    });
    child.on('error', (error) => {
      state.exited = true;
      state.error = error;
      resolve(undefined);
    });
  });
  return {
    child,
    state,
    exited,
    /** The end of the log, to explain a failure. */
    tail(lines = 15) {
      try {
        return fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
    /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
    async stop(graceMs = 10_000) {
      if (state.exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * The line of a log tail that best says why a process failed: the first that names an error,
 * else the last non-empty one.
 * @param {string} tail
 */
export function failureLine(tail) {
  const lines = tail.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /\b\w*Error\b|\berror\b|\bE: |\bF: /.test(l)) ?? lines.at(-1) ?? '(no output)';
}

/**
 * Polls `probe` until it returns true, the server exits, or the timeout passes.
 * @param {ReturnType<typeof spawnServer>} server
 * @param {() => Promise<boolean>} probe
 * @param {string} what  name used in error messages
 * @param {number} timeoutMs
 */
export async function waitReady(server, probe, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.state.exited) {
      const { error, signal, code } = server.state;
      const why = error ? error.message : signal ? `killed by ${signal}` : `exit code ${code}`;
      throw new NotAvailableError(`${what} exited during start-up (${why}): ${failureLine(server.tail(20))}`);
    }
    if (await probe().catch(() => false)) return;
    await sleep(100);
  }
  await server.stop();
  throw new NotAvailableError(`${what} not ready after ${timeoutMs / 1000} s; last log line: ${failureLine(server.tail(5))}`);
}

/**
 * True when a TCP connection to the port succeeds.
 * @param {number} port
 */
export function tcpOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * True when GET http://127.0.0.1:port/path answers 200.
 * @param {number} port
 * @param {string} urlPath
 */
export async function httpOk(port, urlPath) {
  const response = await fetch(`http://127.0.0.1:${port}${urlPath}`, { signal: AbortSignal.timeout(2000) });
  await response.arrayBuffer();
  return response.status === 200;
}

/**
 * Runs a short command and returns its combined output (for version strings).
 * @param {string} command
 * @param {string[]} args
 */
export async function captureOutput(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('error', (e) => resolve(`(${e.message})`));
    child.on('close', () => resolve(text));
  });
}
