import type { InferenceRecord } from '../src';
import { uuidv7 } from '../src/ids';
import { toCopyText } from '../src/sink/copy-text';
import { RECORD_COLUMNS } from '../src/record/record';

function record(text: string): InferenceRecord {
  const at = new Date(Date.UTC(2026, 10, 25));
  return {
    id: uuidv7(at.getTime()),
    started_at: at,
    ended_at: at,
    latency_ms: 1.5,
    request_id: text,
    trace_id: null,
    span_id: null,
    service: text,
    service_version: null,
    host: null,
    method: 'POST',
    route: null,
    path: '/',
    status: 200,
    aborted: true,
    protocol: 'raw',
    model_name: null,
    model_version: null,
    inference_id: null,
    parameters: { text },
    inputs: null,
    outputs: null,
    response_parameters: null,
    usage: null,
    error: null,
    request_headers: null,
    response_headers: null,
    request_body: text,
    response_body: null,
    request_bytes: 1,
    response_bytes: 0,
    request_sha256: null,
    response_sha256: null,
    truncated: [text],
    redactions: [],
    schema_errors: null,
    annotations: null,
  };
}

test('every tab, newline, carriage return and backslash is escaped, whatever the order of the values', () => {
  const lines = toCopyText([record('\tA'), record('\tB'), record('x\\y'), record('\nz\r')]).split('\n');
  expect(lines.pop()).toBe('');
  for (const line of lines) expect(line.split('\t')).toHaveLength(RECORD_COLUMNS.length);
  const fields = lines.map((line) => line.split('\t'));
  const column = (name: string) => RECORD_COLUMNS.indexOf(name as never);
  expect(fields.map((f) => f[column('request_id')])).toEqual(['\\tA', '\\tB', 'x\\\\y', '\\nz\\r']);
  expect(fields[0][column('parameters')]).toBe('{"text":"\\\\tA"}');
  expect(fields[1][column('truncated')]).toBe('{"\\tB"}');
  expect(fields[2][column('truncated')]).toBe('{"x\\\\\\\\y"}');
  expect(fields[0][column('trace_id')]).toBe('\\N');
  expect(fields[0][column('aborted')]).toBe('t');
  expect(fields[0][column('started_at')]).toBe('2026-11-25T00:00:00.000Z');
});
