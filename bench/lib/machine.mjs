// What the figures were measured on: the machine, the peers' versions, the disk's own speed.
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { captureOutput } from './process.mjs';

/** Cores, memory, Node.js and kernel, as one line for the report. */
export function describeMachine() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    // Other work on the machine skews every target; the 1-minute load says how busy it was.
    loadAverage: os.loadavg()[0],
  };
}

/** Versions of the peers, read from their own --version output. */
export async function peerVersions() {
  const firstMatch = (text, re) => re.exec(text)?.[1] ?? 'unknown';
  const orthanc = await captureOutput('/usr/sbin/Orthanc', ['--version']);
  const storescu = await captureOutput('storescu', ['--version']);
  const storescp = await captureOutput('storescp', ['--version']);
  return {
    orthanc: firstMatch(orthanc, /Orthanc\s+(\S+)/),
    dcmtkStorescu: firstMatch(storescu, /storescu (v[^\s]+ [0-9-]+)/),
    dcmtkStorescp: firstMatch(storescp, /storescp (v[^\s]+ [0-9-]+)/),
  };
}

/**
 * Raw sequential write bandwidth of the disk under `dir`, like dd with conv=fsync: `bytes` in
 * chunks of `chunk` bytes of random data, then fsync, timed together.
 * @param {string} dir
 * @param {{ bytes?: number, chunk?: number }} [options]
 */
export function diskWriteBandwidth(dir, { bytes = 2 ** 30, chunk = 2 ** 20 } = {}) {
  const file = path.join(dir, `disk-probe-${process.pid}.bin`);
  const buffer = randomFillSync(Buffer.alloc(chunk));
  const fd = fs.openSync(file, 'w');
  try {
    const started = performance.now();
    for (let written = 0; written < bytes; written += chunk) fs.writeSync(fd, buffer, 0, Math.min(chunk, bytes - written));
    fs.fsyncSync(fd);
    const seconds = (performance.now() - started) / 1000;
    return { bytes, seconds, mbPerSecond: bytes / 1e6 / seconds };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}

/**
 * The Loire commit measured (short hash, "+changes" when the work tree differs from it).
 * @param {string} repoRoot
 */
export async function loireRevision(repoRoot) {
  const head = (await captureOutput('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD'])).trim();
  if (!/^[0-9a-f]+$/.test(head)) return 'unknown';
  const changes = (await captureOutput('git', ['-C', repoRoot, 'status', '--porcelain', '--untracked-files=no', 'packages'])).trim();
  return changes ? `${head}+changes` : head;
}
