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

export function logTableNames(schema: string, table: string): LogTableNames {
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
