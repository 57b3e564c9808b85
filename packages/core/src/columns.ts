// The columns of the log table and of the event table, declared once, in table order. The row types,
// the hashed columns, the COPY and INSERT column lists and the export's columns are derived from here;
// the migrations (SQL) are held to it by a test that reads the migrated tables from information_schema.

/** A column's type, spelled as in the migrations. */
export type SqlType = 'uuid' | 'timestamptz' | 'double precision' | 'integer' | 'bigint' | 'boolean' | 'text' | 'text[]' | 'jsonb';

const NOT_NULL = ' not null';

/** A column's type, with ` not null` when the column has that constraint. */
export type ColumnSpec = SqlType | `${SqlType}${typeof NOT_NULL}`;

/** A table's columns, by name, in table order. */
export type Table = { readonly [column: string]: ColumnSpec };

/** The chain columns every chained table ends with (see chain/chain.ts). */
export const CHAIN_COLUMNS = {
  chain_id: 'uuid',
  chain_seq: 'bigint',
  prev_hash: 'text',
  record_hash: 'text',
} as const satisfies Table;

/** The inference log: one row per inference (see the record table in DESIGN.md). */
export const RECORD_TABLE = {
  id: 'uuid not null',
  started_at: 'timestamptz not null',
  ended_at: 'timestamptz not null',
  latency_ms: 'double precision not null',
  request_id: 'text not null',
  trace_id: 'text',
  span_id: 'text',
  service: 'text',
  service_version: 'text',
  host: 'text',
  method: 'text not null',
  route: 'text',
  path: 'text not null',
  status: 'integer',
  aborted: 'boolean not null',
  protocol: 'text not null',
  model_name: 'text',
  model_version: 'text',
  inference_id: 'text',
  parameters: 'jsonb',
  inputs: 'jsonb',
  outputs: 'jsonb',
  response_parameters: 'jsonb',
  usage: 'jsonb',
  error: 'jsonb',
  request_headers: 'jsonb',
  response_headers: 'jsonb',
  request_body: 'text',
  response_body: 'text',
  request_bytes: 'bigint not null',
  response_bytes: 'bigint not null',
  request_sha256: 'text',
  response_sha256: 'text',
  truncated: 'text[] not null',
  redactions: 'text[] not null',
  schema_errors: 'jsonb',
  annotations: 'jsonb',
  ...CHAIN_COLUMNS,
} as const satisfies Table;

/** Oversight events about inferences (`<table>_event`). */
export const EVENT_TABLE = {
  id: 'uuid not null',
  created_at: 'timestamptz not null',
  /** The inference the event is about: its `id` or its `request_id`, as given. */
  subject: 'text not null',
  type: 'text not null',
  actor: 'text',
  data: 'jsonb',
  redactions: 'text[] not null',
  ...CHAIN_COLUMNS,
} as const satisfies Table;

export type ChainColumn = keyof typeof CHAIN_COLUMNS;

/** A column's type, without ` not null`. */
export function sqlType(spec: ColumnSpec): SqlType {
  return (spec.endsWith(NOT_NULL) ? spec.slice(0, -NOT_NULL.length) : spec) as SqlType;
}

export function isNullable(spec: ColumnSpec): boolean {
  return !spec.endsWith(NOT_NULL);
}

/** A table's column names, in table order. */
export function columnNames<T extends Table>(table: T): readonly (keyof T & string)[] {
  return Object.keys(table) as (keyof T & string)[];
}

/** What a value of each type is in JavaScript as a row is written. */
interface WrittenValues {
  uuid: string;
  timestamptz: Date;
  'double precision': number;
  integer: number;
  bigint: number;
  boolean: boolean;
  text: string;
  'text[]': string[];
  jsonb: unknown;
}

/** What a value of each type is in a row's canonical form (chain/canonical.ts): timestamps as ISO 8601 strings. */
interface CanonicalValues extends Omit<WrittenValues, 'timestamptz'> {
  timestamptz: string;
}

type Value<S extends ColumnSpec, V extends { [T in SqlType]: unknown }> = S extends `${infer T extends SqlType}${typeof NOT_NULL}`
  ? V[T]
  : V[S & SqlType] | null;

/** A row of `T` as it is written. */
export type Written<T extends Table> = { -readonly [K in keyof T]: Value<T[K], WrittenValues> };

/** A row of `T` in its canonical form. */
export type Canonical<T extends Table> = { -readonly [K in keyof T]: Value<T[K], CanonicalValues> };
