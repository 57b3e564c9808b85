// The stored form of bytes (issue 19, item 5): injective, and the documented decoding gives back the
// bytes, on the binary path (attachBinaryData), the JSON path (strings) and across the two.
import fc from 'fast-check';
import { attachBinaryData } from '../src/protocols/oip-v2/binary';
import { Redactor } from '../src/redact/redactor';
import { compileRule } from '../src/redact/rules';
import { bytesOfStored, bytesOfString, storedBytes, storedString } from '../src/stored-bytes';

/** The decoding docs/protocols.md gives readers, written again here. */
const decode = (stored: string): Buffer =>
  stored.startsWith('base64:') ? Buffer.from(stored.slice('base64:'.length), 'base64') : Buffer.from(stored, 'utf8');

/** Byte strings biased towards what is hard: text, control characters, DEL, C1, `base64:` prefixes, invalid UTF-8. */
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)),
  fc.string({ unit: 'grapheme', maxLength: 8 }).map((s) => Buffer.from(s, 'utf8')),
  fc
    .tuple(
      fc.constantFrom('base64:', 'base64', 'BASE64:', ''),
      fc.string({ maxLength: 8 }),
      fc.constantFrom('', '\u007f', '\u0085', '\u0000', '\t'),
    )
    .map(([a, b, c]) => Buffer.from(a + b + c, 'utf8')),
);

/** BYTES binary data: each element its 4-byte little-endian length, then its bytes. */
const framed = (elements: Buffer[]) => Buffer.concat(elements.flatMap((e) => [Buffer.from(Uint32Array.of(e.length).buffer), e]));

test('distinct byte strings are stored distinctly, and the documented decoding gives the bytes back', () => {
  fc.assert(
    fc.property(bytes, bytes, (a, b) => {
      expect(decode(storedBytes(a))).toEqual(a);
      expect(bytesOfStored(storedBytes(a))).toEqual(a);
      if (!a.equals(b)) expect(storedBytes(a)).not.toBe(storedBytes(b));
    }),
    { numRuns: 5000 },
  );
});

test('the binary tensor path stores BYTES elements that way', () => {
  fc.assert(
    fc.property(fc.array(bytes, { maxLength: 20 }), (elements) => {
      const tensor = { name: 'x', datatype: 'BYTES', shape: [elements.length], parameters: { binary_data_size: framed(elements).length } };
      const { tensors, errors } = attachBinaryData([tensor], framed(elements), 'request', 'inputs', false, 1 << 20);
      expect(errors).toEqual([]);
      const data = (tensors[0] as { data: string[] }).data;
      expect(data.map(decode)).toEqual(elements);
      const distinct = new Set(elements.map((e) => e.toString('hex'))).size;
      expect(new Set(data).size).toBe(distinct);
    }),
    { numRuns: 500 },
  );
});

test('a JSON string and the same bytes sent binary are stored alike; distinct strings (lone surrogates too) distinctly', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }), (a, b) => {
      expect(decode(storedString(a))).toEqual(bytesOfString(a));
      if ((a as string & { isWellFormed(): boolean }).isWellFormed()) {
        expect(storedString(a)).toBe(storedBytes(Buffer.from(a, 'utf8')));
        expect(bytesOfString(a)).toEqual(Buffer.from(a, 'utf8'));
      }
      if (a !== b) expect(storedString(a)).not.toBe(storedString(b));
    }),
    { numRuns: 5000 },
  );
});

test('text is stored as it is only when plain: control characters (C0, DEL, C1), U+0000 and a base64: prefix make it bytes', () => {
  expect(['plain', 'tab\tnl\ncr\r', 'ünï模😀', ''].map(storedString)).toEqual(['plain', 'tab\tnl\ncr\r', 'ünï模😀', '']);
  for (const text of ['del\u007f', 'c1\u0080', 'c1\u009f', 'nul\u0000', 'bell\u0007', 'base64:aGk=', 'base64:'])
    expect(storedString(text)).toBe(`base64:${Buffer.from(text).toString('base64')}`);
  expect(storedString('\u00a0no-break space is text')).toBe('\u00a0no-break space is text');
});

test('detectors read text stored as bytes because of a control character, and what they change stays bytes', () => {
  const redactor = new Redactor([compileRule('redact[0]', { detect: 'email', action: 'mask' }, null)]);
  const element = storedString('mail jan@example.nl\u0007');
  const { parts, fired } = redactor.apply({ inputs: [{ name: 'x', datatype: 'BYTES', shape: [1], data: [element] }] });
  const stored = (parts.inputs as { data: string[] }[])[0]!.data[0]!;
  expect(stored).toMatch(/^base64:/);
  expect(decode(stored).toString('utf8')).not.toContain('jan@example.nl');
  expect(fired).toEqual(['email']);
});
