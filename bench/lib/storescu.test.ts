import { describe, expect, it } from 'vitest';
import { storescuLogReader } from './storescu.mjs';

describe('storescuLogReader', () => {
  it('notes when the association was requested and counts store responses, across chunk boundaries', () => {
    const reader = storescuLogReader();
    reader.push('I: checking input files ...\nI: Requesting Asso', 1);
    reader.push('ciation\nI: Association Accepted (Max Send PDV: 16372)\nI: Received Store Response (Success)\n', 2);
    reader.push('I: Received Store Response (Warning: Coercion of Data Elements)\nI: Received Store Res', 3);
    reader.push('ponse (Success)\n', 4);
    expect(reader.result).toEqual({ requestedAt: 2, responses: 3, successes: 2, failures: ['Warning: Coercion of Data Elements'] });
  });

  it('keeps error and fatal lines as failure reasons', () => {
    const reader = storescuLogReader();
    reader.push('F: Association Request Failed: 0006:031c TCP Initialization Error: Connection refused\n', 1);
    expect(reader.result.requestedAt).toBeNull();
    expect(reader.result.failures).toEqual(['Association Request Failed: 0006:031c TCP Initialization Error: Connection refused']);
  });
});
