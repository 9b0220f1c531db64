// One server per data directory. The server replays and empties the index and audit journals at
// start, and removes the objects a crashed run left pending: a second server on the same
// directory would empty the journals the first still writes and remove its objects in progress.
// The lock is a file holding the owner's process id (as PostgreSQL's postmaster.pid): a file
// left by a process that is gone, or that is no Loire, is taken over.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

const LOCK_FILE = 'loire.pid';

export class DataDirectoryInUseError extends Error {
  override name = 'DataDirectoryInUseError';

  constructor(readonly dataDir: string, readonly pid: number) {
    super(`the data directory ${dataDir} is in use by another Loire server (process ${pid}): stop that one first, or give this one another --data`);
  }
}

export interface DataDirectoryLock {
  release(): void;
}

/** Takes the data directory for this process; throws DataDirectoryInUseError when a live server has it. */
export function lockDataDirectory(dataDir: string): DataDirectoryLock {
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return { release: () => releaseLock(file) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const owner = lockOwner(file);
    if (owner !== undefined && owner !== process.pid && isLoireProcess(owner)) throw new DataDirectoryInUseError(dataDir, owner);
    // Left by a run that is gone (a crash, a power loss): taken over.
    rmSync(file, { force: true });
  }
}

function releaseLock(file: string): void {
  // Only our own: a lock taken over meanwhile is another server's.
  if (lockOwner(file) === process.pid) rmSync(file, { force: true });
}

function lockOwner(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is a live Loire. After a reboot the number may belong to another program: where
 * /proc tells, a process whose command line does not name Loire does not hold the directory.
 */
function isLoireProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false; // ESRCH: gone
  }
  try {
    return /loire/i.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true; // no /proc to tell: a live process is taken for the owner
  }
}
