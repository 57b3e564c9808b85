// The canonical form of a stored row, which its record_hash covers. It is defined on the row as stored
// (read back from PostgreSQL, or from an export), so that anyone can recompute it without inferlog:
//
//   record_hash = lower-case hex SHA-256 of the UTF-8 bytes of JCS(row)
//
// where JCS is the JSON Canonicalization Scheme (RFC 8785: object keys sorted by UTF-16 code units, no
// whitespace, numbers as ECMAScript prints them) and `row` is the JSON object of every column except
// record_hash (prev_hash included; the columns and their types are in columns.ts), each value exactly
// as stored, read with `SET TimeZone = 'UTC'; SET DateStyle = 'ISO'` as `col::text`:
//   - timestamps (started_at, ended_at, created_at) as ISO 8601 UTC strings: `YYYY-MM-DDTHH:MM:SS.sssZ`
//     when the stored microseconds are a whole millisecond (as JS toISOString prints), else with all six
//     digits (`.ssssssZ`); what is no such instant (`infinity`) as its stored text (stored-time.ts),
//   - integer and double precision as numbers; bigint as a number when its digits print back as a
//     double, else its digits verbatim (as a JSON number),
//   - jsonb as its JSON value, each number N (its text in `col::text`, which PostgreSQL prints in plain
//     decimal) as the ECMAScript form s of the double nearest N when PostgreSQL stores s as exactly N,
//     else N verbatim — so `0.10000000000000000001`, `3.0`, `12345678901234567001` keep every digit and
//     whatever a writer wrote (a double) prints as JCS prints it (exact-number.ts),
//   - text and uuid as strings, text[] as arrays of strings, NULL as null,
//   - every string (values and keys) as stored: U+0000 and lone surrogates are U+FFFD.
// One deviation from RFC 8785: a non-finite double (never stored in jsonb) prints as null, not an error.
import * as crypto from 'node:crypto';
import { columnNames, EVENT_TABLE, RECORD_TABLE, sqlType, type SqlType, type Table } from '../columns';
import { ExactNumber, numberFromStored } from './exact-number';
import { timestampText } from './stored-time';

// crypto.hash (Node >= 20.12) hashes in one call, without a Hash object per row.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
/** Lower-case hex SHA-256 of a text's UTF-8 bytes. */
export const sha256Hex = oneShot
  ? (text: string) => oneShot('sha256', text, 'hex')
  : (text: string) => crypto.createHash('sha256').update(text).digest('hex');

/** How a column is normalised in the canonical form. */
export type ColumnKind = 'timestamp' | 'number' | 'text' | 'texts' | 'json' | 'boolean';

/** Characters that storing may change: U+0000 and surrogates (only lone ones are changed). */
const MAY_CHANGE = /[\0\ud800-\udfff]/;

/** A string as PostgreSQL stores it: U+0000 (refused by PostgreSQL) and lone surrogates (not UTF-8) become U+FFFD. */
export function storedText(text: string): string {
  if (!MAY_CHANGE.test(text)) return text;
  const t = text as string & { isWellFormed(): boolean; toWellFormed(): string };
  const wellFormed = t.isWellFormed() ? text : t.toWellFormed();
  return wellFormed.includes('\0') ? wellFormed.replaceAll('\0', '\ufffd') : wellFormed;
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byStoredName = (a: readonly [string, string], b: readonly [string, string]) => byCodeUnits(a[0], b[0]);

/** Characters JSON.stringify escapes, and those storing may change: a string without them is quoted as it is. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are among those JSON escapes
const NEEDS_CARE = /[\0-\x1f"\\\ud800-\udfff]/;
/** Quoted object keys: records repeat the same few (name, shape, datatype, data). */
const quotedKeys = new Map<string, string>();
const MAX_QUOTED_KEYS = 10_000;

/** JSON of a string as stored. */
function quote(text: string): string {
  return NEEDS_CARE.test(text) ? JSON.stringify(storedText(text)) : `"${text}"`;
}

/** JSON of an object key that storing leaves as it is (keys it would change take storedKeysObject). */
function quoteKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < MAX_QUOTED_KEYS) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/**
 * RFC 8785 JSON of a value as it is stored: what JSON.stringify writes (toJSON applied; Number, String
 * and Boolean objects unwrapped; undefined and functions left out of objects and null in arrays;
 * non-finite numbers null) with every string as stored, a BigInt as its decimal string (JSON cannot hold
 * it exactly), and of keys that storing makes equal only the last (as jsonb keeps them). This text is
 * both what is hashed and what is written, so the two cannot differ.
 * It runs for every record written: plain loops, no intermediate arrays in the common case.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return `"${value.toString()}"`;
    case 'object':
      break;
    default:
      return 'null';
  }
  if (value === null) return 'null';
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    // Checked here, not for every object: plain objects have no toJSON.
    if (value instanceof ExactNumber) return value.text;
    return canonicalJson((value as { toJSON(): unknown }).toJSON());
  }
  if (Array.isArray(value)) {
    // Tensor data: a list of finite numbers is printed the same way by JSON.stringify, natively and faster.
    let numbers = true;
    for (let i = 0; i < value.length && numbers; i++) numbers = typeof value[i] === 'number' && Number.isFinite(value[i]);
    if (numbers) return JSON.stringify(value);
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const prototype = Object.getPrototypeOf(value);
  if (
    prototype !== Object.prototype &&
    prototype !== null &&
    (value instanceof Number || value instanceof String || value instanceof Boolean)
  )
    return canonicalJson(value.valueOf());
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  let changed = false;
  for (let i = 0; i < keys.length && !changed; i++) changed = MAY_CHANGE.test(keys[i]!) && storedText(keys[i]!) !== keys[i];
  if (changed) return storedKeysObject(object, keys);
  sortKeys(keys);
  let out = '{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const v = object[keys[i]!];
    if (leftOut(v)) continue;
    out += `${first ? '' : ','}${quoteKey(keys[i]!)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * Sorts object keys by UTF-16 code units, as RFC 8785 orders them (so do `<` and the default sort). The
 * few keys of a typical object by insertion, in place: Array.prototype.sort allocates on every call.
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 16) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    for (; j >= 0 && keys[j]! > key; j--) keys[j + 1] = keys[j]!;
    keys[j + 1] = key;
  }
}

/** What JSON.stringify leaves out of an object. */
const leftOut = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/** An object with a key that storing changes (rare): keys as stored; of keys that become equal, the last one written, which is the one jsonb keeps. */
function storedKeysObject(object: Record<string, unknown>, keys: string[]): string {
  const byName = new Map<string, string>();
  for (const key of keys) if (!leftOut(object[key])) byName.set(storedText(key), key);
  const members = [...byName].sort(byStoredName);
  let out = '{';
  for (let i = 0; i < members.length; i++)
    out += `${i === 0 ? '' : ','}${JSON.stringify(members[i]![0])}:${canonicalJson(object[members[i]![1]])}`;
  return `${out}}`;
}

/** A column's value in the canonical form (see the top of this file). */
export function normalize(kind: ColumnKind, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'timestamp':
      return timestampText(value);
    case 'number':
      if (typeof value === 'number') return value;
      // A bigint is read as its digits (a string): a double when it prints back as them, else exact.
      if (typeof value === 'string') return numberFromStored(value);
      return value instanceof ExactNumber ? value : Number(value);
    case 'text':
      return storedText(String(value));
    case 'texts':
      return (value as unknown[]).map((v) => (v === null ? null : storedText(String(v))));
    case 'boolean':
      return value === true || value === 't' || value === 'true';
    case 'json':
      return value; // a jsonb value as the driver returns it (a JSON string is a string)
  }
}

/** How a column of each type is normalised. */
const KIND_OF_TYPE: { readonly [T in SqlType]: ColumnKind } = {
  uuid: 'text',
  timestamptz: 'timestamp',
  'double precision': 'number',
  integer: 'number',
  bigint: 'number',
  boolean: 'boolean',
  text: 'text',
  'text[]': 'texts',
  jsonb: 'json',
};

/** How each column of a table is normalised, in table order. */
function columnKinds<T extends Table>(table: T): Readonly<Record<keyof T & string, ColumnKind>> {
  return Object.fromEntries(columnNames(table).map((column) => [column, KIND_OF_TYPE[sqlType(table[column]!)]])) as Record<
    keyof T & string,
    ColumnKind
  >;
}

/** The columns a row's hash covers: all but record_hash, the hash itself. */
function hashed<C extends string>(kinds: Readonly<Record<C, ColumnKind>>): Readonly<Record<Exclude<C, 'record_hash'>, ColumnKind>> {
  return Object.fromEntries(Object.entries(kinds).filter(([column]) => column !== 'record_hash')) as Record<
    Exclude<C, 'record_hash'>,
    ColumnKind
  >;
}

/** How each column of the log table is normalised (record_hash too, as an export writes it). */
export const RECORD_KINDS = columnKinds(RECORD_TABLE);
/** How each column of the event table is normalised. */
export const EVENT_KINDS = columnKinds(EVENT_TABLE);
/** How each hashed column of the log table is normalised. Columns not listed are not part of the hash. */
export const RECORD_HASH_COLUMNS = hashed(RECORD_KINDS);
/** How each hashed column of the event table is normalised. */
export const EVENT_HASH_COLUMNS = hashed(EVENT_KINDS);

/** The row's canonical JSON object (see the top of this file): each of `columns`, normalised, in their order. */
export function canonicalRow(
  row: Readonly<Record<string, unknown>>,
  columns: Readonly<Record<string, ColumnKind>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [column, kind] of Object.entries(columns)) out[column] = normalize(kind, row[column]);
  return out;
}

/** Each column set's entries in canonical (sorted) order, so rows are serialised without sorting their columns each time. */
const sortedColumns = new WeakMap<object, readonly (readonly [string, ColumnKind, string])[]>();

/** Where a sealed row keeps its jsonb columns' text, with the row it was made for (a spread copy carries the symbol but is not its owner). */
const JSON_TEXTS = Symbol('inferlog.jsonTexts');

interface JsonTexts {
  readonly owner: object;
  readonly texts: Readonly<Record<string, string>>;
}

/**
 * Remembers the JSON text of a sealed row's jsonb columns, made while hashing it: valid jsonb text for
 * the same values (keys sorted), which COPY and INSERT send instead of serialising each value again.
 * Kept on the row, not in a WeakMap: a WeakMap entry per row makes every garbage collection dearer.
 */
export function keepJsonTexts(row: object, texts: Readonly<Record<string, string>>): void {
  (row as { [JSON_TEXTS]?: JsonTexts })[JSON_TEXTS] = { owner: row, texts };
}

/** The jsonb columns' text `keepJsonTexts` remembered for this row, if any. */
export function jsonTextsOf(row: object): Readonly<Record<string, string>> | undefined {
  const kept = (row as { [JSON_TEXTS]?: JsonTexts })[JSON_TEXTS];
  return kept?.owner === row ? kept.texts : undefined;
}

/** `columns`' entries in canonical (sorted) order with their quoted names, made once per column set. */
export function sortedEntries(columns: Readonly<Record<string, ColumnKind>>): readonly (readonly [string, ColumnKind, string])[] {
  let order = sortedColumns.get(columns);
  if (!order) {
    order = Object.entries(columns)
      .sort(([a], [b]) => byCodeUnits(a, b))
      .map(([name, kind]) => [name, kind, JSON.stringify(name)] as const);
    sortedColumns.set(columns, order);
  }
  return order;
}

/**
 * The RFC 8785 JSON text of a row's `columns`, each normalised: what record_hash is the SHA-256 of (for
 * the hashed columns) and what an export's line is (with record_hash). `json`, when given, receives the
 * text of each non-null jsonb column.
 */
export function canonicalObject(
  row: Readonly<Record<string, unknown>>,
  columns: Readonly<Record<string, ColumnKind>>,
  json: Record<string, string> | null = null,
): string {
  const order = sortedEntries(columns);
  let canonical = '{';
  for (let i = 0; i < order.length; i++) {
    const [name, kind, quoted] = order[i]!;
    const value = normalize(kind, row[name]);
    const text = canonicalJson(value);
    if (json && kind === 'json' && value !== null) json[name] = text;
    canonical += `${i === 0 ? '' : ','}${quoted}:${text}`;
  }
  return `${canonical}}`;
}

/**
 * The record_hash of a row (a record before it is stored, or one read back or exported): SHA-256 of
 * JCS(canonicalRow(row)). `keepJson` remembers the jsonb columns' text (`keepJsonTexts`, for writing).
 */
export function rowHash(
  row: Readonly<Record<string, unknown>>,
  columns: Readonly<Record<string, ColumnKind>> = RECORD_HASH_COLUMNS,
  keepJson = false,
): string {
  const json: Record<string, string> | null = keepJson ? {} : null;
  const hash = sha256Hex(canonicalObject(row, columns, json));
  if (json) keepJsonTexts(row, json);
  return hash;
}
