import { isUtf8 } from 'node:buffer';
import { parseJsonExact } from '../exact-json';
import { jsonProblem } from '../json';
import { base64Form } from '../stored-bytes';
import { bytesInCharset, textInCharset } from './charset';
import { brotliDecompressSync, constants, gunzipSync, inflateRawSync, inflateSync, type ZlibOptions } from 'node:zlib';

/** A body as the flush path sees it: decoded text when it is text, parsed JSON when it parses. */
export interface DecodedBody {
  /** The body as text (charset applied); binary bodies as `base64:` + base64; null when empty. */
  text: string | null;
  /** Parsed JSON, undefined when the body is not (complete) JSON. */
  json: unknown;
  /** Why the body is not JSON, when it looked like it should be. */
  parseError: string | null;
  /** True when the stored text does not hold the whole body (size cap or decoding limit). */
  truncated: boolean;
  /** The body's bytes after content-decoding (at most the cap); null when only a parser's value was seen. */
  bytes: Buffer | null;
  /**
   * The binary part of a body framed by the OIP binary tensor data extension
   * (`Inference-Header-Content-Length`): the bytes after the JSON header, which `text` and `json` hold.
   * Null for every other body.
   */
  binary: Buffer | null;
}

const EMPTY: DecodedBody = { text: null, json: undefined, parseError: null, truncated: false, bytes: null, binary: null };

/** Bodies whose `text` is `base64:` + the base64 of bytes that are not text (rather than a text that starts so). */
const BYTES_AS_TEXT = new WeakSet<DecodedBody>();

/** Whether a body's `text` stands for bytes that are not text (`base64:` + base64), not for a text that happens to start with `base64:`. */
export function textIsBytes(body: DecodedBody): boolean {
  return BYTES_AS_TEXT.has(body);
}

function bytesBody(body: DecodedBody): DecodedBody {
  BYTES_AS_TEXT.add(body);
  return body;
}
const INFERENCE_HEADER_LENGTH = 'inference-header-content-length';
const DECODE_EXPANSION = 8;

function header(headers: Record<string, unknown>, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? String(value[0] ?? '') : value === undefined ? '' : String(value);
}

function decompress(data: Buffer, encoding: string, limit: number): Buffer {
  // SYNC_FLUSH returns what a cut-off stream decodes to instead of failing on the missing end.
  const options: ZlibOptions = { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: limit };
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(data, options);
    case 'deflate':
      try {
        return inflateSync(data, options);
      } catch {
        return inflateRawSync(data, options);
      }
    case 'br':
      return brotliDecompressSync(data, {
        finishFlush: constants.BROTLI_OPERATION_FLUSH,
        maxOutputLength: limit,
      });
    default:
      return data;
  }
}

function charsetOf(contentType: string): string | null {
  const found = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType);
  return found ? found[1]!.toLowerCase() : null;
}

/** A body cut inside a multi-byte UTF-8 character, without that character's first bytes (so the rest stays text). */
function withoutPartialCharacter(data: Buffer): Buffer {
  for (let back = 1; back <= Math.min(3, data.length); back++) {
    const byte = data[data.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back for the lead byte
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? data.subarray(0, data.length - back) : data;
  }
  return data;
}

/** The bytes as text: in their declared charset when they read cleanly in it (charset.ts), else UTF-8; null when they are not text. */
function toText(data: Buffer, charset: string | null, cut = false): string | null {
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    const text = textInCharset(data, charset, cut);
    if (text === null) return null;
    if (text !== undefined) return text;
    // unknown charset: UTF-8 or bytes
  }
  return isUtf8(data) ? data.toString('utf8') : null;
}

function looksLikeJson(contentType: string, text: string): boolean {
  if (/[/+]json\b/i.test(contentType)) return true;
  const first = text.trimStart()[0];
  return first === '{' || first === '[';
}

/** Length of the JSON header of an OIP binary-data body, or -1 when the body is not framed that way. */
function jsonHeaderLength(headers: Record<string, unknown>, size: number): number {
  const value = header(headers, INFERENCE_HEADER_LENGTH).trim();
  if (!/^\d{1,15}$/.test(value)) return -1;
  return Math.min(Number(value), size);
}

/** The content-coding a `Content-Encoding` value names, lower-case; `identity` when there is none. */
export function contentCoding(value: unknown): string {
  const coding = (Array.isArray(value) ? String(value[0] ?? '') : value === undefined || value === null ? '' : String(value))
    .trim()
    .toLowerCase();
  return coding === '' ? 'identity' : coding;
}

/**
 * Decodes captured bytes: content-encoding (gzip, deflate, br) first, then the framing of the OIP binary
 * tensor extension, then the charset, then JSON. `cut` says the bytes are only the first part of the
 * body; `cap` bounds the decoded text. `coding` is the content-coding the bytes are in, when it is not
 * the one their `Content-Encoding` header names (an encoder beneath the capture added that header).
 */
export function decodeBody(
  data: Buffer,
  headers: Record<string, unknown>,
  cut: boolean,
  cap: number,
  coding = contentCoding(headers['content-encoding']),
): DecodedBody {
  if (data.byteLength === 0) return cut ? { ...EMPTY, truncated: true } : EMPTY;
  const contentType = header(headers, 'content-type');
  const encoding = coding;
  let truncated = cut;
  let plain = data;
  if (encoding !== 'identity') {
    try {
      plain = decompress(data, encoding, Math.max(cap, 1) * DECODE_EXPANSION);
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        // A decompression bomb, or a body far beyond the cap: size and digest of the wire bytes remain.
        return {
          ...EMPTY,
          parseError: `decoded ${encoding} body exceeds ${Math.max(cap, 1) * DECODE_EXPANSION} bytes; not stored`,
          truncated: true,
        };
      }
      const kept = data.subarray(0, Math.floor(cap * 0.75));
      return bytesBody({
        ...EMPTY,
        text: base64Form(kept),
        parseError: `cannot decode ${encoding}: ${(err as Error).message}`,
        truncated: truncated || kept.length < data.length,
      });
    }
    if (plain.byteLength > cap) {
      plain = plain.subarray(0, cap);
      truncated = true;
    }
  }
  const headerLength = jsonHeaderLength(headers, plain.byteLength);
  if (headerLength >= 0) {
    // Binary tensor extension: a JSON header, then raw tensor bytes. The header is the part to parse,
    // and it is whole unless the cap cut into it.
    // A header length of 0 is a raw binary request (one input, no JSON): kept as base64.
    const header = headerLength === 0 ? null : toText(plain.subarray(0, headerLength), 'utf-8');
    const binary = plain.subarray(headerLength);
    if (header === null) {
      const text = base64Form(headerLength === 0 ? plain : plain.subarray(0, headerLength));
      return bytesBody({ text, json: undefined, parseError: null, truncated, bytes: plain, binary });
    }
    const headerCut = truncated && headerLength === plain.byteLength;
    return { text: header, ...parseJson(header, 'application/json', headerCut), truncated, bytes: plain, binary };
  }
  const charset = charsetOf(contentType);
  const utf8 = charset === null || charset === 'utf-8' || charset === 'utf8';
  const kept = truncated && utf8 ? withoutPartialCharacter(plain) : plain;
  const text = toText(kept, charset, truncated);
  if (text === null) return bytesBody({ text: base64Form(kept), json: undefined, parseError: null, truncated, bytes: plain, binary: null });
  return { text, ...parseJson(text, contentType, truncated), truncated, bytes: plain, binary: null };
}

/** The JSON value of a body's text, integers beyond 2^53 exact (exact-json.ts); a cut text is not parsed (its end is missing). */
function parseJson(text: string, contentType: string, cut: boolean): { json: unknown; parseError: string | null } {
  if (cut || !looksLikeJson(contentType, text)) return { json: undefined, parseError: null };
  try {
    return { json: parseJsonExact(text), parseError: null };
  } catch (err) {
    return { json: undefined, parseError: jsonProblem(err) };
  }
}

/** A body that a parser had already turned into a value before inferlog saw the stream. */
export function decodeParsedBody(value: unknown, headers: Record<string, unknown>, cap: number): DecodedBody {
  if (value === undefined || value === null) return EMPTY;
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    // A string was decoded by the parser: checked by the bytes it came from where Node can make them
    // again, else taken as the text it is (UTF-8), not decoded a second time in the declared charset.
    const contentType = header(headers, 'content-type');
    const charset = charsetOf(contentType);
    const original = typeof value === 'string' && charset ? bytesInCharset(value, charset) : null;
    const data = typeof value === 'string' ? (original ?? Buffer.from(value)) : value;
    const asText =
      typeof value === 'string' && original === null ? contentType.replace(/;\s*charset\s*=\s*"?[^";\s]+"?/i, '') : contentType;
    // The parser already undid any content-encoding; the framing headers still apply.
    const plainHeaders = { 'content-type': asText, [INFERENCE_HEADER_LENGTH]: headers[INFERENCE_HEADER_LENGTH] };
    return decodeBody(data.subarray(0, cap), plainHeaders, data.byteLength > cap, cap);
  }
  let text: string | null = null;
  try {
    text = JSON.stringify(value) ?? null;
  } catch {
    text = null;
  }
  return { text, json: value, parseError: null, truncated: false, bytes: null, binary: null };
}
