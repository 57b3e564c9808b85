// PostgreSQL rejects U+0000 in text and jsonb, and lone UTF-16 surrogates in jsonb. Both can arrive in
// valid JSON (as \u0000 and \ud800 escapes); they are stored as U+FFFD so the record is never refused.
// JSON.stringify escapes lone surrogates and U+0000, and keeps valid pairs as characters, so any such
// escape preceded by an even number of backslashes is one of these and nothing else.
const BAD_JSON_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/gi;

/** JSON text for a jsonb column, or null for undefined/null values and values JSON cannot express. */
export function toJsonb(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    return null;
  }
  if (json === undefined) return null;
  return json.includes('\\u') ? json.replace(BAD_JSON_ESCAPE, '$1\\ufffd') : json;
}

/** Text for a text column: U+0000 replaced by U+FFFD. */
export function toText(value: string | null): string | null {
  return value !== null && value.includes('\0') ? value.replaceAll('\0', '\ufffd') : value;
}
