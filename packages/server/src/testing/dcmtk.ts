// Runs dcmtk's command-line tools as real DICOM peers in tests.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from '@loire/dicom-net/test-support/ports';

export { freePort };

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** dcmtk tools wait ~40 ms per exchange with Nagle on; TCP_NODELAY=1 turns it off. */
const DCMTK_ENV = { ...process.env, TCP_NODELAY: '1' };

export function runTool(tool: string, args: readonly string[], options: { timeoutMs?: number; cwd?: string } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env: DCMTK_ENV, cwd: options.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString('latin1'); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString('latin1'); });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Storescp {
  port: number;
  aeTitle: string;
  stop(): Promise<void>;
}

/** dcmtk storescp writing what it receives, bit-preserving (+B), into `dir`. */
export async function startStorescp(dir: string, options: { aeTitle?: string; extraArgs?: string[] } = {}): Promise<Storescp> {
  const port = await freePort();
  const aeTitle = options.aeTitle ?? 'STORESCP';
  const child: ChildProcess = spawn('storescp', ['-aet', aeTitle, '+B', '-od', dir, ...(options.extraArgs ?? []), String(port)], { env: DCMTK_ENV, stdio: 'ignore' });
  await waitForPort(port);
  return {
    port, aeTitle,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
