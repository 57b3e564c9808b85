// `monitorLog`, `inferlog monitor` and the HTML report on 14 days of synthetic traffic with known
// changes: features[2] shifted from day 8, the labels from day 10. The monitor must flag that feature
// from day 8 and the quality drop from day 10 and nothing else on any day; its profiles and quality
// figures must equal what the test computes from the records it wrote.
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InferenceLogger } from '@inferlog/core';
import { monitorLog, type MonitorReport, type ModelMonitor } from '@inferlog/core/audit';
import { chromium, type Browser } from 'playwright-core';
import { cli, openWriter, record, type Writer } from './cli-helpers';
import { db, dropSchema, endPool, logOptions, tempDir, uniqueSchema } from './helpers';
import { DAY, DAYS, LABEL_DAY, SHIFT_DAY, START, traffic, type Inference } from './monitor-traffic';

const schema = uniqueSchema('monitor');
const dir = tempDir('inferlog-monitor-');
const CHROMIUM = '/usr/bin/chromium';
const PER_DAY = 1000;
const RULE = { kind: 'threshold', output: 'probability' } as const;
const EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
const day = (d: number) => new Date(START + (d - 1) * DAY).toISOString();
const days = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => day(from + i));
let writer: Writer;
let inferences: Inference[];
let report: MonitorReport;
let credit: ModelMonitor;

const onDay = (d: number) =>
  inferences.filter((x) => x.record.started_at.getTime() >= START + (d - 1) * DAY && x.record.started_at.getTime() < START + d * DAY);
const feature = (x: Inference, i: number) => (x.record.inputs as { data: number[] }[])[0]!.data[i]!;
const probability = (x: Inference) => (x.record.outputs as { data: number[] }[])[0]!.data[0]!;

beforeAll(async () => {
  inferences = [...traffic(PER_DAY)];
  writer = await openWriter(schema, 'monitor-test');
  await writer.write(inferences.map((x) => x.record));
  // A second model whose names are markup a client could send: the report must show them as text.
  await writer.write(
    Array.from({ length: 150 }, (_, i) =>
      record(900_000 + i, START + i * 60_000, {
        model_name: EVIL,
        inputs: [{ name: EVIL, shape: [1], datatype: 'BYTES', data: [i % 2 ? EVIL : '<svg onload="window.__pwned = 3">'] }],
        outputs: [{ name: 'javascript:alert(1)', shape: [1], datatype: 'FP32', data: [i] }],
      }),
    ),
  );
  const reviews = new InferenceLogger(logOptions(schema, { service: 'labels' }));
  await reviews.ready();
  const labelled = inferences.filter((x) => x.label !== null);
  for (let i = 0; i < labelled.length; i += 500)
    await Promise.all(
      labelled.slice(i, i + 500).map((x, k) =>
        // Half by request id, half by the record's id, as an app may send either.
        reviews.event((i + k) % 2 ? x.record.request_id : x.record.id, {
          type: 'ground_truth',
          actor: 'labeller',
          data: { label: x.label },
        }),
      ),
    );
  // A later label for one inference replaces its first; a label of another type is not ground truth.
  const first = labelled[0]!;
  await reviews.event(first.record.request_id, { type: 'ground_truth', data: { label: 1 - first.label! } });
  first.label = 1 - first.label!;
  await reviews.event(labelled[1]!.record.request_id, { type: 'feedback', data: { label: 1 - labelled[1]!.label! } });
  await reviews.close();
  report = await monitorLog(db, schema, 'inference_log', { filter: { model: 'credit' }, prediction: RULE });
  credit = report.models[0]!;
}, 300_000);

afterAll(async () => {
  await writer?.close();
  await dropSchema(schema);
  await endPool();
});

test('flags features[2] from day 8 and the quality drop from day 10, and nothing else on any day', () => {
  expect(report.models).toHaveLength(1);
  expect(credit.model_name).toBe('credit');
  expect(credit.windows.map((w) => w.start)).toEqual(days(1, DAYS));
  expect(credit.drift).toEqual([{ feature: 'inputs.features[2]', windows: days(SHIFT_DAY, DAYS) }]);
  expect(credit.quality!.degraded).toEqual(days(LABEL_DAY, DAYS));
  expect(credit.features.map((f) => [f.name, f.kind])).toEqual([
    ['latency_ms', 'numeric'],
    ['status', 'categorical'],
    ['schema_errors', 'categorical'],
    ['inputs.features[0]', 'numeric'],
    ['inputs.features[1]', 'numeric'],
    ['inputs.features[2]', 'numeric'],
    ['inputs.features[3]', 'numeric'],
    ['inputs.segment', 'categorical'],
    ['outputs.probability[0]', 'numeric'],
  ]);
  const shifted = credit.features.find((f) => f.name === 'inputs.features[2]')!;
  for (const w of shifted.windows.slice(SHIFT_DAY - 1)) {
    expect(w.psi).toBeGreaterThan(0.5);
    expect(w.p_value).toBeLessThan(1e-6);
  }
});

test("a window's profile is the one the test computes from the records it wrote", () => {
  for (const d of [1, SHIFT_DAY, DAYS]) {
    const values = onDay(d).map((x) => feature(x, 2));
    const n = values.length;
    const mean = values.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    const w = credit.features.find((f) => f.name === 'inputs.features[2]')!.windows[d - 1]!;
    expect(w.count).toBe(n);
    expect(w.missing).toBe(0);
    expect(w.mean).toBeCloseTo(mean, 9);
    expect(w.std).toBeCloseTo(std, 9);
    expect(w.min).toBe(Math.min(...values));
    expect(w.max).toBe(Math.max(...values));
    const sorted = [...values].sort((a, b) => a - b);
    // Quantiles are interpolated within the reference's percentile buckets: within a few hundredths here.
    expect(Math.abs(w.quantiles!.p50 - sorted[Math.floor(n / 2)]!)).toBeLessThan(0.1);
    expect(Math.abs(w.quantiles!.p95 - sorted[Math.floor(n * 0.95)]!)).toBeLessThan(0.2);
    expect(w.histogram!.reduce((a, b) => a + b, 0)).toBe(n);
    // Day 1 is the reference: its own deciles hold a tenth each, nothing lies below or above it.
    if (d === 1) expect(w.histogram).toEqual([0, ...Array(10).fill(n / 10), 0]);
  }
  const segment = credit.features.find((f) => f.name === 'inputs.segment')!;
  expect(segment.windows[0]!.bins).toEqual(['b', 'a', 'c', '(other)']);
  const seen = onDay(1).map((x) => (x.record.inputs as { data: string[] }[])[1]!.data[0]);
  expect(segment.windows[0]!.histogram).toEqual(['b', 'a', 'c'].map((s) => seen.filter((v) => v === s).length).concat(0));
  const status = credit.features.find((f) => f.name === 'status')!.windows[3]!;
  expect(status.count).toBe(PER_DAY);
  expect(credit.windows[3]).toEqual({ start: day(4), records: PER_DAY, schema_error_rate: 0 });
});

test('quality figures are those of the labels sent, the latest ground_truth of each inference', () => {
  for (const d of [1, LABEL_DAY]) {
    const labelled = onDay(d).filter((x) => x.label !== null);
    const predicted = labelled.map((x) => (probability(x) >= 0.5 ? 1 : 0));
    const tp = labelled.filter((x, i) => predicted[i] === 1 && x.label === 1).length;
    const fp = labelled.filter((x, i) => predicted[i] === 1 && x.label === 0).length;
    const fn = labelled.filter((x, i) => predicted[i] === 0 && x.label === 1).length;
    const correct = labelled.filter((x, i) => predicted[i] === x.label).length;
    const w = credit.quality!.windows[d - 1]!;
    expect(w.labelled).toBe(labelled.length);
    expect(w.accuracy).toBeCloseTo(correct / labelled.length, 12);
    expect(w.precision).toBeCloseTo(tp / (tp + fp), 12);
    expect(w.recall).toBeCloseTo(tp / (tp + fn), 12);
  }
});

test('against the previous window, the shift is flagged on the day it happens only; a fixed reference and per-feature thresholds are honoured', async () => {
  const previous = await monitorLog(db, schema, 'inference_log', { filter: { model: 'credit' }, reference: 'previous', prediction: RULE });
  expect(previous.models[0]!.drift).toEqual([{ feature: 'inputs.features[2]', windows: [day(SHIFT_DAY)] }]);
  expect(previous.models[0]!.quality!.degraded).toEqual([day(LABEL_DAY)]);
  const week = { since: new Date(START), until: new Date(START + 7 * DAY) };
  const fixed = await monitorLog(db, schema, 'inference_log', {
    filter: { model: 'credit', since: new Date(START + 7 * DAY) },
    reference: week,
    featureThresholds: { 'inputs.features[3]': { psi: 0.001, js: 0.001 } },
  });
  // From day 8 on, against days 1–7: features[2] drifted on every day; features[3], at thresholds this low, only where
  // the chi-square test also rejects (never: it is stationary).
  expect(fixed.models[0]!.drift).toEqual([{ feature: 'inputs.features[2]', windows: days(SHIFT_DAY, DAYS) }]);
  expect(fixed.models[0]!.features.find((f) => f.name === 'inputs.features[3]')!.thresholds).toEqual({ psi: 0.001, js: 0.001 });
  const lenient = await monitorLog(db, schema, 'inference_log', {
    filter: { model: 'credit' },
    featureThresholds: { 'inputs.features[2]': { psi: 5, js: 0.9 } },
  });
  expect(lenient.models[0]!.drift).toEqual([]);
  const unguarded = await monitorLog(db, schema, 'inference_log', {
    filter: { model: 'credit' },
    thresholds: { psi: 0.001, js: 0.001 },
    significance: 1,
  });
  expect(unguarded.models[0]!.drift.length).toBeGreaterThan(3);
});

test('weekly and hourly windows', async () => {
  const weeks = await monitorLog(db, schema, 'inference_log', { filter: { model: 'credit' }, window: 'week' });
  expect(weeks.models[0]!.windows.map((w) => [new Date(w.start).getUTCDay(), w.records])).toEqual([
    [1, 7 * PER_DAY],
    [1, 7 * PER_DAY],
  ]);
  const hours = await monitorLog(db, schema, 'inference_log', {
    filter: { model: 'credit', since: new Date(START), until: new Date(START + 6 * 3_600_000) },
    window: 'hour',
    minCount: 10,
  });
  expect(hours.models[0]!.windows.map((w) => w.records).reduce((a, b) => a + b, 0)).toBe(
    onDay(1).filter((x) => x.record.started_at.getTime() < START + 6 * 3_600_000).length,
  );
  expect(hours.models[0]!.windows).toHaveLength(6);
});

test('options are checked: an unknown or invalid option throws naming it', async () => {
  await expect(monitorLog(db, schema, 'inference_log', { windw: 'day' } as never)).rejects.toThrow(/unknown option "windw"/);
  await expect(monitorLog(db, schema, 'inference_log', { window: 'month' as never })).rejects.toThrow(
    /"window" must be one of hour, day, week/,
  );
  await expect(monitorLog(db, schema, 'inference_log', { prediction: { kind: 'argmax', cut: 1 } as never })).rejects.toThrow(
    /unknown option "prediction.cut"/,
  );
  await expect(monitorLog(db, schema, 'inference_log', { thresholds: { psi: -1 } })).rejects.toThrow(
    /"thresholds.psi" must be a number > 0/,
  );
  await expect(monitorLog(db, schema, 'inference_log', { reference: { since: new Date(2), until: new Date(1) } })).rejects.toThrow(
    /must be before/,
  );
  await expect(monitorLog(db, schema, 'inference_log', { significance: 0 })).rejects.toThrow(/"significance" must be a number in \(0, 1\]/);
});

test('inferlog monitor: the same report as JSON, a table naming what drifted, --fail-on-drift, and usage errors naming the flag', async () => {
  const json = await cli(schema, ['monitor', '--model', 'credit', '--predict', 'threshold', '--output', 'probability', '--json']);
  expect(json.code).toBe(0);
  const parsed = JSON.parse(json.stdout) as MonitorReport;
  // PostgreSQL may add a bucket's values in another order from one run to the next: equal to 12 significant digits.
  const rounded = (r: MonitorReport) =>
    JSON.parse(JSON.stringify({ ...r, generated_at: null }), (_, v) => (typeof v === 'number' ? Number(v.toPrecision(12)) : v));
  expect(rounded(parsed)).toEqual(rounded(report));
  const text = await cli(schema, [
    'monitor',
    '--model',
    'credit',
    '--predict',
    'threshold:0.5',
    '--output',
    'probability',
    '--fail-on-drift',
  ]);
  expect(text.code).toBe(1);
  expect(text.stdout).toMatch(/credit version 1: 14,000 records in 14 windows/);
  expect(text.stdout).toMatch(/inputs\.features\[2\] +numeric .* 7: 2026-03-09 2026-03-10/);
  expect(text.stdout).not.toMatch(/inputs\.features\[1\]/);
  expect(text.stdout.match(/DEGRADED/g)).toHaveLength(DAYS - LABEL_DAY + 1);
  const all = await cli(schema, [
    'monitor',
    '--model',
    'credit',
    '--all',
    '--reference',
    '2026-03-02..2026-03-09',
    '--since',
    '2026-03-09',
  ]);
  expect(all.code).toBe(0);
  expect(all.stdout).toMatch(/inputs\.features\[1\] +numeric/);
  for (const [args, message] of [
    [['--window', 'month'], /--window.*month/],
    [['--reference', 'yesterday'], /--reference must be first, previous or SINCE\.\.UNTIL/],
    [['--predict', 'softmax'], /--predict must be argmax, regression, threshold/],
    [['--feature-threshold', 'x=psi'], /--feature-threshold must be NAME=psi:X,js:Y/],
    [['--significance', '2'], /--significance must be a number > 0 and ≤ 1/],
  ] as const) {
    const run = await cli(schema, ['monitor', ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  }
});

test('the HTML report: a chart per feature, drift and degraded windows marked, names from the log inert; checked in headless Chromium', async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: this test opens the report in headless Chromium. Install it: apt-get update && apt-get install -y chromium`,
    );
  const file = join(dir, 'monitor.html');
  const run = await cli(schema, ['monitor', '--predict', 'threshold', '--output', 'probability', '--html', file]);
  expect(run.code).toBe(0);
  expect(run.stdout).toContain(`wrote ${file}`);
  const document = readFileSync(file, 'utf8');
  expect(document).not.toMatch(/<(script|img|iframe|object|embed|link|a)\b|\shref=|@import|url\(/i);
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const url = pathToFileURL(file).href;
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
    await page.goto(url);
    const figures = await page.$$eval('section[data-model="credit"] figure[data-feature]', (all) =>
      all.map((f) => ({
        feature: f.getAttribute('data-feature'),
        drifted: Number(f.getAttribute('data-drifted')),
        shaded: f.querySelectorAll('rect.drift-window').length,
        bars: f.querySelectorAll('rect.bar').length,
        caption: f.querySelector('figcaption')?.textContent ?? '',
      })),
    );
    expect(figures.map((f) => f.feature)).toEqual(expect.arrayContaining(credit.features.map((f) => f.name)));
    expect(figures).toHaveLength(credit.features.length);
    // The drifted feature comes first, its shift days shaded; every other feature has none.
    expect(figures[0]).toMatchObject({
      feature: 'inputs.features[2]',
      drifted: DAYS - SHIFT_DAY + 1,
      shaded: DAYS - SHIFT_DAY + 1,
      bars: DAYS - 1,
    });
    expect(figures[0]!.caption).toContain('drift in 7 windows: 2026-03-09, 2026-03-10');
    for (const f of figures.slice(1)) expect(f).toMatchObject({ drifted: 0, shaded: 0 });
    const quality = await page.$eval('section[data-model="credit"] figure[data-quality]', (f) => ({
      degraded: Number(f.getAttribute('data-degraded')),
      shaded: f.querySelectorAll('rect.drift-window').length,
    }));
    expect(quality).toEqual({ degraded: DAYS - LABEL_DAY + 1, shaded: DAYS - LABEL_DAY + 1 });
    // The hostile model's names are text on the page, nothing of them ran or loaded.
    const headings = await page.$$eval('h2', (all) => all.map((h) => h.textContent));
    expect(headings).toContain(`${EVIL} version 1`);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.$$eval('body script, body img, body iframe, a[href]', (all) => all.length)).toBe(0);
    expect(requests).toEqual([url]);
    // Kept for a person to look at when INFERLOG_TEST_ARTIFACTS names a directory.
    const artifacts = process.env.INFERLOG_TEST_ARTIFACTS;
    if (artifacts) {
      await page.screenshot({ path: join(artifacts, 'monitor-top.png') });
      await page.locator('section[data-model="credit"]').screenshot({ path: join(artifacts, 'monitor-credit.png') });
      copyFileSync(file, join(artifacts, 'monitor.html'));
    }
  } finally {
    await browser.close();
  }
}, 60_000);
