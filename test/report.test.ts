// `inferlog report`: a real log (two models and one whose name is markup, oversight events, a retention
// run, a legal hold), the report written with an export by the CLI, then read the way an authority
// would: opened in headless Chromium (what the page shows, that nothing is loaded or run), printed to PDF.
// A tampered log gives exit 1 and a report that names the problem.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { InferenceLogger } from '@inferlog/core';
import { applyRetention, setHold, type EvidenceReport } from '@inferlog/core/audit';
import { loggedIn } from '../packages/core/src/audit/report-logged';
import { oversightIn } from '../packages/core/src/audit/report-oversight';
import { partitionName } from '../packages/core/src/sink/partitions';
import type { Queryable } from '../packages/core/src/sink/pgp';
import { cli, openWriter, record, type Writer } from './cli-helpers';
import { asAttacker, createdMonthsAgo, db, dropSchema, endPool, logOptions, tempDir, uniqueSchema } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
const schema = uniqueSchema('report');
const dir = tempDir('inferlog-report-');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Markup a client could send as a model name (in the path) and a reviewer's client as an actor.
const EVIL_MODEL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
const EVIL_ACTOR = '<img src=x onerror="window.__pwned = 3"><script>window.__pwned = 4</script>';

let writer: Writer;
let reviews: InferenceLogger;
let browser: Browser;
let since: string;
let until: string;

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every table of the page, as it shows: its caption and the text of each cell, row by row. */
async function tables(page: Page): Promise<Map<string, string[][]>> {
  const list: [string, string[][]][] = await page.$$eval('table', (all) =>
    all.map((t) => [
      t.querySelector('caption')?.textContent ?? '',
      [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.textContent ?? '')),
    ]),
  );
  return new Map(list);
}

/** Opens a file in a new page that may load nothing but the file itself: every other request is aborted and listed. */
async function open(file: string): Promise<{ page: Page; requests: string[] }> {
  const url = pathToFileURL(file).href;
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
  await page.goto(url);
  return { page, requests };
}

/** A number as the page shows it: digits grouped by a narrow no-break space. */
const shown = (text: string) => text.replace(/\u202f/g, '');

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: this test opens the report in headless Chromium. Install it: apt-get update && apt-get install -y chromium`,
    );
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });

  writer = await openWriter(schema, 'api');
  await createdMonthsAgo(schema, 9);
  const now = Date.now();
  const base = now - 6 * HOUR;
  // Eight months ago: dropped by the retention run below. Sixty and three days ago: kept, but before the period.
  await writer.write(Array.from({ length: 4 }, (_, i) => record(200 + i, now - 240 * DAY + i)));
  await writer.write(Array.from({ length: 2 }, (_, i) => record(400 + i, now - 60 * DAY + i)));
  await writer.write(Array.from({ length: 2 }, (_, i) => record(300 + i, now - 3 * DAY + i)));
  await writer.write([
    ...Array.from({ length: 30 }, (_, i) =>
      record(i, base + i * 1000, {
        model_name: 'credit-scorer',
        latency_ms: 10 + i,
        ...(i % 10 === 0 ? { status: 500, error: { message: 'model crashed' } } : {}),
      }),
    ),
    ...Array.from({ length: 12 }, (_, i) =>
      record(30 + i, base + 60_000 + i * 1000, {
        model_name: 'fraud-detector',
        protocol: 'kserve-v1',
        route: '/v1/models/:model:predict',
        path: '/v1/models/fraud-detector:predict',
        latency_ms: 20,
      }),
    ),
    ...Array.from({ length: 3 }, (_, i) => record(100 + i, base + 120_000 + i * 1000, { model_name: EVIL_MODEL, latency_ms: 7 })),
  ]);

  reviews = new InferenceLogger(logOptions(schema, { service: 'review-desk' }));
  await reviews.ready();
  const r3 = await db.one("SELECT id FROM $1:name.inference_log WHERE request_id = 'r-3'", [schema]);
  await reviews.event('r-1', { type: 'human_review', actor: 'reviewer-1', data: { decision: 'confirmed' } });
  await reviews.event('r-2', { type: 'human_review', actor: 'reviewer-1', data: { decision: 'confirmed' } });
  await reviews.event(r3.id, { type: 'override', actor: 'reviewer-2', data: { from: 0.2, to: 0.7 } });
  await reviews.event('r-1', { type: 'second_verifier', actor: 'reviewer-2', data: { agrees: true } });
  await reviews.event('r-100', { type: 'incident', actor: EVIL_ACTOR, data: { severity: 'low' } });
  await reviews.event('r-unknown', { type: 'feedback', data: { helpful: false } });

  await applyRetention(db, schema, 'inference_log', { keep: '6mo', actor: 'ops@example.org' });
  await setHold(db, schema, 'inference_log', { active: true, reason: 'case C-7/26', actor: 'legal@example.org' });
  since = new Date(now - 2 * DAY).toISOString();
  until = new Date(Date.now() + 1000).toISOString();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await reviews?.close();
  await writer?.close();
  await dropSchema(schema);
  await endPool();
});

describe('a report with an export', () => {
  const out = join(dir, 'report.html');
  const exported = join(dir, 'period.jsonl');
  let report: EvidenceReport;
  let page: Page;
  let requests: string[];

  beforeAll(async () => {
    const run = await cli(schema, ['report', '--since', since, '--until', until, '--out', out, '--export', exported, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    report = JSON.parse(run.stdout);
    ({ page, requests } = await open(out));
  }, 60_000);

  afterAll(() => page?.close());

  test('the data: what was logged in the period, oversight, retention and hold, verification, and the export of the same rows', () => {
    expect(report.period).toEqual({ since, until });
    expect(report.logged.totals).toMatchObject({ inferences: 45, errors: 3 });
    const models = Object.fromEntries(report.logged.by_model.map((m) => [m.model_name, [m.inferences, m.errors]]));
    expect(models).toEqual({ 'credit-scorer': [30, 3], 'fraud-detector': [12, 0], [EVIL_MODEL]: [3, 0] });
    expect(report.logged.by_protocol.values.map((v) => [v.value, v.inferences])).toEqual([
      ['oip-v2', 33],
      ['kserve-v1', 12],
    ]);
    expect(report.logged.by_status.values.map((v) => [v.value, v.inferences])).toEqual([
      ['2xx', 42],
      ['5xx', 3],
    ]);
    expect(report.logged.daily.reduce((n, d) => n + d.count, 0)).toBe(45);
    expect(report.oversight).toMatchObject({ events: 6, actors: 3, subjects: 5, inferences_with_events: 4, events_about_inferences: 5 });
    expect(report.oversight.by_type).toContainEqual({ value: 'human_review', events: 2 });
    expect(report.oversight.by_actor).toContainEqual({ value: null, events: 1 });
    expect(report.retention).toMatchObject({ last_keep: '6mo', dropped: { rows: 4, stretches: 1 } });
    expect(report.retention.runs).toHaveLength(1);
    expect(report.retention.runs[0]).toMatchObject({ actor: 'ops@example.org', action: 'retention', details: { rows: 4 } });
    expect(report.retention.hold).toMatchObject({
      now: { active: true, reason: 'case C-7/26', actor: 'legal@example.org' },
      active_at_start: false,
      in_force_in_period: true,
    });
    expect(report.verification).toMatchObject({ scope: 'whole log', ok: true, problems: [] });
    // Four records before the period and the 45 in it; the six events.
    expect(report.verification.rows).toBe(4 + 45 + 6);
    expect(report.export).toMatchObject({ records: 45, events: 5, manifest_sha256: sha256(`${exported}.manifest.json`) });
    expect(report.export!.records_sha256).toBe(sha256(exported));
  });

  test('the page loads nothing but itself and shows its sections, the counts, the verification and the manifest hash', async () => {
    expect(requests).toEqual([pathToFileURL(out).href]);
    const headings = await page.$$eval('h2', (all) => all.map((h) => h.textContent));
    expect(headings).toEqual([
      'Contents',
      '1. What was logged',
      '2. Completeness per writer',
      '3. Retention and legal holds',
      '4. Oversight activity',
      '5. Verification',
      '6. Export',
      '7. About this report',
    ]);
    const t = await tables(page);
    const fact = (caption: string, label: string) => t.get(caption)!.find((row) => row[0] === label)?.[1];
    expect(fact('Totals', 'Inferences')).toBe('45');
    expect(fact('Totals', 'Failed')).toBe('3');
    expect(fact('Totals', 'Error rate (%)')).toBe('6.67');
    const perModel = new Map(t.get('Per model')!.map((row) => [row[0], row.slice(1, 3)]));
    expect(perModel.get('credit-scorer')).toEqual(['30', '3']);
    expect(perModel.get('fraud-detector')).toEqual(['12', '0']);
    expect(perModel.get(EVIL_MODEL)).toEqual(['3', '0']);
    expect(fact('Oversight in the period', 'Events recorded')).toBe('6');
    // Two writers, both running (registered within two statement intervals), nothing stated lost.
    expect(fact('Completeness in the period', 'Writers')).toBe('2');
    expect(fact('Completeness in the period', 'Records stated lost')).toBe('0');
    expect(fact('Summary', 'Completeness in the period')).toBe('complete');
    expect(fact('Oversight in the period', "The period's inferences with at least one event")).toBe('4 of 45 (8.89 %)');
    expect(fact('Legal hold', 'Hold now')).toMatch(/^ON since \S+Z, set by legal@example.org \(reason: case C-7\/26\)$/);
    expect(fact('Retention', 'Period kept by the last run')).toBe('6mo');
    expect(shown(fact('Verification', 'Rows checked (records and events)')!)).toBe('55');
    expect(fact('Summary', 'Verification of the whole log')).toBe('OK');
    expect(await page.textContent('.verdict')).toMatch(/^Verified: every row of the log/);
    const manifestHash = sha256(`${exported}.manifest.json`);
    expect(await page.textContent('#manifest-sha256')).toBe(manifestHash);
    expect(fact('Summary', 'Export manifest SHA-256')).toBe(manifestHash);
  });

  test('markup in a model name and an actor shows as text and does not run', async () => {
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.$$eval('script, img, iframe, object, embed, link, base, form', (all) => all.length)).toBe(0);
    const text = await page.textContent('body');
    expect(text).toContain(EVIL_MODEL);
    expect(text).toContain(EVIL_ACTOR);
    const csp = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+';/);
    // The style sheet applies (its hash is the one the policy allows): the verdict box has its border.
    const border = await page.$eval(
      '.verdict',
      (e) => (globalThis as unknown as { getComputedStyle(e: unknown): { borderTopWidth: string } }).getComputedStyle(e).borderTopWidth,
    );
    expect(border).toBe('3px');
  });

  test('it prints: a PDF of A4 pages, each section starting a page', async () => {
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const pages = pdf.toString('latin1').match(/\/Type\s*\/Page(?![a-z])/g)?.length ?? 0;
    // The header and contents, then six sections, each from a new page.
    expect(pages).toBeGreaterThanOrEqual(7);
    // A4 is 595 x 842 points.
    expect(pdf.toString('latin1')).toMatch(/\/MediaBox\s*\[0 0 595(\.\d+)? 842(\.\d+)?\]/);
  });
});

/** A connection that has PostgreSQL plan each statement instead of running it, and keeps the plans. */
function planner(plans: unknown[]): Queryable {
  const explain = async (sql: string, params?: unknown) => {
    const [row] = await db.any(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    plans.push(row['QUERY PLAN']);
    return row;
  };
  return { any: async (sql: string, params?: unknown) => [await explain(sql, params)], one: explain } as unknown as Queryable;
}

/** The tables and partitions a plan reads. */
function relations(plan: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(plan)) for (const p of plan) relations(p, found);
  else if (plan && typeof plan === 'object')
    for (const [key, value] of Object.entries(plan)) key === 'Relation Name' ? found.add(value as string) : relations(value, found);
  return found;
}

test("the period's aggregates read only the partitions of the period", async () => {
  const plans: unknown[] = [];
  const [from, to] = [new Date(since), new Date(until)];
  await loggedIn(planner(plans), schema, 'inference_log', from, to);
  await oversightIn(planner(plans), schema, 'inference_log', from, to);
  const read = relations(plans);
  expect(read).toContain(partitionName('inference_log', new Date(Date.parse(until) - 1)));
  expect(read).toContain('inference_log_event');
  // The month sixty days back holds records, but none of the period.
  expect(read).not.toContain(partitionName('inference_log', new Date(Date.now() - 60 * DAY)));
  expect([...read].filter((r) => r !== 'inference_log_event').every((r) => r.startsWith('inference_log_p'))).toBe(true);
});

test('usage: an empty period, a missing --out, a report that would overwrite its own export: exit 2', async () => {
  const empty = await cli(schema, ['report', '--since', '2026-05-02', '--until', '2026-05-01', '--out', join(dir, 'x.html')]);
  expect(empty.code).toBe(2);
  expect(empty.stderr).toMatch(/--since .* must be before --until/);
  expect((await cli(schema, ['report', '--since', '1d'])).code).toBe(2);
  const clash = await cli(schema, [
    'report',
    '--since',
    '1d',
    '--out',
    join(dir, 'e.jsonl.manifest.json'),
    '--export',
    join(dir, 'e.jsonl'),
  ]);
  expect(clash.code).toBe(2);
  expect(clash.stderr).toMatch(/would overwrite a file of the export/);
  expect(existsSync(join(dir, 'e.jsonl'))).toBe(false);
});

test('a tampered log: exit 1, and the report is written and says so at the top, naming the changed row', async () => {
  const row = await db.one("SELECT id FROM $1:name.inference_log WHERE request_id = 'r-10'", [schema]);
  await asAttacker('UPDATE $1:name.inference_log SET status = 200, error = NULL WHERE id = $2', [schema, row.id]);
  const out = join(dir, 'tampered.html');
  const run = await cli(schema, ['report', '--since', since, '--until', until, '--out', out]);
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(new RegExp(`VERIFICATION FAILED \\(the report says so\\): row ${row.id} .* was changed`));
  const { page, requests } = await open(out);
  try {
    expect(requests).toHaveLength(1);
    const banner = await page.textContent('header .verdict.failed');
    expect(banner).toMatch(
      new RegExp(`^VERIFICATION FAILED: the log does not verify\\. First problem: row ${row.id} .* was changed after it was written`),
    );
    expect(await page.textContent('#verification ol.problems')).toContain(row.id);
    const summary = (await tables(page)).get('Summary')!;
    expect(summary.find((r) => r[0] === 'Verification of the whole log')?.[1]).toBe('FAILED (1 problem)');
    expect(summary.find((r) => r[0] === 'Export manifest SHA-256')?.[1]).toBe('no export made');
  } finally {
    await page.close();
  }
});
