import type { InferenceRecord } from '../record/record';
import { JSONB_COLUMNS, RECORD_COLUMNS } from '../record/record';
import { toJsonb, toText } from '../record/sanitize';

// PostgreSQL COPY text format: one line per row, columns separated by tabs, \N for NULL, and
// backslash, newline, carriage return and tab escaped with a backslash.
const COPY_SPECIAL = /[\\\n\r\t]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeCopy(text: string): string {
  return COPY_SPECIAL.test(text) ? text.replace(COPY_SPECIAL, (c) => COPY_ESCAPES[c]) : text;
}

/** A text[] literal: every element double-quoted, with `"` and `\` escaped inside. */
function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${toText(v)!.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

function field(record: InferenceRecord, column: (typeof RECORD_COLUMNS)[number]): string {
  const value = record[column];
  if (value === null || value === undefined) return '\\N';
  if (JSONB_COLUMNS.has(column)) {
    const json = toJsonb(value);
    return json === null ? '\\N' : escapeCopy(json);
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return escapeCopy(arrayLiteral(value as string[]));
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '\\N';
  return escapeCopy(toText(String(value))!);
}

/** The records as COPY text, in the column order of RECORD_COLUMNS. */
export function toCopyText(records: readonly InferenceRecord[]): string {
  let out = '';
  for (const record of records) {
    let line = '';
    for (let i = 0; i < RECORD_COLUMNS.length; i++) line += (i === 0 ? '' : '\t') + field(record, RECORD_COLUMNS[i]);
    out += line + '\n';
  }
  return out;
}
