import { createHmac } from 'node:crypto';
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
}

/** Hex digits of the HMAC kept in a pseudonym: 128 bits, so distinct values never share one in practice. */
const PSEUDONYM_HEX = 32;

/**
 * The keyed pseudonym of a value, as the `hash` action stores it: `hmac:` + the first 128 bits of
 * HMAC-SHA-256(key, value), in hex. The same value and key always give the same pseudonym, so a known
 * value can be looked up in the log (detected values are hashed in their normal form: digits only for
 * BSNs and card numbers, upper case without spaces for IBANs, lower case for emails, +country digits for phones).
 */
export function pseudonym(key: Buffer | string, value: string): string {
  return `hmac:${createHmac('sha256', key).update(value).digest('hex').slice(0, PSEUDONYM_HEX)}`;
}

/** Applies `leaf` to every scalar inside `value` (objects and arrays keep their shape); null stays null. */
function mapLeaves(value: unknown, leaf: (scalar: string | number | boolean) => unknown): unknown {
  if (value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map((v) => mapLeaves(v, leaf));
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapLeaves(v, leaf)]));
  return leaf(value as string | number | boolean);
}

export function compileAction(action: RedactAction, options: { censor: string; keep: number; key: Buffer | null }): CompiledAction {
  switch (action) {
    case 'remove':
      return { value: () => REMOVE, text: () => '' };
    case 'mask':
      return { value: (v) => mapLeaves(v, () => options.censor), text: () => options.censor };
    case 'hash': {
      const key = options.key!;
      return { value: (v) => mapLeaves(v, (s) => pseudonym(key, String(s))), text: (_found, normal) => pseudonym(key, normal) };
    }
    case 'truncate':
      return {
        value: (v) => (typeof v === 'string' || Array.isArray(v) ? v.slice(0, options.keep) : v),
        text: (found) => found.slice(0, options.keep),
      };
  }
}
