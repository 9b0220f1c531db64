// Test support: run dcmtk tools (always with TCP_NODELAY=1, or they wait on Nagle) and pick ports.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const samplesDir = path.resolve(repoRoot, '../shared/dicom-samples');

const env = { ...process.env, TCP_NODELAY: '1' };

export interface RunResult { code: number | null; output: string }

/** Runs a dcmtk tool to completion (killed after timeoutMs). */
export function runTool(tool: string, args: readonly string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Starts a long-running dcmtk SCP; resolves once its port accepts connections. */
export async function startTool(tool: string, args: readonly string[], port: number): Promise<ChildProcess & { output: () => string }> {
  const child = spawn(tool, args, { env });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${tool} exited: ${output}`);
    if (await canConnect(port)) break;
    if (Date.now() > deadline) throw new Error(`${tool} did not listen on ${port}: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Object.assign(child, { output: () => output });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

export { freePort } from './ports.js';

export function stopTool(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('close', () => resolve());
    child.kill('SIGTERM');
  });
}
