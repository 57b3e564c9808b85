import { InferlogConfigError } from '../errors';

/** The tables and function that belong to one log table, named after it. */
export interface LogTableNames {
  schema: string;
  table: string;
  /** Applied migrations. */
  migrations: string;
  /** One row per writer chain: who, since when, its head. */
  chains: string;
  /** Oversight events. */
  events: string;
  /** Who did what to the log (holds, retention). */
  audit: string;
  /** The legal hold (one row). */
  hold: string;
  /** Chain stretches dropped by retention. */
  gaps: string;
  /** SECURITY DEFINER function that adds a monthly partition. */
  addPartition: string;
}

/** The longest log table name: its derived names (`_migrations`, `_add_partition`, `_pYYYY_MM`) must stay within PostgreSQL's 63 characters. */
export const MAX_TABLE_NAME = 48;

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** Log table names leave room for the names derived from them (`<table>_add_partition`, `<table>_p2026_01`, …). */
const TABLE_NAME = new RegExp(`^[A-Za-z_][A-Za-z0-9_]{0,${MAX_TABLE_NAME - 1}}$`);

/**
 * The schema name, if it is a plain SQL identifier; throws naming `option` otherwise. The names are
 * written into the migrations' SQL (function bodies, trigger names), so only plain identifiers are taken,
 * whoever passes them: the library's options, the CLI's flags and the audit functions all check here.
 */
export function checkSchemaName(value: unknown, option = 'schema'): string {
  if (typeof value !== 'string' || !SCHEMA_NAME.test(value))
    throw new InferlogConfigError(
      `option "${option}" must be a plain SQL identifier (letters, digits, _; not starting with a digit; at most 63 characters); got ${JSON.stringify(value)}`,
    );
  return value;
}

/** The log table name, if it is a plain SQL identifier of at most MAX_TABLE_NAME characters; throws naming `option` otherwise. */
export function checkTableName(value: unknown, option = 'table'): string {
  if (typeof value !== 'string' || !TABLE_NAME.test(value))
    throw new InferlogConfigError(
      `option "${option}" must be a plain SQL identifier of at most ${MAX_TABLE_NAME} characters (letters, digits, _; not starting with a digit); got ${JSON.stringify(value)}`,
    );
  return value;
}

/** The names of a log table's tables and function; throws when the schema or table name is not a plain identifier. */
export function logTableNames(schema: string, table: string): LogTableNames {
  checkSchemaName(schema);
  checkTableName(table);
  return {
    schema,
    table,
    migrations: `${table}_migrations`,
    chains: `${table}_chain`,
    events: `${table}_event`,
    audit: `${table}_audit`,
    hold: `${table}_hold`,
    gaps: `${table}_gap`,
    addPartition: `${table}_add_partition`,
  };
}
