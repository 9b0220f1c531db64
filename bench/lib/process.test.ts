import { describe, expect, it } from 'vitest';
import { failureLine } from './process.mjs';

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
