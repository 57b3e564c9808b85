import { InferlogConfigError, InferlogRefusedError } from '@inferlog/core';

/** Exit codes: 0 success; 1 a check failed (verify found a problem, show found nothing); 2 invalid usage; 3 could not run (database, files). */
export const EXIT = { ok: 0, failed: 1, usage: 2, error: 3 } as const;

/** An error the CLI reports as it is, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
  ) {
    super(message);
  }
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory (check the path and that its directory exists)',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory; give a file name',
  ENOTDIR: 'a part of the path is not a directory',
  ENOSPC: 'no space left on the device',
  EROFS: 'the file system is read-only',
};

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

/** Where the log is, for messages: `inferlog.inference_log at postgres://user@host/db`. */
export interface LogPlace {
  schema: string;
  table: string;
  /** The database, password hidden. */
  where: string;
}

/** What went wrong and what to do, in one message; and the exit code. */
export function explain(err: unknown, place?: LogPlace): { message: string; exitCode: number } {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode };
  if (err instanceof InferlogConfigError) return { message: err.message.replace(/^inferlog: /, ''), exitCode: EXIT.usage };
  // A legal hold or the retention floor said no: nothing was changed, and the message says why.
  if (err instanceof InferlogRefusedError) return { message: err.message.replace(/^inferlog: /, ''), exitCode: EXIT.failed };
  const e = err as { code?: string; message?: string };
  const message = (e?.message ?? String(err)).replace(/^inferlog: /, '');
  const at = place ? ` at ${place.where}` : '';
  const log = place ? `${place.schema}.${place.table}` : 'the log';
  const options = place ? `--schema ${place.schema} --table ${place.table}` : '--schema and --table';
  switch (e?.code) {
    case '28P01':
    case '28000':
      return {
        message: `PostgreSQL${at} refused the login: ${message}. Check the user and password in --database or DATABASE_URL.`,
        exitCode: EXIT.error,
      };
    case '3D000':
      return { message: `${message}${at}. Check the database name in --database or DATABASE_URL.`, exitCode: EXIT.error };
    case '42P01':
      return {
        message: `${log} is not an inference log here (${message}). Run "inferlog migrate ${options}" to create it, or check --database, --schema and --table.`,
        exitCode: EXIT.error,
      };
    case '42703':
      return {
        message: `${log} lacks columns this inferlog reads (${message}). Run "inferlog migrate ${options}" to bring it up to date.`,
        exitCode: EXIT.error,
      };
    case '42501':
      return {
        message: `permission denied${at} (${message}). Reading the log needs a role in inferlog_reader (GRANT inferlog_reader TO <login>); migrate needs the owner of the schema.`,
        exitCode: EXIT.error,
      };
  }
  const file = err as { path?: string; syscall?: string };
  if (e?.code && FILE_ERRORS[e.code] && file.path) {
    const path = file.path.replace(/\.partial$/, '');
    return {
      message: `cannot ${file.syscall === 'open' || file.syscall === 'read' ? 'open' : 'write'} ${path}: ${FILE_ERRORS[e.code]}.`,
      exitCode: EXIT.error,
    };
  }
  if ((e?.code && UNREACHABLE.has(e.code)) || /timeout exceeded when trying to connect|Connection terminated/i.test(message)) {
    return {
      message: `cannot reach PostgreSQL${at}: ${message}. Check --database or DATABASE_URL, and that the server runs and accepts connections from this machine.`,
      exitCode: EXIT.error,
    };
  }
  return { message, exitCode: EXIT.error };
}
