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

/** /proc gives CPU times in clock ticks of 1/100 s (USER_HZ), whatever the kernel's own HZ. */
const TICKS_PER_SECOND = 100;

/**
 * The machine's CPU time from the first line of /proc/stat, in ticks: busy (user, nice, system,
 * irq, softirq), idle (idle, iowait) and stolen by the hypervisor.
 * @param {string} text
 */
export function parseMachineTicks(text) {
  const fields = /^cpu\s+([\d\s]+)/m.exec(text)?.[1]?.trim().split(/\s+/).map(Number);
  if (!fields || fields.length < 8 || fields.some((n) => !Number.isFinite(n))) throw new Error('/proc/stat has no "cpu" line of 8 counters');
  const [user, nice, system, idle, iowait, irq, softirq, steal] = /** @type {number[]} */ (fields);
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
}

/**
 * The CPU time, in ticks, of this process's children that have exited and been waited for
 * (cutime + cstime of /proc/self/stat). The command name in parentheses may hold spaces or
 * parentheses, so the fields are counted from the last ')'.
 * @param {string} text
 */
export function parseChildrenTicks(text) {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ').map(Number);
  // Fields 16 and 17 of proc(5), counted here from field 3 (the state).
  const cutime = fields[13];
  const cstime = fields[14];
  if (cutime === undefined || cstime === undefined || !Number.isFinite(cutime) || !Number.isFinite(cstime)) throw new Error('/proc/self/stat has no cutime and cstime');
  return cutime + cstime;
}

/**
 * A reading of where the machine's CPU went so far, for cpuSince(); undefined where there is
 * no /proc (not Linux).
 */
export function cpuSnapshot() {
  if (!fs.existsSync('/proc/stat')) return undefined;
  return {
    machine: parseMachineTicks(fs.readFileSync('/proc/stat', 'utf8')),
    children: parseChildrenTicks(fs.readFileSync('/proc/self/stat', 'utf8')),
    harness: process.cpuUsage(),
  };
}

/**
 * Where the machine's CPU went since `before`, in seconds: the senders' (this process's children
 * that exited in between: the storescu processes), the harness's own, and the rest of the busy
 * time, which is the target's (it is still running, so not yet counted as a child) and whatever
 * else ran meanwhile, the kernel's writeback included. Also the share of the time the cores
 * were idle.
 * @param {NonNullable<ReturnType<typeof cpuSnapshot>>} before
 */
export function cpuSince(before) {
  const now = /** @type {NonNullable<ReturnType<typeof cpuSnapshot>>} */ (cpuSnapshot());
  const busy = (now.machine.busy - before.machine.busy) / TICKS_PER_SECOND;
  const idle = (now.machine.idle - before.machine.idle) / TICKS_PER_SECOND;
  const steal = (now.machine.steal - before.machine.steal) / TICKS_PER_SECOND;
  const senders = (now.children - before.children) / TICKS_PER_SECOND;
  const used = process.cpuUsage(before.harness);
  const harness = (used.user + used.system) / 1e6;
  return { senders, harness, target: Math.max(0, busy - senders - harness), idleShare: idle / Math.max(busy + idle + steal, 1e-9) };
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
