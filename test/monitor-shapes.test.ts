// What `monitorLog` makes of every kind of tensor and record: nested data, batches, variable shapes,
// text, booleans, values that are not numbers, records without tensors or model, OpenAI-style usage and
// finish reasons; and model quality by argmax and by regression. Each figure is computed here from the
// records written.
import { InferenceLogger, type InferenceRecord } from '@inferlog/core';
import { monitorLog, type FeatureMonitor, type MonitorReport } from '@inferlog/core/audit';
import { openWriter, record, type Writer } from './cli-helpers';
import { db, dropSchema, endPool, logOptions, uniqueSchema } from './helpers';

const schema = uniqueSchema('monitor_shapes');
const DAY = 86_400_000;
const START = Date.UTC(2026, 4, 4);
const N = 120;
let writer: Writer;
let report: MonitorReport;
const shapes: InferenceRecord[] = [];
const labels = new Map<string, { cls: string; value: number }>();

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function shapesRecord(i: number, day: number): InferenceRecord {
  const n = 1 + (i % 5);
  const scores = [i % 3 === 0 ? 0.9 : 0.1, i % 3 === 1 ? 0.8 : 0.1, i % 3 === 2 ? 0.7 : 0.1];
  return record(i, START + day * DAY + i * 1000, {
    model_name: 'shapes',
    schema_errors: i % 10 === 0 ? [{ part: 'request', path: '/inputs/0', message: 'bad' }] : null,
    inputs: [
      {
        name: 'grid',
        shape: [1, 2, 2],
        datatype: 'FP32',
        data: [
          [
            [i, i + 1],
            [i + 2, i % 7 === 0 ? 'x' : i + 3],
          ],
        ],
      },
      { name: 'batch', shape: [2, 3], datatype: 'FP64', data: [i, 2 * i, 3 * i, i + 0.5, 2 * i + 0.5, 3 * i + 0.5] },
      { name: 'tokens', shape: [1, n], datatype: 'INT64', data: Array.from({ length: n }, (_, k) => k * i) },
      { name: 'prompt', shape: [1], datatype: 'BYTES', data: [`prompt number ${i} ${'x'.repeat(i % 11)}`] },
      { name: 'flag', shape: [1], datatype: 'BOOL', data: [i % 4 === 0] },
    ],
    outputs: [
      { name: 'scores', shape: [1, 3], datatype: 'FP32', data: scores },
      { name: 'value', shape: [1, 1], datatype: 'FP32', data: [i / 2] },
    ],
  });
}

const feature = (r: MonitorReport, model: string | null, name: string): FeatureMonitor =>
  r.models.find((m) => m.model_name === model)!.features.find((f) => f.name === name)!;

beforeAll(async () => {
  writer = await openWriter(schema, 'monitor-shapes');
  for (let i = 0; i < N; i++) shapes.push(shapesRecord(i, i < N / 2 ? 0 : 1));
  const bare = Array.from({ length: 40 }, (_, i) =>
    record(10_000 + i, START + i * 1000, {
      model_name: null,
      model_version: null,
      protocol: 'raw',
      inputs: null,
      outputs: null,
      status: i % 2 ? 200 : 503,
    }),
  );
  const chat = Array.from({ length: 60 }, (_, i) =>
    record(20_000 + i, START + i * 1000, {
      model_name: 'chat',
      protocol: 'openai-chat',
      usage: { input_tokens: 10 + i, output_tokens: 5 + (i % 9), time_to_first_token_ms: 100 + i },
      inputs: [{ name: 'messages', shape: [1], datatype: 'BYTES', data: [JSON.stringify([{ role: 'user', content: `q${i}` }])] }],
      outputs: [{ name: 'finish_reason', shape: [1], datatype: 'BYTES', data: [i % 3 ? 'stop' : 'length'] }],
    }),
  );
  await writer.write([...shapes, ...bare, ...chat]);
  const events = new InferenceLogger(logOptions(schema, { service: 'labels' }));
  await events.ready();
  for (const [k, r] of shapes.entries()) {
    const label = { cls: ['a', 'b', 'c'][(k * 7) % 3]!, value: k / 2 + (k % 4) - 1.5 };
    labels.set(r.id, label);
    await events.event(r.id, { type: 'ground_truth', data: { label: label.cls } });
  }
  await events.close();
  report = await monitorLog(db, schema, 'inference_log', {
    minCount: 10,
    prediction: { kind: 'argmax', output: 'scores', classes: ['a', 'b', 'c'] },
  });
}, 120_000);

afterAll(async () => {
  await writer?.close();
  await dropSchema(schema);
  await endPool();
});

test('each tensor becomes the features its shape and type call for', () => {
  const m = report.models.find((x) => x.model_name === 'shapes')!;
  expect(m.features.map((f) => `${f.name}:${f.kind}`)).toEqual([
    'latency_ms:numeric',
    'status:categorical',
    'schema_errors:categorical',
    'inputs.batch[0]:numeric',
    'inputs.batch[1]:numeric',
    'inputs.batch[2]:numeric',
    'inputs.flag[0]:numeric',
    'inputs.grid[0]:numeric',
    'inputs.grid[1]:numeric',
    'inputs.grid[2]:numeric',
    'inputs.grid[3]:numeric',
    'inputs.prompt.length:numeric',
    'inputs.tokens.length:numeric',
    'inputs.tokens.mean:numeric',
    'outputs.scores[0]:numeric',
    'outputs.scores[1]:numeric',
    'outputs.scores[2]:numeric',
    'outputs.value[0]:numeric',
  ]);
  expect(m.windows.map((w) => [w.records, w.schema_error_rate])).toEqual([
    [N / 2, 6 / 60],
    [N / 2, 6 / 60],
  ]);
});

test('profiles: nested data, both samples of a batch, lengths and means of variable tensors, text lengths, booleans, missing values', () => {
  const day1 = shapes.slice(0, N / 2);
  const ids = day1.map((_, i) => i);
  const w = (name: string) => feature(report, 'shapes', name).windows[0]!;
  const check = (name: string, count: number, missing: number, values: number[]) => {
    expect(w(name)).toMatchObject({ count, missing });
    expect(w(name).mean).toBeCloseTo(mean(values), 12);
  };
  check(
    'inputs.grid[1]',
    60,
    0,
    ids.map((i) => i + 1),
  );
  const bad = ids.filter((i) => i % 7 === 0).length;
  // "x" where a number belongs: counted as missing, the rest profiled.
  check(
    'inputs.grid[3]',
    60 - bad,
    bad,
    ids.filter((i) => i % 7).map((i) => i + 3),
  );
  // Both samples of the batch count.
  check(
    'inputs.batch[1]',
    120,
    0,
    ids.flatMap((i) => [2 * i, 2 * i + 0.5]),
  );
  expect(w('inputs.tokens.length').mean).toBeCloseTo(mean(ids.map((i) => 1 + (i % 5))), 12);
  expect(w('inputs.tokens.mean').mean).toBeCloseTo(mean(ids.map((i) => mean(Array.from({ length: 1 + (i % 5) }, (_, k) => k * i)))), 9);
  expect(w('inputs.prompt.length').mean).toBeCloseTo(mean(ids.map((i) => `prompt number ${i} ${'x'.repeat(i % 11)}`.length)), 12);
  expect(w('inputs.flag[0]').mean).toBeCloseTo(ids.filter((i) => i % 4 === 0).length / 60, 12);
  expect(w('inputs.grid[0]').min).toBe(0);
  expect(w('inputs.grid[0]').max).toBe(59);
});

test('records without tensors or model, and OpenAI-style usage and finish reasons', () => {
  const bare = report.models.find((m) => m.model_name === null)!;
  expect(bare.features.map((f) => f.name)).toEqual(['latency_ms', 'status', 'schema_errors']);
  expect(bare.features[1]!.windows[0]!.bins).toEqual(['200', '503', '(other)']);
  expect(bare.features[1]!.windows[0]!.histogram).toEqual([20, 20, 0]);
  const chat = report.models.find((m) => m.model_name === 'chat')!;
  expect(chat.features.map((f) => `${f.name}:${f.kind}`)).toEqual([
    'latency_ms:numeric',
    'status:categorical',
    'schema_errors:categorical',
    'usage.input_tokens:numeric',
    'usage.output_tokens:numeric',
    'usage.time_to_first_token_ms:numeric',
    'inputs.messages.length:numeric',
    'outputs.finish_reason:categorical',
  ]);
  expect(feature(report, 'chat', 'usage.input_tokens').windows[0]!.mean).toBe(mean(Array.from({ length: 60 }, (_, i) => 10 + i)));
  expect(feature(report, 'chat', 'outputs.finish_reason').windows[0]).toMatchObject({
    bins: ['stop', 'length', '(other)'],
    histogram: [40, 20, 0],
  });
});

test('model quality by argmax over named classes', () => {
  const quality = report.models.find((m) => m.model_name === 'shapes')!.quality!;
  for (const [d, rows] of [shapes.slice(0, N / 2), shapes.slice(N / 2)].entries()) {
    const predicted = rows.map(
      (r) =>
        ['a', 'b', 'c'][(r.outputs as { data: number[] }[])[0]!.data.indexOf(Math.max(...(r.outputs as { data: number[] }[])[0]!.data))],
    );
    const correct = rows.filter((r, i) => predicted[i] === labels.get(r.id)!.cls).length;
    expect(quality.windows[d]).toMatchObject({ labelled: rows.length, accuracy: correct / rows.length });
  }
});

test('model quality by regression against numeric labels', async () => {
  const events = new InferenceLogger(logOptions(schema, { service: 'values' }));
  await events.ready();
  for (const r of shapes) await events.event(r.request_id, { type: 'ground_truth', data: { label: labels.get(r.id)!.value } });
  await events.close();
  const r = await monitorLog(db, schema, 'inference_log', {
    filter: { model: 'shapes' },
    prediction: { kind: 'regression', output: 'value' },
  });
  const rows = shapes.slice(0, N / 2);
  const errors = rows.map((x, i) => i / 2 - labels.get(x.id)!.value);
  const q = r.models[0]!.quality!.windows[0]!;
  expect(q.labelled).toBe(rows.length);
  expect(q.mae).toBeCloseTo(mean(errors.map(Math.abs)), 12);
  expect(q.rmse).toBeCloseTo(Math.sqrt(mean(errors.map((e) => e * e))), 12);
});
