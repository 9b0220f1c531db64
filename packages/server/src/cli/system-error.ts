// The system errors that stop a command before it could do its work (a port taken, a data
// directory that cannot be written), said in one line with what to do. Anything else is a bug,
// and its stack is printed whole.

type SystemError = NodeJS.ErrnoException & { address?: string; port?: number };

export function explainSystemError(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const e = error as SystemError;
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
