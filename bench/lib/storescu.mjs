// Sends directories of files with dcmtk storescu, one process (one association) per directory,
// and times the transfer from the first association request to the last process exit.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchEnv } from './process.mjs';

/** Calling AE title of every sender in the benchmark. */
export const BENCH_AE = 'BENCH';

/**
 * What one storescu run said on its log (stderr, with -v): when it started the association,
 * and how each C-STORE ended.
 * @typedef {{ requestedAt: number | null, responses: number, successes: number, failures: string[] }} SenderLog
 */

/**
 * Reads storescu's verbose log line by line.
 * @returns {{ push(chunk: string, now: number): void, result: SenderLog }}
 */
export function storescuLogReader() {
  /** @type {SenderLog} */
  const result = { requestedAt: null, responses: 0, successes: 0, failures: [] };
  let pending = '';
  return {
    result,
    push(chunk, now) {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (result.requestedAt === null && line.includes('Requesting Association')) result.requestedAt = now;
        const response = /Received Store Response \(([^)]*)\)/.exec(line);
        if (response) {
          result.responses++;
          if (response[1] === 'Success') result.successes++;
          else if (result.failures.length < 5) result.failures.push(response[1]);
        }
        if (/^[EF]: /.test(line) && result.failures.length < 5) result.failures.push(line.slice(3));
      }
    },
  };
}

/** How often the start of a sender's log is looked at until its association request shows. */
const REQUEST_POLL_MS = 2;

/**
 * Runs one storescu process on one directory (recursively scanned, so no argument-length limit).
 * Its log goes to a file, read once it has exited: reading it live, line by line, woke this
 * process at every response and cost the target under test a quarter of its rate on one
 * association (measured with Loire: 1,161 and 1,109/s live against 1,504 and 1,324/s with the
 * log in a file, and 1,535 and 1,455/s with no log at all). Only the association request is
 * watched for while it runs, by reading the log's first bytes every REQUEST_POLL_MS until it
 * appears, which is before the first C-STORE.
 * A target that stops answering must not hang the whole benchmark: past `timeoutMs` the
 * process is killed and its run reported as failed.
 * @param {{ port: number, calledAe: string, dir: string, timeoutMs: number, pattern: string }} p
 * @returns {Promise<SenderLog & { exitCode: number | null, exitedAt: number }>}
 */
function sendDirectory({ port, calledAe, dir, timeoutMs, pattern }) {
  return new Promise((resolve, reject) => {
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loire-storescu-'));
    const logFile = path.join(logDir, 'storescu.log');
    const args = ['-v', '-aet', BENCH_AE, '-aec', calledAe, '+sd', '+r', '+sp', pattern, '-nh', '127.0.0.1', String(port), dir];
    const logFd = fs.openSync(logFile, 'w');
    let child;
    try {
      child = spawn('storescu', args, { env: benchEnv(), stdio: ['ignore', 'ignore', logFd] });
    } finally {
      fs.closeSync(logFd);
    }
    const reader = storescuLogReader();
    /** @type {number | null} */
    let requestedAt = null;
    const head = Buffer.alloc(4096);
    const poll = setInterval(() => {
      const fd = fs.openSync(logFile, 'r');
      try {
        const n = fs.readSync(fd, head, 0, head.length, 0);
        if (head.subarray(0, n).includes('Requesting Association')) {
          requestedAt = performance.now();
          clearInterval(poll);
        }
      } finally {
        fs.closeSync(fd);
      }
    }, REQUEST_POLL_MS);
    /** @type {string[]} */
    const killedFor = [];
    const timer = setTimeout(() => {
      killedFor.push(`storescu killed after ${timeoutMs / 1000} s without finishing`);
      child.kill('SIGKILL');
    }, timeoutMs);
    /** @type {(SenderLog & { exitedAt: number }) | undefined} */
    let finished;
    // Once only: a failed spawn may be followed by 'close'.
    const finish = () => {
      if (finished) return finished;
      clearTimeout(timer);
      clearInterval(poll);
      const exitedAt = performance.now();
      try {
        reader.push(`${fs.readFileSync(logFile, 'utf8')}\n`, exitedAt);
      } finally {
        fs.rmSync(logDir, { recursive: true, force: true });
      }
      finished = { ...reader.result, requestedAt, failures: [...killedFor, ...reader.result.failures].slice(0, 5), exitedAt };
      return finished;
    };
    child.on('error', (error) => {
      finish();
      reject(new Error(`cannot run storescu (apt-get install dcmtk): ${error.message}`));
    });
    child.on('close', (code) => resolve({ ...finish(), exitCode: code }));
  });
}

/**
 * Sends each directory on its own association, all at once, and times the whole transfer.
 * The clock starts at the first "Requesting Association" (after storescu has scanned its input
 * files, which costs the same for every target) and stops when the last storescu exits (after
 * its A-RELEASE, so every C-STORE response has come back).
 * @param {{ port: number, calledAe: string, dirs: string[], timeoutMs?: number, pattern?: string }} p  pattern: file names sent (default *.dcm)
 */
export async function sendDirectories({ port, calledAe, dirs, timeoutMs = 15 * 60_000, pattern = '*.dcm' }) {
  const spawnedAt = performance.now();
  const runs = await Promise.all(dirs.map((dir) => sendDirectory({ port, calledAe, dir, timeoutMs, pattern })));
  const starts = runs.map((r) => r.requestedAt).filter((t) => t !== null);
  const firstRequest = starts.length > 0 ? Math.min(...starts) : spawnedAt;
  const lastExit = Math.max(...runs.map((r) => r.exitedAt));
  return {
    seconds: (lastExit - firstRequest) / 1000,
    secondsWithScan: (lastExit - spawnedAt) / 1000,
    sent: runs.reduce((n, r) => n + r.responses, 0),
    stored: runs.reduce((n, r) => n + r.successes, 0),
    failures: runs.flatMap((r) => r.failures).slice(0, 5),
    exitCodes: runs.map((r) => r.exitCode),
  };
}
