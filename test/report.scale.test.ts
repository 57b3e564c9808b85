// At scale (`pnpm test:scale`; not in the normal suite): an evidence report of one month of a log of
// 1,000,000 records over two months, with oversight events. Times the aggregates alone (they read the
// month's partition only), verification of the whole log, and the whole report with its export.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceLogger } from '@inferlog/core';
import { evidenceReport, renderEvidenceReport, verifyLog } from '@inferlog/core/audit';
import { inSnapshot } from '../packages/core/src/audit/cursor';
import { loggedIn } from '../packages/core/src/audit/report-logged';
import { oversightIn } from '../packages/core/src/audit/report-oversight';
import { retentionIn } from '../packages/core/src/audit/report-retention';
import { openWriter, record, type Writer } from './cli-helpers';
import { db, dropSchema, endPool, logOptions, uniqueSchema } from './helpers';

const schema = uniqueSchema('report_scale');
const N = Number(process.env.REPORT_SCALE_N ?? 1_000_000);
const EVENTS = 2000;
const dir = mkdtempSync(join(process.env.REPORT_SCALE_DIR ?? tmpdir(), 'inferlog-report-scale-'));
const june = Date.UTC(2026, 5, 1);
const july = Date.UTC(2026, 6, 1);
/** Spread over June and July: half the records in each. */
const spacing = (july - june) / (N / 2);
const figures: string[] = [];
let writer: Writer;
let reviews: InferenceLogger;

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

const embedded = process.env.INFERLOG_TEST_EMBEDDED === '1';
(embedded ? describe.skip : describe)(`report at scale (${N.toLocaleString('en')} records; needs a real PostgreSQL)`, () => {
  beforeAll(async () => {
    writer = await openWriter(schema, 'scale-api');
    const began = Date.now();
    for (let from = 0; from < N; from += 10_000) {
      await writer.write(
        Array.from({ length: Math.min(10_000, N - from) }, (_, k) => {
          const i = from + k;
          return record(i, june + Math.floor(i * spacing), {
            model_name: i % 3 === 0 ? 'fraud-detector' : 'credit-scorer',
            latency_ms: 5 + (i % 97),
            ...(i % 50 === 0 ? { status: 500 } : {}),
          });
        }),
      );
    }
    await db.none('ANALYZE $1:name.inference_log', [schema]);
    figures.push(`wrote ${N.toLocaleString('en')} records (sealed, COPY) in ${seconds(began)} s`);
    reviews = new InferenceLogger(logOptions(schema, { service: 'review-desk' }));
    await reviews.ready();
    for (let i = 0; i < EVENTS; i += 100)
      await Promise.all(
        Array.from({ length: 100 }, (_, k) =>
          reviews.event(`r-${(i + k) * 7}`, { type: k % 4 ? 'human_review' : 'override', actor: `reviewer-${k % 9}` }),
        ),
      );
  }, 3_600_000);

  afterAll(async () => {
    await reviews?.close();
    await writer?.close();
    await dropSchema(schema);
    await endPool();
    rmSync(dir, { recursive: true, force: true });
    console.log(`report scale test:\n  ${figures.join('\n  ')}`);
  });

  test('the aggregates of one month, verification of the whole log, and the report with its export', async () => {
    const since = new Date(june);
    const until = new Date(july);
    let began = Date.now();
    const logged = await inSnapshot(db, async (t) => {
      const logged = await loggedIn(t, schema, 'inference_log', since, until);
      await retentionIn(t, schema, 'inference_log', since, until);
      await oversightIn(t, schema, 'inference_log', since, until);
      return logged;
    });
    figures.push(`aggregates of June (${logged.totals.inferences.toLocaleString('en')} records): ${seconds(began)} s`);
    expect(logged.totals.inferences).toBe(N / 2);

    began = Date.now();
    const verified = await verifyLog(db, schema, 'inference_log');
    figures.push(`verifyLog of the whole log (${verified.rows.toLocaleString('en')} rows): ${seconds(began)} s`);
    expect(verified.ok).toBe(true);

    began = Date.now();
    const report = await evidenceReport(db, schema, 'inference_log', { since, until, exportTo: join(dir, 'june.jsonl') });
    const took = seconds(began);
    began = Date.now();
    const html = renderEvidenceReport(report);
    figures.push(
      `evidenceReport of June with its export: ${took} s; rendered in ${seconds(began)} s, ${(html.length / 1024).toFixed(0)} KiB of HTML`,
    );
    expect(report.verification.ok).toBe(true);
    expect(report.export?.records).toBe(N / 2);
    expect(report.oversight.inferences_with_events).toBeGreaterThan(0);
  }, 3_600_000);
});
