// Same attributes and pixel data? Asked of pydicom (an independent reader), many files per call.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'compare_datasets.py');
/** Debian's python3 carries pydicom; another python3 earlier on PATH may not. */
const PYTHON = process.env.LOIRE_PYTHON ?? '/usr/bin/python3';

export interface Comparison {
  received: string;
  match: string | null;
  differences: string[];
}

export function compareWithPydicom(jobs: { received: string; candidates: string[] }[]): Promise<Comparison[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`compare_datasets.py exited ${code}: ${stderr.slice(-2000)}`));
      resolve(stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Comparison));
    });
    child.stdin.end(jobs.map((j) => JSON.stringify(j)).join('\n'));
  });
}
