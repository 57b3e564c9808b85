// Parsing JSON with integers beyond 2^53 kept exact (issue 19, item 6): the same values as JSON.parse
// everywhere else, BigInt for those integers, and their stored form as decimal strings.
import fc from 'fast-check';
import { bigIntsAsText, exactParses, parseJsonExact, stringifyExact } from '../src/exact-json';
import { checkTensorData } from '../src/protocols/oip-v2/tensor-data';
import { tensorOf } from '../src/protocols/tensor';

/** Whether a JSON text has an integer literal of 16 digits or more (which may be past 2^53 − 1). */
const longInteger = (text: string) => /(?<![\d.])\d{16,}(?![\d.eE])/.test(text);

test('JSON without integers beyond 2^53 parses exactly as JSON.parse does', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      const text = JSON.stringify(value);
      fc.pre(!longInteger(text));
      expect(parseJsonExact(text)).toStrictEqual(JSON.parse(text));
    }),
    { numRuns: 2000 },
  );
});

test('every integer literal keeps its value: BigInt beyond ±(2^53 − 1), a number within', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }), fc.jsonValue(), (n, other) => {
      fc.pre(!longInteger(JSON.stringify(other)));
      const sent = JSON.parse(JSON.stringify(other)); // as JSON has it (-0 is written 0)
      const parsed = parseJsonExact(`{"n":${n},"other":${JSON.stringify(other)},"list":[${n},1.5]}`) as Record<string, unknown>;
      const safe = n >= -(2n ** 53n - 1n) && n <= 2n ** 53n - 1n;
      expect(parsed.n).toBe(safe ? Number(n) : n);
      expect(parsed.list).toEqual([safe ? Number(n) : n, 1.5]);
      expect(parsed.other).toStrictEqual(sent);
      expect(bigIntsAsText(parsed)).toEqual({ n: safe ? Number(n) : String(n), other: sent, list: [safe ? Number(n) : String(n), 1.5] });
      expect(JSON.parse(stringifyExact({ x: parsed.n }).replace(/:(-?\d+)/, ':"$1"')).x).toBe(String(n));
    }),
    { numRuns: 2000 },
  );
});

test('as JSON.parse: the last of duplicate keys wins, __proto__ is a key, fractions and exponents are doubles, bad JSON throws its error', () => {
  const parsed = parseJsonExact(
    '{"a":1,"__proto__":{"b":9007199254740993},"a":18446744073709551615,"f":1.00000000000000000001,"e":1e400}',
  ) as Record<string, unknown>;
  expect(Object.keys(parsed)).toEqual(['a', '__proto__', 'f', 'e']);
  expect(parsed.a).toBe(18446744073709551615n);
  expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toEqual({ b: 9007199254740993n });
  expect(parsed.f).toBe(1);
  expect(parsed.e).toBe(Number.POSITIVE_INFINITY);
  expect(() => parseJsonExact('[9007199254740993,')).toThrow(SyntaxError);
  const before = exactParses();
  parseJsonExact('[1e300]');
  parseJsonExact('[1,2]');
  expect(exactParses() - before).toBe(1);
  // Nested deeper than the exact parser's stack: JSON.parse's reading stands.
  expect(() => parseJsonExact(`${'['.repeat(100_000)}9007199254740993${']'.repeat(100_000)}`)).not.toThrow();
});

test('range checks are exact at every integer bound', () => {
  const check = (datatype: string, literal: string) =>
    checkTensorData(
      { name: 'x', datatype, shape: [1], data: [parseJsonExact(`[${literal}]`) as unknown[]].flat() },
      'request',
      '/inputs/0',
    );
  const bounds: [string, bigint, bigint][] = [
    ['INT8', -(2n ** 7n), 2n ** 7n - 1n],
    ['UINT8', 0n, 2n ** 8n - 1n],
    ['INT32', -(2n ** 31n), 2n ** 31n - 1n],
    ['UINT32', 0n, 2n ** 32n - 1n],
    ['INT64', -(2n ** 63n), 2n ** 63n - 1n],
    ['UINT64', 0n, 2n ** 64n - 1n],
  ];
  for (const [datatype, min, max] of bounds) {
    expect([check(datatype, String(min)), check(datatype, String(max))]).toEqual([null, null]);
    expect(check(datatype, String(min - 1n))?.message).toMatch(
      new RegExp(`from ${min} to ${max} for datatype ${datatype}; got a whole number out of range`),
    );
    expect(check(datatype, String(max + 1n))?.message).toMatch(/got a whole number out of range/);
  }
  expect(check('INT64', '9.3e18')?.message).toMatch(/out of range/);
  expect(check('FP64', '123456789012345678901234567890')).toBeNull();
});

test('JSON tensors of big integers are INT64, UINT64 past it, FP64 past both', () => {
  const datatype = (literal: string) => tensorOf('x', parseJsonExact(literal)).datatype;
  expect([datatype('[1,9223372036854775807]'), datatype('[1,9223372036854775808]'), datatype('[-1,9223372036854775808]')]).toEqual([
    'INT64',
    'UINT64',
    'FP64',
  ]);
  expect([datatype('[18446744073709551616]'), datatype('[-9223372036854775809]'), datatype('[1.5,9007199254740993]')]).toEqual([
    'FP64',
    'FP64',
    'FP64',
  ]);
});
