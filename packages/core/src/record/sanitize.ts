// PostgreSQL rejects U+0000 in text and jsonb, and lone UTF-16 surrogates in jsonb. Both can arrive in
// valid JSON (as \u0000 and \ud800 escapes); they are stored as U+FFFD so the record is never refused.
// JSON.stringify escapes lone surrogates and U+0000, and keeps valid pairs as characters, so any such
// escape preceded by an even number of backslashes is one of these and nothing else.
const BAD_JSON_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/gi;

/** Nesting kept in stored JSON: more than any real payload has, few enough for every recursive walk. */
export const MAX_JSON_DEPTH = 200;
const TOO_DEEP = `[nested deeper than ${MAX_JSON_DEPTH} levels: not stored]`;

/** Whether `value` nests deeper than `room` more levels; a plain loop, allocation-free (it runs on every record). */
function deeperThan(value: unknown, room: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (room === 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (deeperThan(value[i], room - 1)) return true;
    return false;
  }
  for (const key in value) if (Object.hasOwn(value, key) && deeperThan((value as Record<string, unknown>)[key], room - 1)) return true;
  return false;
}

function cut(value: unknown, room: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (room === 0) return TOO_DEEP;
  if (Array.isArray(value)) return value.map((child) => cut(child, room - 1));
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) Object.defineProperty(out, key, { value: cut(child, room - 1), writable: true, enumerable: true, configurable: true });
  return out;
}

/**
 * `value` with what nests deeper than MAX_JSON_DEPTH replaced by a note; the same reference when nothing
 * does (the common case costs one walk and no copy). JSON.parse takes any depth; JSON.stringify and other
 * recursive walks overflow the stack on it.
 */
export function limitDepth(value: unknown): unknown {
  return deeperThan(value, MAX_JSON_DEPTH) ? cut(value, MAX_JSON_DEPTH) : value;
}

/** The values, each cut to MAX_JSON_DEPTH in place (the object is the caller's own); `cut` names those that were. */
export function limitEachDepth<T extends Record<string, unknown>>(values: T): { values: T; cut: string[] } {
  const names: string[] = [];
  for (const key of Object.keys(values)) {
    const limited = limitDepth(values[key]);
    if (limited === values[key]) continue;
    (values as Record<string, unknown>)[key] = limited;
    names.push(key);
  }
  return { values, cut: names };
}

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
