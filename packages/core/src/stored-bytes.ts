// The stored form of bytes (BYTES tensor elements, raw bodies): one string per byte string, so that two
// different byte strings are never stored alike and a reader can always tell text from bytes:
//
//   a string that starts with `base64:` holds the standard base64 (RFC 4648, padded) of the bytes;
//   any other string is the bytes themselves, read as UTF-8.
//
// Bytes are stored as text only when they are UTF-8 without control characters (C0 other than tab, line
// feed and carriage return; DEL; the C1 controls U+0080–U+009F) and do not start with `base64:`;
// everything else in base64. docs/protocols.md says the same to readers.
import { isUtf8 } from 'node:buffer';

/** What marks a stored string as base64 of bytes. */
export const BASE64_PREFIX = 'base64:';

/** Characters that keep a text from being stored as it is: control characters and (possibly lone) surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these control characters are what is looked for
const NOT_PLAIN = /[\0-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: these control characters are what is looked for
const CONTROL = /[\0-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/;

/** Whether a string may be stored as it is: no control characters, no lone surrogates, not starting with `base64:`. */
export function isPlainText(text: string): boolean {
  if (text.startsWith(BASE64_PREFIX)) return false;
  if (!NOT_PLAIN.test(text)) return true;
  return !CONTROL.test(text) && (text as string & { isWellFormed(): boolean }).isWellFormed();
}

/** `base64:` and the base64 of the bytes. */
export function base64Form(bytes: Buffer): string {
  return `${BASE64_PREFIX}${bytes.toString('base64')}`;
}

/** The stored form of bytes: their UTF-8 text when that is plain text, else `base64:` + base64. */
export function storedBytes(bytes: Buffer): string {
  if (isUtf8(bytes)) {
    const text = bytes.toString('utf8');
    if (isPlainText(text)) return text;
  }
  return base64Form(bytes);
}

/**
 * The bytes a JSON string stands for: its UTF-8, and for a lone surrogate (which UTF-8 cannot encode)
 * the three bytes WTF-8 gives it, so that no two strings have the same bytes.
 */
export function bytesOfString(text: string): Buffer {
  if ((text as string & { isWellFormed(): boolean }).isWellFormed()) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) parts.push(Buffer.from([0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]));
    else parts.push(Buffer.from(char, 'utf8'));
  }
  return Buffer.concat(parts);
}

/** The stored form of a text element (a JSON string given as BYTES): itself when plain, else `base64:` + base64 of its bytes. */
export function storedString(text: string): string {
  return isPlainText(text) ? text : base64Form(bytesOfString(text));
}

/** The bytes a stored string stands for (the decoding docs/protocols.md gives readers). */
export function bytesOfStored(stored: string): Buffer {
  return stored.startsWith(BASE64_PREFIX) ? Buffer.from(stored.slice(BASE64_PREFIX.length), 'base64') : Buffer.from(stored, 'utf8');
}

/**
 * BYTES tensor data with every string element in its stored form (nested lists followed); other values
 * as they are. Copy-on-write: the same list when nothing changes (the data may be the app's own object).
 */
export function storedBytesData(data: unknown[], depth = 0): unknown[] {
  let out: unknown[] | null = null;
  for (let i = 0; i < data.length; i++) {
    const value = data[i];
    const next =
      typeof value === 'string' ? storedString(value) : Array.isArray(value) && depth < 64 ? storedBytesData(value, depth + 1) : value;
    if (next === value) continue;
    out ??= data.slice();
    out[i] = next;
  }
  return out ?? data;
}
