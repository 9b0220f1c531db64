// The system errors that stop a command before it could do its work (a port taken, a data
// directory that cannot be written), said in one line with what to do. Anything else is a bug,
// and its stack is printed whole.
import { DataDirectoryInUseError } from '../data-lock.js';

type SystemError = NodeJS.ErrnoException & { address?: string; port?: number };

export function explainSystemError(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error instanceof DataDirectoryInUseError) return error.message;
  const e = error as SystemError;
  // The index wraps some of its errors ("Cannot open the SQLite index at …"): the cause has the code.
  const database = explainDatabaseError(e) ?? (e.cause instanceof Error ? explainDatabaseError(e.cause as SystemError) : undefined);
  if (database !== undefined) return database;
  const where = e.path ? ` (${e.path})` : '';
  switch (e.code) {
    case 'EADDRINUSE':
      return `port ${e.port ?? '?'} on ${e.address ?? 'this host'} is in use: another Loire or another PACS listens there; stop it, or choose other ports (--dicom-port, --http-port, or the configuration)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${e.address ?? 'that address'}: this host has no such address; check bindAddress in the configuration`;
    case 'EACCES':
    case 'EPERM':
      return e.syscall === 'listen' || e.syscall === 'bind'
        ? `not allowed to listen on port ${e.port ?? '?'}: ports below 1024 need privileges; choose a higher port, or grant the capability (CAP_NET_BIND_SERVICE)`
        : `permission denied${where}: run Loire as a user that may read and write the data directory (--data, LOIRE_DATA)`;
    case 'ENOENT':
    case 'ENOTDIR':
    case 'EROFS':
      return e.syscall === 'mkdir' || e.code === 'EROFS'
        ? `cannot create ${e.path ?? 'a directory'} (${e.code}): check that the data directory (--data, LOIRE_DATA) is on a mounted, writable file system`
        : undefined;
    case 'ENOSPC':
    case 'EDQUOT':
      return `no space left on the device${where}: free space or add storage, then start again`;
    default:
      return undefined;
  }
}

/** The index database's own errors at start: SQLite result codes, PostgreSQL SQLSTATEs, a server not reached. */
function explainDatabaseError(e: SystemError): string | undefined {
  const code = e.code ?? '';
  const what = `${code}: ${e.message}`;
  if (/^SQLITE_(FULL|IOERR)/.test(code)) {
    return `the index database cannot be written (${what}): is the disk of the data directory full? make room, then run it again; if it is not full, check the disk`;
  }
  if (/^SQLITE_(BUSY|LOCKED)/.test(code)) {
    return `the index database is locked by another process (${what}): wait for it to finish, then run it again`;
  }
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) {
    return `the index database file is damaged or is not a Loire index (${what}): check --database (LOIRE_DATABASE), or restore the index from a backup`;
  }
  if (/^SQLITE_(CANTOPEN|READONLY|PERM)/.test(code)) {
    return `the index database cannot be opened for writing (${what}): check --database (LOIRE_DATABASE) and that Loire's user may write there`;
  }
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || (code === 'ENOTFOUND' && e.syscall === 'getaddrinfo')) {
    const at = e.address ? `${e.address}${e.port ? `:${e.port}` : ''}` : (e as { hostname?: string }).hostname ?? 'its address';
    return `cannot reach the index database at ${at} (${code}): is PostgreSQL running there? check --database (LOIRE_DATABASE)`;
  }
  if (code === '3D000' || code === '28P01' || code === '28000') {
    return `the index database refused the connection (${what}): check the database name, user and password in --database (LOIRE_DATABASE)`;
  }
  return undefined;
}
