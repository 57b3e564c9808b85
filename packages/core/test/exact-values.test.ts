// The stored values' canonical texts (chain/exact-number.ts, stored-time.ts, stored-json.ts): what a
// writer writes prints as it always did; anything else prints as stored.
import { canonicalJson } from '../src/chain/canonical';
import { ExactNumber, numberFromStored, pgNumericText } from '../src/chain/exact-number';
import { parseStoredJson } from '../src/chain/stored-json';
import { timestampText } from '../src/chain/stored-time';

test('pgNumericText: ECMAScript exponent forms as PostgreSQL numeric prints them', () => {
  expect(pgNumericText('1e+21')).toBe('1000000000000000000000');
  expect(pgNumericText('1.5e+21')).toBe('1500000000000000000000');
  expect(pgNumericText('-1.2345e+25')).toBe('-12345000000000000000000000');
  expect(pgNumericText('1e-7')).toBe('0.0000001');
  expect(pgNumericText('1.5e-7')).toBe('0.00000015');
  expect(pgNumericText('-5e-324')).toBe(`-0.${'0'.repeat(323)}5`);
  expect(pgNumericText('0.1')).toBe('0.1');
  expect(pgNumericText('123')).toBe('123');
});

test('numberFromStored: a double when the stored text is what a writer writes, else the text verbatim', () => {
  expect(numberFromStored('0.1')).toBe(0.1);
  expect(numberFromStored('1000000000000000000000')).toBe(1e21);
  expect(numberFromStored('0.0000001')).toBe(1e-7);
  expect(numberFromStored('9007199254740992')).toBe(2 ** 53);
  for (const stored of [
    '0.10000000000000000001',
    '1.0',
    '3.0',
    '12345678901234567001',
    '9007199254740993',
    '1000000000000000000001',
    `1${'0'.repeat(400)}`,
  ])
    expect(numberFromStored(stored)).toEqual(new ExactNumber(stored));
  // Not stored text (an export line's spelling no writer makes): a double, which prints otherwise.
  expect(numberFromStored('1E5')).toBe(100000);
  expect(canonicalJson([new ExactNumber('3.0'), 0.1])).toBe('[3.0,0.1]');
  expect(JSON.stringify(new ExactNumber('0.10000000000000000001'))).toBe('0.1');
});

test('timestampText: whole milliseconds as toISOString, other microseconds with six digits, the rest verbatim, never a throw', () => {
  const ms = new Date('2026-12-07T03:39:37.123Z');
  expect(timestampText(ms)).toBe('2026-12-07T03:39:37.123Z');
  expect(timestampText('2026-12-07 03:39:37.123+00')).toBe('2026-12-07T03:39:37.123Z');
  expect(timestampText('2026-12-07 03:39:37+00')).toBe('2026-12-07T03:39:37.000Z');
  expect(timestampText('2026-12-07 03:39:37.1234+00')).toBe('2026-12-07T03:39:37.123400Z');
  expect(timestampText('2026-12-07 03:39:37.000001+00')).toBe('2026-12-07T03:39:37.000001Z');
  expect(timestampText('1969-12-31 23:59:59.999999+00')).toBe('1969-12-31T23:59:59.999999Z');
  expect(timestampText('0001-01-01 00:00:00+00 BC')).toBe('0000-01-01T00:00:00.000Z');
  expect(timestampText('0099-03-01 12:00:00+00')).toBe('0099-03-01T12:00:00.000Z');
  expect(timestampText('12345-01-01 00:00:00.5+00')).toBe('+012345-01-01T00:00:00.500Z');
  // Canonical text reads as itself; six digits ending in 000 is not canonical and reads as the millisecond form.
  expect(timestampText('2026-12-07T03:39:37.123400Z')).toBe('2026-12-07T03:39:37.123400Z');
  expect(timestampText('2026-12-07T03:39:37.123000Z')).toBe('2026-12-07T03:39:37.123Z');
  for (const stored of ['infinity', '-infinity', '294276-12-31 23:59:59+00']) expect(timestampText(stored)).toBe(stored);
  expect(timestampText(Number.POSITIVE_INFINITY)).toBe('infinity');
  expect(timestampText(new Date(Number.NaN))).toBe('Invalid Date');
});

test('parseStoredJson: JSON.parse where that is exact, ExactNumber where it is not; a duplicate key keeps its last value', () => {
  const plain = '{"a": [0.1, 1000000000000000000000, 0.0000001, "12345678901234567001"], "b": {"c": 3}}';
  expect(parseStoredJson(plain)).toEqual(JSON.parse(plain));
  expect(parseStoredJson('{"a": [0.10000000000000000001, 3.0, 1], "s": "1.0"}')).toEqual({
    a: [new ExactNumber('0.10000000000000000001'), new ExactNumber('3.0'), 1],
    s: '1.0',
  });
  expect(canonicalJson(parseStoredJson('{"b": [12345678901234567001], "a": 1.50}'))).toBe('{"a":1.50,"b":[12345678901234567001]}');
  expect(parseStoredJson('{"x": 1, "x": 2.0}')).toEqual({ x: new ExactNumber('2.0') });
  expect(() => parseStoredJson('{"x": ')).toThrow();
});
