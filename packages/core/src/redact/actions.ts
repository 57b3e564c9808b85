import { createHmac } from 'node:crypto';
import { normalFormOf } from './detectors';
import { REMOVE } from './update';

/** What a rule does to what it selects or detects. */
export type RedactAction = 'remove' | 'mask' | 'hash' | 'truncate';
export const REDACT_ACTIONS: readonly RedactAction[] = ['remove', 'mask', 'hash', 'truncate'];

/** An action ready to apply: to a whole selected value, or to a detected piece of text. */
export interface CompiledAction {
  /** The replacement of a selected value, or REMOVE. */
  value(value: unknown): unknown;
  /** The replacement of a detected piece of text (`normal` is its normal form, hashed for stable pseudonyms). */
  text(found: string, normal: string): string;
  /** For `truncate`: the characters (or elements) kept. */
  readonly keep?: number;
}

/** Hex digits of the HMAC kept in a pseudonym: 128 bits, so distinct values never share one in practice. */
const PSEUDONYM_HEX = 32;

/**
 * The key an HMAC use derives from `hmacKey`: pseudonyms and body digests each get their own, so one
 * never reveals the other (a body that is one string would otherwise have its pseudonym as digest prefix).
 */
export function derivedKey(key: Buffer | string, use: 'pseudonym' | 'body-digest'): Buffer {
  return createHmac('sha256', key).update(`inferlog:${use}`).digest();
}

const pseudonymKeys = new WeakMap<Buffer, Buffer>();
const pseudonymKeysByText = new Map<string, Buffer>();

/**
 * The keyed pseudonym of a value, as the `hash` action stores it: `hmac:` + the first 128 bits of
 * HMAC-SHA-256 (with a key derived from `hmacKey`) of the value's normal form, in hex. Values that are,
 * as a whole, personal data a detector knows are hashed in their normal form (BSN and card digits only,
 * IBAN upper case without spaces, email lower case, phone `+<country><number>`), so `1234.56.782` and
 * `123456782` give one pseudonym; other values as they are. The same value and key always give the same
 * pseudonym, so a known value can be looked up in the log.
 */
export function pseudonym(key: Buffer | string, value: string): string {
  let derived = typeof key === 'string' ? pseudonymKeysByText.get(key) : pseudonymKeys.get(key);
  if (!derived) {
    derived = derivedKey(key, 'pseudonym');
    if (typeof key === 'string') pseudonymKeysByText.set(key, derived);
    else pseudonymKeys.set(key, derived);
  }
  return pseudonymOfNormal(derived, normalFormOf(value) ?? value);
}

function pseudonymOfNormal(derived: Buffer, normal: string): string {
  return `hmac:${createHmac('sha256', derived).update(normal).digest('hex').slice(0, PSEUDONYM_HEX)}`;
}

/**
 * Applies `leaf` to every scalar inside `value` and `key` to every object key (lists and objects keep
 * their shape; keys can be personal data too, e.g. a map keyed by email). Null stays null.
 */
function mapAll(
  value: unknown,
  leaf: (scalar: string | number | boolean) => unknown,
  key: (name: string, index: number) => string,
): unknown {
  if (value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map((v) => mapAll(v, leaf, key));
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v], i) => [key(k, i), mapAll(v, leaf, key)]));
  return leaf(value as string | number | boolean);
}

/** Keeps the first `keep` characters of a string or number (as text), elements of a list, or members of an object. */
function truncate(value: unknown, keep: number): unknown {
  if (typeof value === 'string') return value.slice(0, keep);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value).slice(0, keep);
  if (Array.isArray(value)) return value.slice(0, keep);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).slice(0, keep));
  return value;
}

export function compileAction(action: RedactAction, options: { censor: string; keep: number; key: Buffer | null }): CompiledAction {
  switch (action) {
    case 'remove':
      return { value: () => REMOVE, text: () => '' };
    case 'mask': {
      // Masked keys stay distinct, so masking never merges two members into one.
      const maskKey = (_name: string, i: number) => (i === 0 ? options.censor : `${options.censor}#${i + 1}`);
      return { value: (v) => mapAll(v, () => options.censor, maskKey), text: () => options.censor };
    }
    case 'hash': {
      const derived = derivedKey(options.key!, 'pseudonym');
      const hash = (s: string | number | boolean) => pseudonymOfNormal(derived, normalFormOf(String(s)) ?? String(s));
      return { value: (v) => mapAll(v, hash, (name) => hash(name)), text: (_found, normal) => pseudonymOfNormal(derived, normal) };
    }
    case 'truncate':
      return { value: (v) => truncate(v, options.keep), text: (found) => found.slice(0, options.keep), keep: options.keep };
  }
}
