import type { IncomingMessage } from 'node:http';
import { InferlogConfigError } from '@inferlog/core';
import { checkSchemaName, checkTableName } from '@inferlog/core/audit';

/** Decides whether a request may see the console: the host app's own check (session, SSO, roles). */
export type ConsoleAuthenticate = (req: IncomingMessage) => boolean | Promise<boolean>;

/** Options of `inferlogConsole`. */
export interface ConsoleOptions {
  /** PostgreSQL connection string of the database that holds the log. Required. */
  database: string;
  /** Schema of the log table. Default `inferlog`. */
  schema?: string;
  /** The log table. Default `inference_log`. */
  table?: string;
  /**
   * Called for every request; the console answers 403 when it returns false. When the console is
   * mounted behind the app's own authentication, pass the check (or `() => true` to say the app has
   * done it). Without `authenticate` or `token` the console serves only requests that reach it over
   * loopback, addressed to a loopback host name, and not through a proxy.
   */
  authenticate?: ConsoleAuthenticate;
  /**
   * A shared secret of at least 16 characters. A browser opens `<console>/?token=<token>` once and
   * keeps a cookie; scripts send `Authorization: Bearer <token>`.
   */
  token?: string;
  /**
   * The database role the console reads as: `SET ROLE` at connection start, so the database itself
   * refuses any write. Used when the role exists and the connecting user may take it; otherwise the
   * console reads as the connecting user and the footer says so. `false`: never change role.
   * Default `inferlog_reader`.
   */
  role?: string | false;
  /** Records per page of the records list, 1 to 500. Default 50. */
  pageSize?: number;
  /** Connections the console may hold. Default 4. */
  maxConnections?: number;
  /** The name shown in the header and page titles (a service name). Default `inferlog`. */
  title?: string;
  /**
   * Called with an error the console did not expect (a bug, an `authenticate` that threw); the visitor
   * sees a page that says the console could not answer. Default: written to standard error.
   */
  onError?: (err: unknown) => void;
}

/** The options with every default filled in. */
export interface NormalizedConsoleOptions {
  database: string;
  schema: string;
  table: string;
  authenticate: ConsoleAuthenticate | null;
  token: string | null;
  role: string | null;
  pageSize: number;
  maxConnections: number;
  title: string;
  onError: (err: unknown) => void;
}

const KNOWN = new Set(['database', 'schema', 'table', 'authenticate', 'token', 'role', 'pageSize', 'maxConnections', 'title', 'onError']);

function wholeNumber(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new InferlogConfigError(`console option "${name}" must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}`);
  return value;
}

/** Checks the options once, naming any unknown or invalid one, and fills in the defaults. */
export function normalizeConsoleOptions(options: ConsoleOptions): NormalizedConsoleOptions {
  if (typeof options !== 'object' || options === null)
    throw new InferlogConfigError('inferlogConsole needs an options object with at least "database"');
  for (const key of Object.keys(options))
    if (!KNOWN.has(key)) throw new InferlogConfigError(`unknown console option "${key}": the options are ${[...KNOWN].join(', ')}`);
  if (typeof options.database !== 'string' || !options.database)
    throw new InferlogConfigError('console option "database" must be the connection string of the database that holds the log');
  if (options.authenticate !== undefined && typeof options.authenticate !== 'function')
    throw new InferlogConfigError('console option "authenticate" must be a function (req) => boolean | Promise<boolean>');
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length < 16))
    throw new InferlogConfigError('console option "token" must be a secret of at least 16 characters (e.g. openssl rand -hex 16)');
  if (
    options.role !== undefined &&
    options.role !== false &&
    (typeof options.role !== 'string' || !/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(options.role))
  )
    throw new InferlogConfigError('console option "role" must be a role name (a plain SQL identifier) or false');
  if (options.onError !== undefined && typeof options.onError !== 'function')
    throw new InferlogConfigError('console option "onError" must be a function (err) => void');
  if (options.title !== undefined && (typeof options.title !== 'string' || options.title.length > 100))
    throw new InferlogConfigError('console option "title" must be text of at most 100 characters');
  return {
    database: options.database,
    schema: checkSchemaName(options.schema ?? 'inferlog', 'schema'),
    table: checkTableName(options.table ?? 'inference_log', 'table'),
    authenticate: options.authenticate ?? null,
    token: options.token ?? null,
    role: options.role === false ? null : (options.role ?? 'inferlog_reader'),
    pageSize: wholeNumber(options.pageSize, 'pageSize', 1, 500, 50),
    maxConnections: wholeNumber(options.maxConnections, 'maxConnections', 1, 50, 4),
    title: options.title ?? 'inferlog',
    onError: options.onError ?? ((err) => console.error('inferlog console:', err)),
  };
}
