// PostgreSQL rejects U+0000 in text and jsonb, and lone UTF-16 surrogates in jsonb. Both can arrive in
// valid JSON (as \u0000 and \ud800 escapes); they are stored as U+FFFD so the record is never refused.
// JSON.stringify escapes lone surrogates and U+0000, and keeps valid pairs as characters, so any such
// escape preceded by an even number of backslashes is one of these and nothing else.
const BAD_JSON_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/gi;

import { MAX_JSON_DEPTH } from '../json';

/** Objects and arrays kept in one stored JSON value: an app's object graph with shared parts could expand without end. */
const MAX_CONTAINERS = 1_000_000;
const TOO_DEEP = `[nested deeper than ${MAX_JSON_DEPTH} levels: not stored]`;
const CIRCULAR = '[circular reference: not stored]';
const TOO_LARGE = `[more than ${MAX_CONTAINERS} objects and arrays: not stored]`;

/**
 * Whether `value` needs cutting: nests deeper than `room` more levels, refers to itself (an app's own
 * objects may: JSON.parse's never do), or holds more containers than the budget. A plain walk with no
 * copying (it runs on every record).
 */
function needsCut(value: unknown, room: number, ancestors: Set<object>, budget: { left: number }): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (room === 0 || ancestors.has(value) || --budget.left < 0) return true;
  ancestors.add(value);
  let found = false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && !found; i++) found = needsCut(value[i], room - 1, ancestors, budget);
  } else {
    for (const key in value) {
      if (Object.hasOwn(value, key) && needsCut((value as Record<string, unknown>)[key], room - 1, ancestors, budget)) {
        found = true;
        break;
      }
    }
  }
  ancestors.delete(value);
  return found;
}

function cut(value: unknown, room: number, ancestors: Set<object>, budget: { left: number }): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (room === 0) return TOO_DEEP;
  if (ancestors.has(value)) return CIRCULAR;
  if (--budget.left < 0) return TOO_LARGE;
  ancestors.add(value);
  let out: unknown;
  if (Array.isArray(value)) {
    out = value.map((child) => cut(child, room - 1, ancestors, budget));
  } else {
    const copy: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value))
      Object.defineProperty(copy, key, {
        value: cut(child, room - 1, ancestors, budget),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    out = copy;
  }
  ancestors.delete(value);
  return out;
}

/**
 * `value` with what nests deeper than MAX_JSON_DEPTH, refers back to itself, or passes MAX_CONTAINERS
 * replaced by a note; the same reference when nothing does (the common case costs one walk and no copy).
 * JSON.parse takes any depth; JSON.stringify and other recursive walks overflow the stack on it.
 */
export function limitDepth(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  let fine: boolean;
  try {
    fine = !needsCut(value, MAX_JSON_DEPTH, ANCESTORS, { left: MAX_CONTAINERS });
  } finally {
    // needsCut takes out what it puts in, unless a getter of an app's object threw on the way.
    ANCESTORS.clear();
  }
  return fine ? value : cut(value, MAX_JSON_DEPTH, new Set(), { left: MAX_CONTAINERS });
}

/** The walk's ancestors, one set for every record: a set per value was most of what building a record allocated. */
const ANCESTORS = new Set<object>();

/** The values, each cut by `limitDepth` in place (the object is the caller's own); `cut` names those that were. */
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
  return value?.includes('\0') ? value.replaceAll('\0', '\ufffd') : value;
}
