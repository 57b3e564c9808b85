import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where one store's owner keeps its lock and its socket. */
export interface StorePaths {
  dataDir: string;
  /** The lock file naming the process that owns the store. */
  lockFile: string;
  /** The directory of the Unix socket the owner serves on; pg connects to `<socketDir>/.s.PGSQL.5432`. */
  socketDir: string;
  socketFile: string;
  /** The connection string that reaches the owner from any process. */
  connectionString: string;
}

// sun_path holds 108 bytes on Linux (104 on macOS) including the terminating NUL.
const MAX_SOCKET_PATH = 100;
const SOCKET_NAME = '.s.PGSQL.5432';

/**
 * The same paths for every process that opens `dataDir`: the lock and the socket sit in
 * `<dataDir>/inferlog-owner/`, or the socket in a directory of the temp folder named after the data
 * directory when that path is too long for a Unix socket.
 */
export function storePaths(dataDir: string): StorePaths {
  const dir = resolve(dataDir);
  const ownerDir = join(dir, 'inferlog-owner');
  let socketDir = ownerDir;
  if (join(socketDir, SOCKET_NAME).length > MAX_SOCKET_PATH) {
    socketDir = join(tmpdir(), `inferlog-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`);
  }
  return {
    dataDir: dir,
    lockFile: join(ownerDir, 'lock.json'),
    socketDir,
    socketFile: join(socketDir, SOCKET_NAME),
    connectionString: `postgres://postgres@${encodeURIComponent(socketDir)}/postgres`,
  };
}
