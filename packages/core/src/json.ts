// JSON helpers every stage shares: how deep stored JSON goes, how a parse error is told, and a value in
// the form it is stored in.

/** Nesting kept in stored JSON: more than any real payload has, few enough for every recursive walk. */
export const MAX_JSON_DEPTH = 200;

/**
 * Why a text is not JSON, without quoting it (JSON.parse's own message repeats a piece of the payload,
 * which would slip past redaction rules written for the body).
 */
export function jsonProblem(err: unknown): string {
  const message = (err as Error)?.message ?? '';
  const position = /position (\d+)/.exec(message);
  if (position) return `not valid JSON (at character ${position[1]})`;
  return /end of (JSON )?input|Unterminated/i.test(message) ? 'not valid JSON (it ends too early)' : 'not valid JSON';
}

/**
 * A value as it will be stored (annotations, a mapper's fields): values with a `toJSON` (a URL, a Date, a class) are stored as
 * what it returns, so redaction must see that, not the object; a BigInt as its decimal string (exact-json.ts). Annotations that cannot be serialised are
 * left for `toJsonb`, which stores none.
 */
export function storedForm<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  try {
    const json = JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v));
    return json === undefined ? value : (JSON.parse(json) as T);
  } catch {
    return value;
  }
}
