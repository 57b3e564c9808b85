import zlib from 'node:zlib';
import { decodeBody, decodeParsedBody } from '../src/decode/body';
import { toJsonb, toText } from '../src/record/sanitize';

const json = { a: [1, 2, 3], s: 'héllo' };
const text = JSON.stringify(json);
const cap = 1024 * 1024;

describe('decodeBody', () => {
  test.each([
    ['gzip', zlib.gzipSync(text)],
    ['deflate', zlib.deflateSync(text)],
    ['deflate', zlib.deflateRawSync(text)],
    ['br', zlib.brotliCompressSync(text)],
  ])('decodes %s and parses JSON', (encoding, data) => {
    const body = decodeBody(data, { 'content-encoding': encoding, 'content-type': 'application/json' }, false, cap);
    expect(body).toEqual({ text, json, parseError: null, truncated: false, bytes: Buffer.from(text), binary: null });
  });

  test('a cut gzip stream decodes to what arrived, marked truncated and not parsed', () => {
    const data = zlib.gzipSync('x'.repeat(100_000) + text);
    const body = decodeBody(data.subarray(0, data.length - 20), { 'content-encoding': 'gzip' }, true, cap);
    expect(body.truncated).toBe(true);
    expect(body.json).toBeUndefined();
    expect(body.text!.startsWith('xxxx')).toBe(true);
  });

  test('decoded text is capped; a decompression bomb does not blow up', () => {
    const bomb = zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024));
    const body = decodeBody(bomb, { 'content-encoding': 'gzip' }, false, 1000);
    expect(body).toMatchObject({ truncated: true, text: null, parseError: expect.stringMatching(/exceeds 8000 bytes/) });
  });

  test('charsets, binary and invalid JSON', () => {
    expect(decodeBody(Buffer.from('caf\xe9', 'latin1'), { 'content-type': 'text/plain; charset=ISO-8859-1' }, false, cap).text).toBe(
      'café',
    );
    expect(decodeBody(Buffer.from([0xff, 0xfe, 0x00]), {}, false, cap).text).toBe(
      'base64:__4A'.replace('__4A', Buffer.from([0xff, 0xfe, 0]).toString('base64')),
    );
    const bad = decodeBody(Buffer.from('{"a":'), { 'content-type': 'application/json' }, false, cap);
    expect(bad.json).toBeUndefined();
    expect(bad.parseError).toMatch(/not valid JSON/);
    expect(decodeBody(Buffer.from('plain words'), {}, false, cap)).toMatchObject({ text: 'plain words', parseError: null });
    expect(decodeBody(Buffer.from('oops'), { 'content-encoding': 'gzip' }, false, cap).parseError).toMatch(/cannot decode gzip/);
  });

  test('bodies a parser already consumed', () => {
    expect(decodeParsedBody({ x: 1 }, {}, cap)).toMatchObject({ json: { x: 1 }, text: '{"x":1}' });
    expect(decodeParsedBody(Buffer.from('{"y":2}'), {}, cap).json).toEqual({ y: 2 });
    expect(decodeParsedBody('abcdef', {}, 3)).toMatchObject({ text: 'abc', truncated: true });
  });
});

describe('sanitize for PostgreSQL', () => {
  test('U+0000 and lone surrogates become U+FFFD; escaped backslashes are left alone', () => {
    expect(JSON.parse(toJsonb({ a: 'x\u0000y', b: '\ud800', c: '😀', d: '\\u0000 literal' })!)).toEqual({
      a: 'x\ufffdy',
      b: '\ufffd',
      c: '😀',
      d: '\\u0000 literal',
    });
    expect(toJsonb({ 'k\u0000': 1 })).toBe('{"k\\ufffd":1}');
    expect(toJsonb(undefined)).toBeNull();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(toJsonb(circular)).toBeNull();
    expect(toText('a\0b')).toBe('a\ufffdb');
  });
});
