import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canRunAtNiceness, failureLine, spawnServer } from './process.mjs';

describe('failureLine', () => {
  it('prefers the line naming the error over the stack and the trailing noise', () => {
    const tail = [
      'node:internal/modules/esm/resolve:275',
      "Error [ERR_MODULE_NOT_FOUND]: Cannot find module 'dist/server.js' imported from dist/cli/main.js",
      '    at finalizeResolution (node:internal/modules/esm/resolve:275:11)',
      '}',
      'Node.js v20.20.2',
    ].join('\n');
    expect(failureLine(tail)).toBe("Error [ERR_MODULE_NOT_FOUND]: Cannot find module 'dist/server.js' imported from dist/cli/main.js");
  });

  it('falls back to the last non-empty line, or says there was no output', () => {
    expect(failureLine('starting\nport 4242 in use\n\n')).toBe('port 4242 in use');
    expect(failureLine('')).toBe('(no output)');
  });
});

describe('spawnServer at a niceness', () => {
  it('runs the server and what it starts at that niceness, under the server\'s own pid', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loire-nice-'));
    try {
      // A lower priority than ours needs no privilege; the shell's child (nice) reports its own.
      const wanted = Math.min(19, os.getPriority() + 3);
      const server = spawnServer('sh', ['-c', 'echo "$$ $(nice)"'], { logFile: path.join(dir, 'out.log'), niceness: wanted });
      await server.exited;
      const [pid, niceness] = fs.readFileSync(path.join(dir, 'out.log'), 'utf8').trim().split(' ');
      expect(Number(niceness)).toBe(wanted);
      expect(Number(pid)).toBe(server.child.pid);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tells whether a higher priority may be given', () => {
    expect(canRunAtNiceness(Math.min(19, os.getPriority() + 1))).toBe(true);
    // Root may raise priorities; nice only warns where it may not, which the probe sees.
    if (process.getuid?.() === 0) expect(canRunAtNiceness(-10)).toBe(true);
  });
});
