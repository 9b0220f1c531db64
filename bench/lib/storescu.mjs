// Sends directories of files with dcmtk storescu, one process (one association) per directory,
// and times the transfer from the first association request to the last process exit.
import { spawn } from 'node:child_process';
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

/**
 * Runs one storescu process on one directory (recursively scanned, so no argument-length limit).
 * A target that stops answering must not hang the whole benchmark: past `timeoutMs` the
 * process is killed and its run reported as failed.
 * @param {{ port: number, calledAe: string, dir: string, timeoutMs: number, pattern: string }} p
 * @returns {Promise<SenderLog & { exitCode: number | null, exitedAt: number }>}
 */
function sendDirectory({ port, calledAe, dir, timeoutMs, pattern }) {
  return new Promise((resolve, reject) => {
    const args = ['-v', '-aet', BENCH_AE, '-aec', calledAe, '+sd', '+r', '+sp', pattern, '-nh', '127.0.0.1', String(port), dir];
    const child = spawn('storescu', args, { env: benchEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    const reader = storescuLogReader();
    const timer = setTimeout(() => {
      reader.result.failures.unshift(`storescu killed after ${timeoutMs / 1000} s without finishing`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => reader.push(chunk, performance.now()));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run storescu (apt-get install dcmtk): ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reader.push('\n', performance.now());
      resolve({ ...reader.result, exitCode: code, exitedAt: performance.now() });
    });
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
