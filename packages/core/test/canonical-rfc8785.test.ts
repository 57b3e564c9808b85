// The canonical JSON against RFC 8785 itself: the RFC's own examples, and an independent implementation
// (Erdtman's `canonicalize`, the RFC's reference JavaScript) over many random JSON values.
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { canonicalJson } from '../src/chain/canonical';

/** A double from its IEEE 754 bits, as RFC 8785 Appendix B lists them. */
const fromBits = (hex: string) => Buffer.from(hex, 'hex').readDoubleBE(0);

test('RFC 8785 Appendix B: every finite number sample prints as the RFC says', () => {
  const samples: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  for (const [bits, expected] of samples) {
    expect(canonicalJson(fromBits(bits))).toBe(expected);
    expect(canonicalJson([fromBits(bits)])).toBe(`[${expected}]`);
    expect(canonicalJson([fromBits(bits), 'x'])).toBe(`[${expected},"x"]`);
  }
});

test('RFC 8785 §3.2.2 and §3.2.3: the example object, and property names sorted by UTF-16 code units', () => {
  const example = JSON.parse(
    '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
  );
  expect(canonicalJson(example)).toBe(
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
  );
  const sorting = {
    '\u20ac': 'Euro Sign',
    '\r': 'Carriage Return',
    '\ufb33': 'Hebrew Letter Dalet With Dagesh',
    '1': 'One',
    '\ud83d\ude00': 'Emoji: Grinning Face',
    '\u0080': 'Control',
    '\u00f6': 'Latin Small Letter O With Diaeresis',
  };
  expect(canonicalJson(sorting)).toBe(
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  );
});

/** Characters that test ordering and escaping: ASCII, controls, quotes, BMP above U+0080, and surrogate pairs (astral). U+0000 and lone surrogates are left out: storing changes those (to U+FFFD), by design. */
const char = fc.constantFrom(
  'a',
  'B',
  '1',
  ' ',
  '\r',
  '\n',
  '\u001f',
  '"',
  '\\',
  '/',
  '\u0080',
  'ö',
  '€',
  '\ufb33',
  '\uffff',
  '\ud83d\ude00',
  '\ud800\udc00',
  '\udbff\udfff',
);
const text = fc.string({ unit: char, maxLength: 6 });
const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(1e21, 1e-7, 1e-6, 9.999999999999999e20, -0, 5e-324, 1.7976931348623157e308, 2 ** 53, 2 ** 53 + 2, 0.1, 1 / 3),
);
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, number, text, fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(text, tie('value'), { maxKeys: 6 }),
})).value;

test('agrees with the RFC 8785 reference implementation (canonicalize) on random JSON values', () => {
  fc.assert(
    fc.property(json, (value) => {
      expect(canonicalJson(value)).toBe(canonicalize(value));
    }),
    { numRuns: 5000 },
  );
});
