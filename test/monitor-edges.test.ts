// `monitorLog` on what clients can send and operators can mistype: names that look like SQL parameters,
// numbers too large to square, a reference of one value, an empty reference, a thousand tensor names,
// ranges too long for the window, misspelled thresholds; and regression quality that degrades.
import { InferenceLogger, type InferenceRecord } from '@inferlog/core';
import { monitorLog } from '@inferlog/core/audit';
import { cli, openWriter, record, type Writer } from './cli-helpers';
import { db, dropSchema, endPool, logOptions, uniqueSchema } from './helpers';
import { normal, random } from './monitor-traffic';

const schema = uniqueSchema('monitor_edges');
const DAY = 86_400_000;
const START = Date.UTC(2026, 5, 1);
const PARAM_MODEL = "a$3 'b' $1:json";
let writer: Writer;
const regression: InferenceRecord[] = [];

const at = (day: number, k: number, n: number) => START + day * DAY + Math.floor((k / n) * DAY);

beforeAll(async () => {
  writer = await openWriter(schema, 'monitor-edges');
  const rand = random(11);
  const rows: InferenceRecord[] = [];
  for (let day = 0; day < 2; day++)
    for (let k = 0; k < 300; k++) {
      // Names that pg-promise would take for parameters if a query were formatted twice.
      rows.push(
        record(rows.length, at(day, k, 300), {
          model_name: PARAM_MODEL,
          model_version: '$2',
          inputs: [
            { name: '$1:json', shape: [1, 2], datatype: 'FP64', data: [k, day === 1 && k % 10 === 0 ? 1e200 : k / 2] },
            {
              name: 'wide$3',
              shape: [1, 1 + (k % 3)],
              datatype: 'FP64',
              data: Array.from({ length: 1 + (k % 3) }, () => (k % 7 ? 1 : 1e300)),
            },
          ],
          outputs: null,
        }),
      );
      // A value that never changes in the reference, then moves down.
      rows.push(
        record(rows.length, at(day, k, 300), {
          model_name: 'steady',
          inputs: [{ name: 'x', shape: [1], datatype: 'INT32', data: [day === 0 ? 5 : 3] }],
          outputs: null,
        }),
      );
      const truth = 10 * rand();
      const prediction = truth + (day === 0 ? 0.1 : 1) * normal(rand);
      const r = record(rows.length, at(day, k, 300), {
        model_name: 'regressor',
        inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [truth] }],
        outputs: [{ name: 'y', shape: [1], datatype: 'FP64', data: [prediction] }],
        annotations: { truth },
      });
      regression.push(r);
      rows.push(r);
    }
  // One client sending a new tensor name with every request.
  for (let k = 0; k < 150; k++)
    rows.push(
      record(rows.length, at(0, k, 150), {
        model_name: 'noisy',
        inputs: [{ name: `t${k}`, shape: [1], datatype: 'FP32', data: [k] }],
        outputs: null,
      }),
    );
  await writer.write(rows);
  const labels = new InferenceLogger(logOptions(schema, { service: 'labels' }));
  await labels.ready();
  for (const r of regression)
    await labels.event(r.id, { type: 'ground_truth', data: { label: (r.annotations as { truth: number }).truth } });
  await labels.close();
}, 120_000);

afterAll(async () => {
  await writer?.close();
  await dropSchema(schema);
  await endPool();
});

test('names that look like query parameters are stored, filtered on and profiled as they are', async () => {
  const report = await monitorLog(db, schema, 'inference_log', { filter: { model: PARAM_MODEL, version: '$2' }, minCount: 50 });
  expect(report.models.map((m) => [m.model_name, m.model_version])).toEqual([[PARAM_MODEL, '$2']]);
  const names = report.models[0]!.features.map((f) => f.name);
  expect(names).toEqual(expect.arrayContaining(['inputs.$1:json[0]', 'inputs.$1:json[1]', 'inputs.wide$3.length', 'inputs.wide$3.mean']));
  // 1e200 and 1e300 are missing (their squares overflow), not an error.
  const big = report.models[0]!.features.find((f) => f.name === 'inputs.$1:json[1]')!;
  expect(big.windows[1]).toMatchObject({ count: 270, missing: 30 });
  expect(big.windows[1]!.max).toBe(149.5);
  const mean = report.models[0]!.features.find((f) => f.name === 'inputs.wide$3.mean')!;
  expect(mean.windows[0]!.max).toBe(1);
});

test('a reference of one value: a move below it is flagged', async () => {
  const report = await monitorLog(db, schema, 'inference_log', { filter: { model: 'steady' } });
  expect(report.models[0]!.drift).toEqual([{ feature: 'inputs.x[0]', windows: [new Date(START + DAY).toISOString()] }]);
});

test('an empty reference compares nothing, and says so instead of "no drift"; so does the command under --fail-on-drift', async () => {
  const reference = { since: new Date(START - 30 * DAY), until: new Date(START - 29 * DAY) };
  const report = await monitorLog(db, schema, 'inference_log', { filter: { model: 'steady' }, reference });
  const steady = report.models[0]!;
  expect(steady.drift).toEqual([]);
  expect(steady.not_compared).toEqual(steady.features.map((f) => f.name));
  const run = await cli(schema, ['monitor', '--model', 'steady', '--reference', '2026-05-01..2026-05-02', '--fail-on-drift']);
  expect(run.stdout).toMatch(/NOT COMPARED/);
  expect(run.code).toBe(1);
});

test('a model with a new tensor name on every request: the 100 most frequent are profiled, the rest counted', async () => {
  const report = await monitorLog(db, schema, 'inference_log', { filter: { model: 'noisy' }, minCount: 1 });
  expect(report.models[0]!.skipped_tensors).toBe(50);
  expect(report.models[0]!.features.filter((f) => f.name.startsWith('inputs.'))).toHaveLength(100);
});

test('regression quality: a rise in RMSE beyond qualityDrop that is not noise is flagged', async () => {
  const report = await monitorLog(db, schema, 'inference_log', {
    filter: { model: 'regressor' },
    prediction: { kind: 'regression', output: 'y' },
  });
  const q = report.models[0]!.quality!;
  expect(q.windows.map((w) => w.labelled)).toEqual([300, 300]);
  expect(q.windows[0]!.rmse).toBeLessThan(0.15);
  expect(q.windows[1]!.rmse).toBeGreaterThan(0.8);
  expect(q.degraded).toEqual([new Date(START + DAY).toISOString()]);
});

test('mistakes are refused with the option named: unknown feature thresholds, too many windows, flags that need --predict', async () => {
  await expect(
    monitorLog(db, schema, 'inference_log', { filter: { model: 'steady' }, featureThresholds: { 'inputs.y[0]': { psi: 1 } } }),
  ).rejects.toThrow(/"featureThresholds" names "inputs.y\[0\]", which no model in the range has/);
  await writer.write([record(99_999, START + 300 * DAY, { model_name: 'late' })]);
  await expect(monitorLog(db, schema, 'inference_log', { window: 'hour' })).rejects.toThrow(
    /7201 windows of one hour, more than 5000; use a longer window/,
  );
  await expect(monitorLog(db, schema, 'inference_log', { filter: { since: '2026-01-01' as never } })).rejects.toThrow(
    /"filter.since" must be a valid Date/,
  );
  const run = await cli(schema, ['monitor', '--output', 'y']);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/--output needs --predict/);
});

test('what the outside attack found: model floods, digit strings, leftover elements, unusable labels, an empty log, repeated classes', async () => {
  // Four made-up models of 640 features each, one record each: the real model (most records) is kept, the rest as fits.
  const flood = Array.from({ length: 4 }, (_, m) =>
    record(200_000 + m, START + 60_000 * m, {
      model_name: `junk${m}`,
      inputs: Array.from({ length: 10 }, (_, t) => ({ name: `t${t}`, shape: [1, 64], datatype: 'FP32', data: Array(64).fill(m) })),
      outputs: null,
    }),
  );
  // An integer beyond 2^53 (stored as its digits), and more data than the shape says.
  const odd = Array.from({ length: 20 }, (_, k) =>
    record(210_000 + k, START + 1000 * k, {
      model_name: 'odd',
      inputs: [
        { name: 'big', shape: [1], datatype: 'INT64', data: [9007199254740993n + BigInt(k)] as never },
        { name: 'long', shape: [1, 2], datatype: 'FP32', data: [1, 2, 3, 4, 5] },
      ],
      outputs: [{ name: 'p', shape: [1], datatype: 'FP32', data: [0.9] }],
    }),
  );
  await writer.write([...flood, ...odd]);
  const labels = new InferenceLogger(logOptions(schema, { service: 'odd-labels' }));
  await labels.ready();
  for (const [k, r] of odd.entries()) await labels.event(r.id, { type: 'ground_truth', data: { label: k % 2 ? 1e300 : [1] } });
  await labels.close();
  const since = new Date(START - DAY);
  const until = new Date(START + 2 * DAY);
  const report = await monitorLog(db, schema, 'inference_log', { filter: { since, until }, minCount: 1 });
  expect(report.models.map((m) => m.model_name)).toEqual(expect.arrayContaining(['steady', 'regressor', 'odd', PARAM_MODEL]));
  expect(report.skipped_models.length).toBeGreaterThanOrEqual(1);
  expect(report.skipped_models.every((m) => m.records === 1 && m.model_name!.startsWith('junk'))).toBe(true);
  const odd1 = (await monitorLog(db, schema, 'inference_log', { filter: { model: 'odd' }, minCount: 1, prediction: { kind: 'threshold' } }))
    .models[0]!;
  const w = (name: string) => odd1.features.find((f) => f.name === name)!.windows[0]!;
  expect(w('inputs.big[0]')).toMatchObject({ count: 20, missing: 0, min: 9007199254740992 });
  expect(w('inputs.long[0]')).toMatchObject({ count: 20, mean: 1 });
  expect(w('inputs.long[1]')).toMatchObject({ count: 20, mean: 2 });
  expect(odd1.quality!.windows[0]).toMatchObject({ labelled: 0, unusable: 20 });
  const empty = await cli(schema, ['monitor', '--model', 'nobody', '--fail-on-drift']);
  expect(empty.stdout).toMatch(/no records match: nothing to judge/);
  expect(empty.code).toBe(1);
  await expect(monitorLog(db, schema, 'inference_log', { prediction: { kind: 'argmax', classes: ['a', 'a'] } })).rejects.toThrow(
    /must be distinct/,
  );
});
