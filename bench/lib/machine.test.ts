import { describe, expect, it } from 'vitest';
import { parseChildrenTicks, parseMachineTicks } from './machine.mjs';

describe('parseMachineTicks', () => {
  it('sums the busy, idle and stolen counters of the "cpu" line', () => {
    const text = 'cpu  100 5 40 1000 20 3 2 7 0 0\ncpu0 50 2 20 500 10 1 1 3 0 0\nintr 12345\n';
    expect(parseMachineTicks(text)).toEqual({ busy: 100 + 5 + 40 + 3 + 2, idle: 1000 + 20, steal: 7 });
  });

  it('refuses a text without the machine-wide line', () => {
    expect(() => parseMachineTicks('cpu0 1 2 3\n')).toThrow(/cpu/);
  });
});

describe('parseChildrenTicks', () => {
  it('reads cutime and cstime after a command name holding spaces and parentheses', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime …
    const text = '4242 (node (x) y) S 1 4242 4242 0 -1 4194560 100 200 0 0 311 42 1500 250 20 0 11 0 9999 1000 500';
    expect(parseChildrenTicks(text)).toBe(1750);
  });

  it('reads this process', async () => {
    const fs = await import('node:fs');
    if (!fs.existsSync('/proc/self/stat')) return;
    expect(parseChildrenTicks(fs.readFileSync('/proc/self/stat', 'utf8'))).toBeGreaterThanOrEqual(0);
  });
});
