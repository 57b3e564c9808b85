// The console's statistics and monitoring pages in a real browser, over ten days of records written the
// way a writer does: a credit model (features[2] shifted from day 8), a chat model reporting token usage,
// a model whose name and tensor name are markup, and small models beyond the charts' eight. The figures
// shown must equal what the test computes from what it wrote; the monitor must flag the shifted feature
// and nothing else of the credit model; every planted value must stay text.
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { InferenceRecord } from '@inferlog/core';
import { cut, decimal, integer, percent } from '@inferlog/core/audit';
import type { RunningConsole } from '@inferlog/console';
import { artifactDir, consolePage, expectInert, openBrowser, serveConsole } from './console-helpers';
import { openWriter, record } from './cli-helpers';
import { ALL_PLANTED, PLANTED, plantedRecord } from './console-planted';
import { dropSchema, endPool, uniqueSchema } from './helpers';
import { DAY, SHIFT_DAY, traffic } from './monitor-traffic';

const schema = uniqueSchema('charts');
const DAYS = 10;
/** Day 1 is ten days ago (UTC midnight); day 10 is yesterday, so every record lies in the past. */
const START = Math.floor(Date.now() / DAY) * DAY - DAYS * DAY;
const EVIL = ALL_PLANTED;
const FILLERS = Array.from({ length: 7 }, (_, i) => `filler-${i + 1}`);
const dayOf = (r: InferenceRecord) => r.started_at.toISOString().slice(0, 10);
const dayAt = (d: number) => new Date(START + (d - 1) * DAY).toISOString().slice(0, 10);
let written: InferenceRecord[] = [];
let running: RunningConsole;
let browser: Browser;

/** PostgreSQL's percentile_cont: linear interpolation between the closest ranks. */
function percentile(values: number[], f: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = f * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

beforeAll(async () => {
  const credit = [...traffic(200, { days: DAYS, start: START, labelled: 0 })].map((x) => x.record);
  const chat: InferenceRecord[] = [];
  for (let d = 1; d <= DAYS; d++) {
    if (d === 5) continue; // a day without chat records: null in its series
    for (let k = 0; k < 8; k++)
      chat.push(
        record(10_000 + d * 10 + k, START + (d - 1) * DAY + k * 3 * 3_600_000 + 1_800_000, {
          model_name: 'chat',
          model_version: '4o',
          protocol: 'openai',
          route: '/v1/chat/completions',
          path: '/v1/chat/completions',
          latency_ms: 80 + ((k * 53 + d * 17) % 300) + k / 8,
          status: k === 3 && d % 2 === 0 ? 502 : 200,
          // A stream that failed midway: a 200 with an error counts as an error.
          error: d === 7 && k === 6 ? { message: 'stream broke' } : null,
          inputs: null,
          outputs: null,
          usage: { input_tokens: 10 + k, output_tokens: 5 * k + d },
        }),
      );
  }
  const planted: InferenceRecord[] = [];
  for (let d = 1; d <= DAYS; d++)
    for (let k = 0; k < 3; k++)
      planted.push(
        record(20_000 + d * 10 + k, START + (d - 1) * DAY + (k + 1) * 5 * 3_600_000, {
          model_name: EVIL,
          latency_ms: 30 + k * 7 + d,
          inputs: [{ name: EVIL, shape: [1, 2], datatype: 'FP32', data: [k, d] }],
        }),
      );
  // And one record with markup in every column (its model name is the same markup).
  planted.push(plantedRecord(record(29_999, START + DAY + 3_600_000, { latency_ms: 44 })));
  const fillers = FILLERS.map((name, i) => record(30_000 + i, START + 3 * DAY + i * 60_000, { model_name: name, latency_ms: 10 + i }));
  written = [...credit, ...chat, ...planted, ...fillers].sort((a, b) => a.started_at.getTime() - b.started_at.getTime());
  const writer = await openWriter(schema, 'charts-writer');
  await writer.write(written);
  await writer.close();
  running = await serveConsole(schema);
  browser = await openBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await running?.close();
  await dropSchema(schema);
  await endPool();
});

/** What the page must show of one model on one day, computed from the records written. */
function expectedRow(model: string, day: string, usage: boolean): string[] {
  const rows = written.filter((r) => r.model_name === model && dayOf(r) === day);
  const errors = rows.filter((r) => (r.status !== null && r.status >= 400) || r.error !== null).length;
  const latencies = rows.map((r) => r.latency_ms);
  const tokens = (field: 'input_tokens' | 'output_tokens') =>
    rows.reduce(
      (n, r) =>
        n + (typeof (r.usage as Record<string, unknown> | null)?.[field] === 'number' ? (r.usage as Record<string, number>)[field]! : 0),
      0,
    );
  return [
    day,
    cut(model, 60),
    integer(rows.length),
    integer(errors),
    percent(errors / rows.length),
    decimal(percentile(latencies, 0.5), 1),
    decimal(percentile(latencies, 0.95), 1),
    usage ? integer(tokens('input_tokens')) : '–',
    usage ? integer(tokens('output_tokens')) : '–',
  ];
}

test('statistics: a uPlot chart per figure, a table equal to what was written, links to the records of a model and day, planted markup inert', async () => {
  const { page, requests, errors } = await consolePage(browser);
  await page.goto(`${running.url}stats`);
  await expect(page.locator('main .hint').first().textContent()).resolves.toContain('Since is not given: the last 30 days are shown.');
  // Six charts (requests, error rate, p50, p95, input and output tokens), each drawn by uPlot into one canvas.
  await page.locator('[data-chart] canvas').first().waitFor();
  expect(await page.$$eval('[data-chart]', (all) => all.map((a) => a.querySelectorAll('canvas').length))).toEqual([1, 1, 1, 1, 1, 1]);
  expect(await page.locator('.chart h3').allTextContents()).toEqual([
    'Requests per day',
    'Error rate per day',
    'Latency p50 per day',
    'Latency p95 per day',
    'Input tokens per day',
    'Output tokens per day',
  ]);
  // One series per model, the eight with most records; the chat model's day 5 has no records: null.
  const requestsChart = JSON.parse((await page.locator('script#chart-requests').textContent())!) as {
    x: number[];
    series: { label: string; values: (number | null)[] }[];
  };
  expect(requestsChart.x).toEqual(Array.from({ length: DAYS }, (_, i) => (START + i * DAY) / 1000));
  // Names are cut to 40 characters in the legend (the table has more).
  expect(requestsChart.series.map((s) => s.label)).toEqual(['credit', 'chat', cut(EVIL, 40), ...FILLERS.slice(0, 5)]);
  expect(requestsChart.series[1]!.values).toEqual([8, 8, 8, 8, null, 8, 8, 8, 8, 8]);
  const tokensChart = JSON.parse((await page.locator('script#chart-input-tokens').textContent())!) as { series: { label: string }[] };
  expect(tokensChart.series.map((s) => s.label)).toEqual(['chat']);
  await expect(page.locator('.stats-others').textContent()).resolves.toMatch(
    /^2 other models are left out of the charts and the table \(2 records\): .* filler-6 \(1\), filler-7 \(1\)\.$/,
  );

  // The table: newest day first, models in the charts' order, every figure as the test computes it.
  const order = ['credit', 'chat', EVIL, ...FILLERS.slice(0, 5)];
  const expected: string[][] = [];
  for (let d = DAYS; d >= 1; d--)
    for (const model of order)
      if (written.some((r) => r.model_name === model && dayOf(r) === dayAt(d)))
        expected.push(expectedRow(model, dayAt(d), model === 'chat'));
  const shown = await page.$$eval('table.stats tbody tr', (rows) =>
    rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent!.trim())),
  );
  expect(shown).toEqual(expected);
  await page.screenshot({ path: join(artifactDir(), 'stats.png'), fullPage: true });

  // The legend and the table show the planted name as text (cut), its title attribute more of it; nothing of it ran.
  expect(await page.locator('.chart .u-legend').first().textContent()).toContain(cut(EVIL, 40));
  const evilLink = page.locator('table.stats td.model a').nth(2);
  await expect(evilLink.getAttribute('title')).resolves.toBe(cut(EVIL, 300));
  expect(
    await page.$$eval('table.stats td.model a', (all) => all.map((a) => a.getAttribute('title')).filter((t) => t!.includes('<')).length),
  ).toBe(10);
  await expectInert(page, requests, errors, new URL(running.url).origin);

  // A model's name leads to its records of that day.
  const credit = new URL(
    (await page
      .locator('table.stats td.model a', { hasText: /^credit$/ })
      .first()
      .getAttribute('href'))!,
    running.url,
  );
  expect(Object.fromEntries(credit.searchParams)).toEqual({
    model: 'credit',
    since: dayAt(DAYS),
    until: new Date(START + DAYS * DAY).toISOString().slice(0, 10),
  });
  const evil = new URL((await evilLink.getAttribute('href'))!, running.url);
  expect(evil.searchParams.get('model')).toBe(EVIL);
  await page
    .locator('table.stats tbody tr', { hasText: dayAt(7) })
    .locator('td.model a', { hasText: /^chat$/ })
    .click();
  await page.waitForURL(/\/records\?/);
  const listed = page.locator('table.records tbody tr');
  await expect(listed.count()).resolves.toBe(8);
  expect(new Set(await listed.locator('td:nth-child(2)').allTextContents())).toEqual(new Set(['chat']));
  expect((await listed.locator('td.time').allTextContents()).every((t) => t.startsWith(dayAt(7)))).toBe(true);
  await page.close();
}, 60_000);

test('statistics without JavaScript: the same table; a filter narrows it, and one that cannot be read says so', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1366, height: 900 } });
  try {
    const page = await context.newPage();
    await page.goto(`${running.url}stats?model=chat&status=5xx&since=${dayAt(1)}`);
    expect(await page.locator('[data-chart] canvas').count()).toBe(0);
    const rows = await page.$$eval('table.stats tbody tr', (all) =>
      all.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent!.trim())),
    );
    // 502s on even days only; each day's single record is an error.
    expect(rows.map((r) => [r[0], r[1], r[2], r[3]])).toEqual([10, 8, 6, 4, 2].map((d) => [dayAt(d), 'chat', '1', '1']));
    // The link keeps the status filter, so the records listed are those counted.
    const href = new URL((await page.locator('table.stats td.model a').first().getAttribute('href'))!, running.url);
    expect(href.searchParams.get('status')).toBe('5xx');
    await page.goto(`${running.url}stats?since=last-tuesday`);
    await expect(page.locator('#problem-since').textContent()).resolves.toMatch(/is not a time/);
    await expect(page.locator('main .hint', { hasText: 'last 30 days' }).count()).resolves.toBe(1);
  } finally {
    await context.close();
  }
});

test('monitoring: the shifted feature flagged and nothing else of the credit model; the summary; planted names inert', async () => {
  const { page, requests, errors } = await consolePage(browser);
  await page.goto(`${running.url}monitor`);
  await expect(page.locator('input[name="since"]').inputValue()).resolves.toBe('14d');
  await expect(page.locator('form.monitor-form').getAttribute('data-busy')).resolves.toMatch(/many seconds/);
  expect(await page.locator('.monitor').count()).toBe(0);
  await page.locator('button', { hasText: 'Run the monitor' }).click();
  await page.waitForURL(/run=1/);
  const credit = page.locator('.monitor section[data-model="credit"]');
  await credit.waitFor();
  const drifted = await credit
    .locator('figure[data-feature]')
    .evaluateAll((all) => all.filter((f) => f.getAttribute('data-drifted') !== '0').map((f) => f.getAttribute('data-feature')));
  expect(drifted).toEqual(['inputs.features[2]']);
  const shifted = Array.from({ length: DAYS - SHIFT_DAY + 1 }, (_, i) => dayAt(SHIFT_DAY + i));
  await expect(credit.locator('figure[data-feature="inputs.features[2]"] figcaption').textContent()).resolves.toContain(
    `drift in 3 windows: ${shifted.join(', ')}`,
  );
  // The summary: eleven model versions judged (the planted record's version is markup too), one drifted feature, quality not measured; the flag named by model.
  const figures = await page.$$eval('.monitor-summary .summary div', (all) =>
    all.map((d) => `${d.querySelector('dt')!.textContent}: ${d.querySelector('dd')!.textContent}`),
  );
  expect(figures).toEqual([
    `Models judged: 11 model versions (${written.length} records)`,
    'Drifted features: 1 feature',
    'Degraded quality windows: not measured (no prediction rule)',
    expect.stringMatching(/^Features not compared: \d+ features$/),
    'Left out: nothing',
  ]);
  await expect(page.locator('ul.monitor-flags li').allTextContents()).resolves.toEqual([
    'credit version 1: drift in inputs.features[2] (3 windows)',
  ]);
  // The report's charts are styled by core's MONITOR_CSS, served inside .monitor in the console's style sheet.
  expect(await credit.locator('svg .bar.drift').count()).toBe(3);
  expect(
    await credit
      .locator('svg .bar.drift')
      .first()
      .evaluate((e) => (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } }).getComputedStyle(e).fill),
  ).toBe('rgb(192, 19, 43)');
  await page.screenshot({ path: join(artifactDir(), 'monitor.png'), fullPage: false });

  // The planted model and its tensor: names as text.
  const sections = await page.$$eval('.monitor section', (all) =>
    all.map((s) => ({
      heading: s.querySelector('h2')!.textContent,
      features: [...s.querySelectorAll('figure[data-feature]')].map((f) => f.getAttribute('data-feature')),
    })),
  );
  // Headings carry the names cut (300 characters of a model, 100 of a version); the data attributes whole.
  expect(sections.find((s) => s.heading === `${cut(EVIL, 300)} version 1`)?.features).toContain(`inputs.${EVIL}[0]`);
  expect(sections.some((s) => s.heading === `${cut(EVIL, 300)} version ${cut(EVIL, 100)}`)).toBe(true);
  const text = (await page.locator('main').textContent()) ?? '';
  for (const planted of PLANTED) expect(text).toContain(planted);
  await expectInert(page, requests, errors, new URL(running.url).origin);
  await page.close();
}, 60_000);

test('monitoring: a field that cannot be read, and options monitorLog refuses, are shown beside the form', async () => {
  const { page, errors } = await consolePage(browser);
  await page.goto(`${running.url}monitor?run=1&output=probability&since=soon`);
  await expect(page.locator('#problem-output').textContent()).resolves.toBe('needs a prediction rule (argmax, threshold or regression)');
  await expect(page.locator('#problem-since').textContent()).resolves.toMatch(/is not a time/);
  expect(await page.locator('.monitor').count()).toBe(0);
  const res = await page.goto(`${running.url}monitor?run=1&model=credit&predict=threshold&output=probability&classes=no,maybe,yes`);
  expect(res?.status()).toBe(200);
  await expect(page.locator('#monitor-problem').textContent()).resolves.toBe(
    'The monitor could not run with these options: "prediction.classes" of a threshold rule must be [negative, positive]',
  );
  await expect(page.locator('select[name="predict"]').inputValue()).resolves.toBe('threshold');
  await expect(page.locator('input[name="classes"]').inputValue()).resolves.toBe('no,maybe,yes');
  // A rule with no ground truth logged: measured nowhere, and said so.
  await page.goto(`${running.url}monitor?run=1&model=credit&predict=threshold&output=probability&classes=no,yes`);
  await expect(
    page.locator('.monitor-summary .summary div', { hasText: 'Degraded quality windows' }).locator('dd').textContent(),
  ).resolves.toBe('not measured (no ground truth in the range)');
  await expect(page.locator('.monitor section[data-model="credit"] h3').first().textContent()).resolves.toBe('Model quality');
  expect(errors).toEqual([]);
  await page.close();
});
