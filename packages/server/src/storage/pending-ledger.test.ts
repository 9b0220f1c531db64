import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PendingLedger } from './pending-ledger.js';

const keyOf = (i: number): string => `2026/12/06/${i.toString(16).padStart(32, '0')}.dcm`;

describe('PendingLedger', () => {
  it('lists what is outstanding across segments, and deletes a full segment once all of it is released', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loire-ledger-'));
    const ledger = new PendingLedger(dir);
    const keys = Array.from({ length: 2500 }, (_, i) => keyOf(i));
    for (const key of keys) ledger.recordSync([key]);
    expect(readdirSync(dir)).toHaveLength(3);
    expect([...ledger.listed().keys()]).toEqual(keys);
    for (const key of keys.slice(0, 1024)) ledger.release(key);
    expect(readdirSync(dir)).toHaveLength(2); // the first segment, all released
    ledger.release(keys[1500]!);
    ledger.release(keys[1500]!); // twice is harmless
    expect(ledger.outstanding).toBe(2500 - 1025);
    // What another process sees after this one died: the keys not yet released, and some that were.
    expect(new PendingLedger(dir).listed().size).toBe(2500 - 1024);
    for (const key of keys.slice(1024)) ledger.release(key);
    ledger.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps the segments of keys still outstanding at close, for the next start', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loire-ledger-'));
    const ledger = new PendingLedger(dir);
    ledger.recordSync([keyOf(1), keyOf(2)]);
    ledger.label(keyOf(1), '1.2.840.1');
    ledger.release(keyOf(1));
    ledger.close();
    // A key released after close (an object discarded while the storage closed) deletes its segment then.
    const lateDir = mkdtempSync(path.join(os.tmpdir(), 'loire-ledger-'));
    const late = new PendingLedger(lateDir);
    late.recordSync([keyOf(3)]);
    late.close();
    expect(readdirSync(lateDir)).toHaveLength(1);
    late.release(keyOf(3));
    expect(readdirSync(lateDir)).toEqual([]);
    expect(() => late.recordSync([keyOf(4)])).toThrow(/closed/);
    const next = new PendingLedger(dir);
    expect(next.listed()).toEqual(new Map([[keyOf(1), '1.2.840.1'], [keyOf(2), undefined]]));
    next.forgetListed();
    expect(readdirSync(dir)).toEqual([]);
  });
});
