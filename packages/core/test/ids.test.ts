import { acceptRequestId, parseTraceparent, uuidv7 } from '../src/ids';

test('uuidv7 has version 7, the RFC variant, the timestamp in its first 48 bits, and is unique', () => {
  const ms = Date.UTC(2026, 10, 25, 12, 0, 0, 123);
  const ids = Array.from({ length: 10_000 }, () => uuidv7(ms));
  for (const id of ids.slice(0, 100)) {
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(ms);
  }
  expect(new Set(ids).size).toBe(ids.length);
  expect(uuidv7(ms) < uuidv7(ms + 1)).toBe(true);
});

test('request ids are accepted only when safe to store and echo', () => {
  expect(acceptRequestId('abc-123')).toBe('abc-123');
  expect(acceptRequestId(['first', 'second'])).toBe('first');
  expect(acceptRequestId('')).toBeUndefined();
  expect(acceptRequestId('has space')).toBeUndefined();
  expect(acceptRequestId('x'.repeat(201))).toBeUndefined();
  expect(acceptRequestId('line\nbreak')).toBeUndefined();
});

test('traceparent', () => {
  expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual({
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
  });
  expect(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01').traceId).toBeNull();
  expect(parseTraceparent('ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01').traceId).toBeNull();
  expect(parseTraceparent('garbage').traceId).toBeNull();
  expect(parseTraceparent(undefined).spanId).toBeNull();
});
