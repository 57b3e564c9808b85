import {
  canonicalJson,
  EVENT_HASH_COLUMNS,
  EVENT_KINDS,
  normalize,
  RECORD_HASH_COLUMNS,
  RECORD_KINDS,
  type ColumnKind,
} from '../chain/canonical';
import { numberFromStored } from '../chain/exact-number';
import { parseStoredJson } from '../chain/stored-json';
import { columnNames, EVENT_TABLE } from '../columns';
import { canonicalLine, rowFromLine } from './canonical-lines';
import { RECORD_COLUMNS, type RecordColumn } from '../record/record';
import { csvRecord } from './csv';
import type { RecordRow } from './rows';

/** File formats of an export. */
export type ExportFormat = 'jsonl' | 'csv';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['jsonl', 'csv'];

/** The columns of an exported row, in table order (the CSV header): every column of the log, record_hash last. */
export const EXPORT_COLUMNS: readonly RecordColumn[] = RECORD_COLUMNS;

/** The columns of one exported table: what its lines hold, how each is normalised, and which its record_hash covers. */
export interface ExportedTable {
  /** `records` (the log) or `events` (its oversight events), as problems name it. */
  name: 'records' | 'events';
  /** Every column, in table order, record_hash last. */
  columns: readonly string[];
  /** How each column is normalised (record_hash too). */
  kinds: Readonly<Record<string, ColumnKind>>;
  /** The columns record_hash covers. */
  hashed: Readonly<Record<string, ColumnKind>>;
}

function exportedTable(
  name: ExportedTable['name'],
  columns: readonly string[],
  kinds: Readonly<Record<string, ColumnKind>>,
  hashed: Readonly<Record<string, ColumnKind>>,
): ExportedTable {
  return { name, columns, kinds, hashed };
}

/** The log's rows as an export holds them. */
export const RECORD_EXPORT = exportedTable('records', EXPORT_COLUMNS, RECORD_KINDS, RECORD_HASH_COLUMNS);
/** Oversight events as an export holds them (always JSONL, beside the records file). */
export const EVENT_EXPORT = exportedTable('events', columnNames(EVENT_TABLE), EVENT_KINDS, EVENT_HASH_COLUMNS);

const KINDS: readonly ColumnKind[] = EXPORT_COLUMNS.map((c) => RECORD_KINDS[c]);

/**
 * One row as a JSONL line: the canonical JSON (RFC 8785) of the row with its record_hash, and a LF. Takes
 * a row as PostgreSQL returns it (or already canonical) and normalises each column on the way.
 * `table`: which table's columns (the log's, unless given).
 */
export function jsonlLine(row: Readonly<Record<string, unknown>> | RecordRow, table: ExportedTable = RECORD_EXPORT): string {
  return canonicalLine(row as Readonly<Record<string, unknown>>, table.kinds);
}

/** A CSV cell's text: jsonb and text[] as canonical JSON, timestamps ISO 8601, NULL as null. */
function cellText(kind: ColumnKind, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'texts':
    case 'json':
      return canonicalJson(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return canonicalJson(value);
    default:
      return String(value);
  }
}

/** The CSV header record. */
export function csvHeader(): string {
  return csvRecord(EXPORT_COLUMNS);
}

/** One row as a CSV record (RFC 4180, CRLF), from a row as PostgreSQL returns it (or already canonical). */
export function csvLine(row: Readonly<Record<string, unknown>> | RecordRow): string {
  const values = row as Readonly<Record<string, unknown>>;
  return csvRecord(EXPORT_COLUMNS.map((column, i) => cellText(KINDS[i]!, normalize(KINDS[i]!, values[column]))));
}

/**
 * A CSV record back as a row `rowHash` reads, exactly: numbers and jsonb as stored (see
 * chain/exact-number.ts), booleans typed, text[] parsed. Throws, naming the column, when a cell cannot
 * be read. (Whether the record is in canonical form is `csvLine(row)` against its text.)
 */
export function rowFromCsv(fields: readonly (string | null)[]): Record<string, unknown> {
  if (fields.length !== EXPORT_COLUMNS.length) throw new Error(`has ${fields.length} fields; an export has ${EXPORT_COLUMNS.length}`);
  const row: Record<string, unknown> = {};
  EXPORT_COLUMNS.forEach((column, i) => {
    const text = fields[i]!;
    const kind = KINDS[i]!;
    if (text === null) {
      row[column] = null;
    } else if (kind === 'number') {
      if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) throw new Error(`column ${column}: "${text.slice(0, 40)}" is not a number`);
      row[column] = numberFromStored(text);
    } else if (kind === 'boolean') {
      if (text !== 'true' && text !== 'false') throw new Error(`column ${column}: "${text.slice(0, 40)}" is not true or false`);
      row[column] = text === 'true';
    } else if (kind === 'texts') {
      try {
        row[column] = JSON.parse(text);
      } catch {
        throw new Error(`column ${column}: not a JSON array of text`);
      }
    } else if (kind === 'json') {
      try {
        row[column] = parseStoredJson(text);
      } catch {
        throw new Error(`column ${column}: not JSON`);
      }
    } else {
      row[column] = text;
    }
  });
  return row;
}

/**
 * A JSONL line back as a row of `table` (the log's, unless given), read exactly. Throws when it is not a
 * JSON object with exactly those columns, and a NotCanonicalError (carrying the row) when it is not
 * byte-equal to the row's canonical line.
 */
export function rowFromJsonl(line: string, table: ExportedTable = RECORD_EXPORT): Record<string, unknown> {
  return rowFromLine(line, table.kinds);
}
