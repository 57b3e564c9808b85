import type { InferenceRecord } from '../record/record';
import { JSONB_COLUMNS, RECORD_COLUMNS } from '../record/record';
import { sealedJson } from '../chain/canonical';
import { toJsonb, toText } from '../record/sanitize';

// PostgreSQL COPY text format: one line per row, columns separated by tabs, \N for NULL, and
// backslash, newline, carriage return and tab escaped with a backslash.
const HAS_COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_SPECIAL = /[\\\n\r\t]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeCopy(text: string): string {
  return HAS_COPY_SPECIAL.test(text) ? text.replace(COPY_SPECIAL, (c) => COPY_ESCAPES[c]) : text;
}

/** A text[] literal: every element double-quoted, with `"` and `\` escaped inside. */
function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${toText(v)!.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

type Encoder = (value: unknown) => string;

const jsonbField: Encoder = (value) => {
  const json = toJsonb(value);
  return json === null ? '\\N' : escapeCopy(json);
};
const textField: Encoder = (value) => escapeCopy(toText(String(value))!);
const ENCODERS: Partial<Record<(typeof RECORD_COLUMNS)[number], Encoder>> = {
  id: String,
  started_at: (value) => (value as Date).toISOString(),
  ended_at: (value) => (value as Date).toISOString(),
  latency_ms: (value) => (Number.isFinite(value) ? String(value) : '\\N'),
  status: String,
  aborted: (value) => (value ? 't' : 'f'),
  request_bytes: String,
  response_bytes: String,
  chain_seq: String,
  truncated: (value) => escapeCopy(arrayLiteral(value as string[])),
  redactions: (value) => escapeCopy(arrayLiteral(value as string[])),
};
/** How each column is written, in RECORD_COLUMNS order; decided once, not per value. */
const COLUMN_ENCODERS: readonly Encoder[] = RECORD_COLUMNS.map((column) => ENCODERS[column] ?? (JSONB_COLUMNS.has(column) ? jsonbField : textField));

/** The records as COPY text, in the column order of RECORD_COLUMNS. */
export function toCopyText(records: readonly InferenceRecord[]): string {
  let out = '';
  for (const record of records) {
    // A sealed record's JSON was serialised for its hash already: that text is sent (same jsonb value).
    const json = sealedJson.get(record);
    for (let i = 0; i < RECORD_COLUMNS.length; i++) {
      const column = RECORD_COLUMNS[i];
      const value = record[column];
      const sealed = json?.[column];
      out += (i === 0 ? '' : '\t') + (value === null || value === undefined ? '\\N' : sealed !== undefined ? escapeCopy(sealed) : COLUMN_ENCODERS[i](value));
    }
    out += '\n';
  }
  return out;
}
