import { isUtf8 } from 'node:buffer';

const PRINTABLE_OR_NOT = /[^\x20-\x7e]/g;
// C0 controls other than tab, line feed and carriage return: no text has them; UTF-16 of Latin text is full of NULs.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what it is for
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

/** The printable ASCII of a text, in order. */
const printableAscii = (text: string) => text.replace(PRINTABLE_OR_NOT, '');

/**
 * Whether the printable ASCII of the bytes is that of the text, in order. A cut body's last bytes (at most
 * four: the start of a character) may not have been read yet.
 */
function asciiComesThrough(data: Buffer, text: string, cut: boolean): boolean {
  const bytes = printableAscii(data.toString('latin1'));
  const read = printableAscii(text);
  if (!cut) return read === bytes;
  return bytes.startsWith(read) && read.length >= printableAscii(data.subarray(0, Math.max(0, data.length - 4)).toString('latin1')).length;
}

/**
 * A body's text in its declared charset (not UTF-8), or null when its bytes do not read cleanly in it:
 * the decoder finds a sequence the charset does not have; the printable ASCII of the bytes does not come
 * through as itself, in order (ASCII bytes read as UTF-16, or swallowed by a multi-byte charset, become
 * other characters); or the bytes are also plain UTF-8 text that reads differently (a UTF-8 body labelled
 * Latin-1, whose full-width digits would hide as `ï¼‘`). Such a text hides from detectors what it says,
 * and gives it back when encoded again. Undefined when no decoder knows the charset. A body `cut` short
 * may end inside a character: what arrived whole is read.
 */
export function textInCharset(data: Buffer, charset: string, cut: boolean): string | null | undefined {
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(charset, { fatal: true });
  } catch {
    return undefined;
  }
  let text: string;
  try {
    text = decoder.decode(data, { stream: cut });
  } catch {
    return null;
  }
  if (!asciiComesThrough(data, text, cut)) return null;
  if (isUtf8(data)) {
    const utf8 = data.toString('utf8');
    if (utf8 !== text && !CONTROL.test(utf8)) return null;
  }
  return text;
}

/**
 * The bytes a string was decoded from, for a charset Node can encode (UTF-16, Latin-1, ASCII); null for
 * other charsets or characters the charset has no byte for. A body parser hands over a string, which is
 * checked by the bytes it came from.
 */
export function bytesInCharset(text: string, charset: string): Buffer | null {
  switch (charset) {
    case 'utf-16':
    case 'utf-16le':
    case 'ucs-2':
      return Buffer.from(text, 'utf16le');
    case 'utf-16be':
      return Buffer.from(text, 'utf16le').swap16();
    case 'iso-8859-1':
    case 'latin1':
    case 'us-ascii':
    case 'ascii':
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is every Latin-1 character
      return /^[\u0000-\u00ff]*$/.test(text) ? Buffer.from(text, 'latin1') : null;
    default:
      return null;
  }
}
