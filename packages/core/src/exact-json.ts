// JSON integers beyond 2^53 without losing a digit. JSON.parse reads every number as a double, which
// rounds 9007199254740993 to 9007199254740992; the payloads inferlog parses are parsed here instead:
// JSON.parse, and only when what it read has a number of magnitude 2^53 or more (which an integer
// literal past 2^53 − 1 always becomes) the text again with lossless-json, which gives such integers as
// BigInt. A record stores them as decimal strings (`bigIntsAsText`), as the binary tensor path does and
// as the chain's canonical form writes a BigInt.
import { parse, stringify } from 'lossless-json';

/** 2^53: every double of this magnitude or more is a whole number, and may stand for a longer integer literal. */
const TWO_53 = 2 ** 53;

/**
 * Whether a parsed JSON value has a number of magnitude 2^53 or more. A loop with its own stack, not
 * recursion: JSON.parse reads any depth.
 */
function hasHugeNumber(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'number') {
      if (value >= TWO_53 || value <= -TWO_53) return true;
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const child = value[i];
        if (typeof child === 'number') {
          if (child >= TWO_53 || child <= -TWO_53) return true;
        } else if (typeof child === 'object' && child !== null) stack.push(child);
      }
    } else if (typeof value === 'object' && value !== null) {
      for (const key in value) stack.push((value as Record<string, unknown>)[key]);
    }
  }
  return false;
}

const INTEGER_LITERAL = /^-?\d+$/;

/** A number literal: a BigInt when it is an integer beyond ±(2^53 − 1), else the (nearest) double, as JSON.parse gives it. */
function numberOf(literal: string): number | bigint {
  const n = Number(literal);
  return !Number.isSafeInteger(n) && Number.isFinite(n) && INTEGER_LITERAL.test(literal) ? BigInt(literal) : n;
}

const lastWins = ({ newValue }: { newValue: unknown }) => newValue;

/** Exact parses so far that could hold BigInts (see `exactParses`). */
let exactParseCount = 0;
/** Values the exact parser made (they may hold BigInts). */
const EXACT_VALUES = new WeakSet<object>();

/** Whether a parsed value may hold BigInts: one itself, or made by the exact path of `parseJsonExact`. */
export function parsedExactly(value: unknown): boolean {
  return typeof value === 'bigint' || (typeof value === 'object' && value !== null && EXACT_VALUES.has(value));
}

/**
 * How many parses so far took the exact path (their values may hold BigInts). A caller that parses
 * synchronously compares it before and after, and converts BigInts only when it moved.
 */
export function exactParses(): number {
  return exactParseCount;
}

/**
 * JSON.parse that keeps integers beyond ±(2^53 − 1) exact, as BigInt; every other value as JSON.parse
 * gives it (a duplicate key's last value wins; a number with a fraction or exponent is the nearest
 * double). Throws JSON.parse's error for text that is not JSON.
 */
export function parseJsonExact(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (!hasHugeNumber(value)) return value;
  try {
    const exact = parse(text, null, { parseNumber: numberOf, onDuplicateKey: lastWins });
    exactParseCount++;
    if (typeof exact === 'object' && exact !== null) EXACT_VALUES.add(exact);
    return exact;
  } catch {
    // Nested past the exact parser's stack: JSON.parse's reading, with doubles, stands.
    return value;
  }
}

/** JSON.stringify that writes a BigInt as its digits (a JSON number), for JSON text stored as text. */
export function stringifyExact(value: unknown): string {
  return hasBigInt(value) ? (stringify(value) ?? 'null') : JSON.stringify(value);
}

/** Whether a JSON value holds a BigInt anywhere (followed at most MAX_DEPTH levels). */
function hasBigInt(value: unknown, depth = 0): boolean {
  if (typeof value === 'bigint') return true;
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return false;
  for (const child of Array.isArray(value) ? value : Object.values(value)) if (hasBigInt(child, depth + 1)) return true;
  return false;
}

/** Deeper than the stored JSON goes (record/sanitize.ts cuts it at 200 levels). */
const MAX_DEPTH = 256;

/**
 * `value` with every BigInt as its decimal string (the stored form of an integer a double cannot hold),
 * copy-on-write: the same reference when there is none (the value may be the app's own object).
 */
export function bigIntsAsText(value: unknown, depth = 0): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const next = bigIntsAsText(value[i], depth + 1);
      if (next === value[i]) continue;
      out ??= value.slice();
      out[i] = next;
    }
    return out ?? value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  let out: Record<string, unknown> | null = null;
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    const next = bigIntsAsText(child, depth + 1);
    if (next === child) continue;
    out ??= copyOf(value as Record<string, unknown>);
    Object.defineProperty(out, key, { value: next, writable: true, enumerable: true, configurable: true });
  }
  return out ?? value;
}

/** A shallow copy that keeps a `__proto__` key as a key. */
function copyOf(object: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(object))
    Object.defineProperty(copy, key, { value: object[key], writable: true, enumerable: true, configurable: true });
  return copy;
}

/** A JSON.stringify replacer that writes a BigInt as its decimal string (as `bigIntsAsText` stores it). */
export function bigIntAsText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
