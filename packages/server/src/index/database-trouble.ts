// Whether a failed write is the database's trouble rather than the instance's. The write queue
// keeps the instances of such a failure queued (and journalled) and retries them: a full disk,
// an I/O error or a lost connection must never make it give up an instance it has acknowledged.
// A database that still answers a query may be in such trouble (a full disk fails writes, not
// reads), so the error's code decides; an error with none of these codes is the instance's.

/** SQLite result codes, primary or extended (SQLITE_IOERR_WRITE…), of a database in trouble. */
const SQLITE_TROUBLE = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|NOMEM|READONLY|CANTOPEN|PROTOCOL|CORRUPT|NOTADB|PERM)(_[A-Z_]+)?$/;

/**
 * PostgreSQL SQLSTATE classes of a server in trouble: connection exception (08), transaction
 * rollback (40), insufficient resources (53: disk full, out of memory, too many connections),
 * object not in prerequisite state (55: lock not available), operator intervention (57:
 * shutdown, statement timeout), system error (58: I/O error) and internal error (XX).
 */
const SQLSTATE_TROUBLE_CLASSES = new Set(['08', '40', '53', '55', '57', '58', 'XX']);
/** Read-only SQL transaction: a standby, after a failover, before the new primary takes over. */
const READ_ONLY_TRANSACTION = '25006';

export function isDatabaseTrouble(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (typeof code !== 'string') return false;
  if (code.startsWith('SQLITE_')) return SQLITE_TROUBLE.test(code);
  if (/^[0-9A-Z]{5}$/.test(code)) return SQLSTATE_TROUBLE_CLASSES.has(code.slice(0, 2)) || code === READ_ONLY_TRANSACTION;
  // A system error from the driver or the file system: ECONNRESET, ETIMEDOUT, ENOSPC, EIO…
  return /^E[A-Z]+$/.test(code);
}
