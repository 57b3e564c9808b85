import { RECORD_TABLE, sqlType, type SqlType } from '../columns';
import { RECORD_COLUMNS, type InferenceRecord } from '../record/record';
import { jsonTextsOf } from '../chain/canonical';
import { toJsonb, toText } from '../record/sanitize';

// PostgreSQL COPY text format: one line per row, columns separated by tabs, \N for NULL, and
// backslash, newline, carriage return and tab escaped with a backslash.
const HAS_COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_SPECIAL = /[\\\n\r\t]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeCopy(text: string): string {
  return HAS_COPY_SPECIAL.test(text) ? text.replace(COPY_SPECIAL, (c) => COPY_ESCAPES[c]!) : text;
}

/** A text[] literal: every element double-quoted, with `"` and `\` escaped inside. */
function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${toText(v)!.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

type Encoder = (value: unknown) => string;

const textField: Encoder = (value) => escapeCopy(toText(String(value))!);

/** How a value of each type is written (NULL, of any type, as \N). */
const ENCODERS: { readonly [T in SqlType]: Encoder } = {
  // Escaped as text: a value that is no uuid is refused by PostgreSQL, and must not break the line first.
  uuid: textField,
  timestamptz: (value) => (value as Date).toISOString(),
  'double precision': (value) => (Number.isFinite(value) ? String(value) : '\\N'),
  integer: String,
  bigint: String,
  boolean: (value) => (value ? 't' : 'f'),
  text: textField,
  'text[]': (value) => escapeCopy(arrayLiteral(value as string[])),
  jsonb: (value) => {
    const json = toJsonb(value);
    return json === null ? '\\N' : escapeCopy(json);
  },
};
/** How each column is written, in RECORD_COLUMNS order; decided once, not per value. */
const COLUMN_ENCODERS: readonly Encoder[] = RECORD_COLUMNS.map((column) => ENCODERS[sqlType(RECORD_TABLE[column])]);

/** The records as COPY text, in the column order of RECORD_COLUMNS. */
export function toCopyText(records: readonly InferenceRecord[]): string {
  // Each row's fields joined, not concatenated one by one: a concatenation per field is garbage per field.
  const fields = new Array<string>(RECORD_COLUMNS.length);
  let out = '';
  for (const record of records) {
    // A sealed record's JSON was serialised for its hash already: that text is sent (same jsonb value).
    const json = jsonTextsOf(record);
    for (let i = 0; i < RECORD_COLUMNS.length; i++) {
      const column = RECORD_COLUMNS[i]!;
      const value = record[column];
      const sealed = json?.[column];
      fields[i] = value === null || value === undefined ? '\\N' : sealed !== undefined ? escapeCopy(sealed) : COLUMN_ENCODERS[i]!(value);
    }
    out += `${fields.join('\t')}\n`;
  }
  return out;
}
