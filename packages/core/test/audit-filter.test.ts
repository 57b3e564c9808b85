import { decodeCursor, encodeCursor } from '../src/audit/query';
import { describeFilter, filterSql, parseAnnotation, parseDuration, parseInstant, parseStatus } from '../src/audit/filter';

const now = new Date('2026-05-10T12:00:00.000Z');

test('instants: ISO dates and times (UTC unless an offset is given), now, and times ago', () => {
  expect(parseInstant('2026-05-01', '--since', now).toISOString()).toBe('2026-05-01T00:00:00.000Z');
  expect(parseInstant('2026-05-01T12:30', '--since', now).toISOString()).toBe('2026-05-01T12:30:00.000Z');
  expect(parseInstant('2026-05-01 12:30:15.5+02:00', '--since', now).toISOString()).toBe('2026-05-01T10:30:15.500Z');
  expect(parseInstant('now', '--until', now)).toBe(now);
  expect(parseInstant('24h', '--since', now).toISOString()).toBe('2026-05-09T12:00:00.000Z');
  expect(parseInstant('7d', '--since', now).toISOString()).toBe('2026-05-03T12:00:00.000Z');
  expect(parseInstant('90m', '--since', now).toISOString()).toBe('2026-05-10T10:30:00.000Z');
  for (const bad of ['yesterday', '24', '2026-13-45', '-1h', '', '2026-02-30', '2026-04-31T10:00Z', '2026-02-29'])
    expect(() => parseInstant(bad, '--since', now)).toThrow(/--since ".*" is not a time/);
  expect(parseInstant('2028-02-29', '--since', now).toISOString()).toBe('2028-02-29T00:00:00.000Z');
});

test('durations, statuses, annotations', () => {
  expect([parseDuration('250ms', 'x'), parseDuration('2s', 'x'), parseDuration('1m', 'x'), parseDuration('1500', 'x')]).toEqual([
    250, 2000, 60_000, 1500,
  ]);
  expect(() => parseDuration('soon', '--grace')).toThrow('--grace "soon" is not a duration');
  expect(parseStatus('500, 4xx,none')).toEqual([500, '4xx', 'none']);
  expect(() => parseStatus('600')).toThrow('status "600" is not a status');
  expect(parseAnnotation('tenant=acme')).toEqual({ key: 'tenant', value: 'acme' });
  expect(parseAnnotation('tier=3')).toEqual({ key: 'tier', value: 3 });
  expect(parseAnnotation('tags={"a":[1]}')).toEqual({ key: 'tags', value: { a: [1] } });
  expect(parseAnnotation('note=a=b')).toEqual({ key: 'note', value: 'a=b' });
  expect(() => parseAnnotation('=x')).toThrow('is not key=value');
});

test('the filter as SQL, every value escaped, and as the manifest records it', () => {
  const filter = { since: now, model: "o'brien", status: [500, '4xx' as const, 'none' as const], annotations: [{ key: 'tier', value: 3 }] };
  const sql = filterSql(filter);
  expect(sql).toContain("model_name = 'o''brien'");
  expect(sql).toContain('(status = 500 OR status BETWEEN 400 AND 499 OR status IS NULL)');
  expect(sql).toContain(`(annotations @> '{"tier":3}'::jsonb OR annotations @> '{"tier":"3"}'::jsonb)`);
  expect(filterSql({})).toBe('TRUE');
  expect(describeFilter(filter)).toEqual({
    since: '2026-05-10T12:00:00.000Z',
    model: "o'brien",
    status: [500, '4xx', 'none'],
    annotations: [{ tier: 3 }],
  });
});

test('cursors name a position to the microsecond and refuse anything else', () => {
  const position = { at: '2026-05-10T12:00:00.123456Z', id: '01a213a4-5d9b-7145-abd3-0ef54c14778f' };
  expect(decodeCursor(encodeCursor(position))).toEqual(position);
  expect(() => decodeCursor('page-2')).toThrow('"page-2" is not a cursor');
});
