import { describe, expect, it } from 'vitest';
import { isDatabaseTrouble } from './database-trouble.js';

const withCode = (code: string): Error => Object.assign(new Error(code), { code });

describe('isDatabaseTrouble', () => {
  it("takes a full disk, an I/O error, a lost connection or a shutdown for the database's trouble", () => {
    for (const code of [
      'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_READONLY', 'SQLITE_CORRUPT',
      '53100', '53200', '53300', '08006', '08001', '57P01', '57014', '58030', 'XX001', '40001', '55P03', '25006',
      'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ENOSPC', 'EIO',
    ]) expect(isDatabaseTrouble(withCode(code)), code).toBe(true);
  });

  it("takes anything else for the instance's own problem", () => {
    for (const code of ['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_TOOBIG', 'SQLITE_MISMATCH', '23502', '22001', '22P02', 'ERR_INVALID_ARG_TYPE']) {
      expect(isDatabaseTrouble(withCode(code)), code).toBe(false);
    }
    expect(isDatabaseTrouble(new Error('value too long for column'))).toBe(false);
    expect(isDatabaseTrouble(undefined)).toBe(false);
    expect(isDatabaseTrouble('SQLITE_FULL')).toBe(false);
  });
});
