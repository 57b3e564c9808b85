// A body is text only where it reads cleanly in its declared charset. A false charset would turn what the
// body says into other characters (ASCII bytes read as UTF-16 become CJK) which detectors cannot read and
// which give the secrets back when encoded again; such a body is kept as base64, which rules treat as
// unreadable and withhold.
import { decodeBody, decodeParsedBody } from '../src/decode/body';

const cap = 1024 * 1024;
const SECRET = 'mail jan@example.nl iban NL91ABNA0417164300';
const decode = (data: Buffer, charset: string, cut = false) =>
  decodeBody(data, { 'content-type': `text/plain; charset=${charset}` }, cut, cap).text;
const base64 = (data: Buffer) => `base64:${data.toString('base64')}`;

describe('bodies that do not read cleanly in their declared charset are base64', () => {
  test.each([
    ['ASCII labelled UTF-16LE', Buffer.from(SECRET, 'latin1'), 'utf-16le'],
    ['ASCII labelled UTF-16BE', Buffer.from(`${SECRET} `, 'latin1'), 'utf-16be'],
    ['ASCII labelled UTF-16', Buffer.from(SECRET, 'latin1'), 'utf-16'],
    ['Latin-1 text labelled UTF-16LE', Buffer.from(`café ${SECRET}`, 'latin1'), 'utf-16le'],
    ['UTF-8 text labelled Latin-1 (full-width digits hide as mojibake)', Buffer.from('bsn １１１２２２３３３', 'utf8'), 'iso-8859-1'],
    ['ASCII with an escape into double-byte mode, labelled ISO-2022-JP', Buffer.from(`\x1b$B${SECRET}`, 'latin1'), 'iso-2022-jp'],
    ['bytes that are not UTF-16 (an odd length)', Buffer.from('abc', 'latin1'), 'utf-16le'],
  ])('%s', (_name, data, charset) => {
    expect(decode(data, charset)).toBe(base64(data));
  });
});

describe('bodies that do read cleanly stay text', () => {
  test.each([
    ['Latin-1', Buffer.from('café jan@example.nl', 'latin1'), 'iso-8859-1', 'café jan@example.nl'],
    [
      'windows-1252 with curly quotes',
      Buffer.from([0x93, 0x68, 0x69, 0x94]),
      'windows-1252',
      new TextDecoder('windows-1252').decode(Buffer.from([0x93, 0x68, 0x69, 0x94])),
    ],
    ['ASCII labelled Latin-1', Buffer.from('plain words', 'latin1'), 'latin1', 'plain words'],
    ['UTF-16LE text', Buffer.from('Grüße, jan@example.nl', 'utf16le'), 'utf-16le', 'Grüße, jan@example.nl'],
    ['EUC-JP text', Buffer.from([0xc6, 0xfc, 0xcb, 0xdc, 0x20, 0x61]), 'euc-jp', '日本 a'],
  ])('%s', (_name, data, charset, text) => {
    expect(decode(data, charset)).toBe(text);
  });

  test('a UTF-16 body cut at the cap inside a character keeps what arrived whole', () => {
    const data = Buffer.from('Grüße', 'utf16le');
    expect(decode(data.subarray(0, data.length - 1), 'utf-16le', true)).toBe('Grüß');
  });

  test('a charset no decoder knows leaves the bytes as UTF-8 text, or base64', () => {
    expect(decode(Buffer.from('plain'), 'x-unknown')).toBe('plain');
  });
});

test('a string a body parser decoded from a false charset is checked in that charset too', () => {
  // What express.text() makes of ASCII bytes labelled UTF-16LE: the CJK text they read as.
  const parsed = Buffer.from(SECRET, 'latin1').toString('utf16le');
  const body = decodeParsedBody(parsed, { 'content-type': 'text/plain; charset=utf-16le' }, cap);
  expect(body.text).toMatch(/^base64:/);
  const plain = decodeParsedBody('Grüße', { 'content-type': 'text/plain; charset=utf-16le' }, cap);
  expect(plain.text).toBe('Grüße');
});
