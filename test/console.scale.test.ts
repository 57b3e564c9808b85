// At scale (`pnpm test:scale`; not in the normal suite): the console over a live log of 1,000,000 records
// spread over the last 14 days. The records list's first page must come in well under a second (no count,
// no sort of the table); the figures of the other pages are printed. CONSOLE_SCALE_N sets the number of
// records, CONSOLE_SCALE_KEEP=1 keeps the schema to look at afterwards.
import type { RunningConsole } from '@inferlog/console';
import { openWriter, record } from './cli-helpers';
import { serveConsole } from './console-helpers';
import { db, dropSchema, endPool, uniqueSchema } from './helpers';

const schema = uniqueSchema('console_scale');
const N = Number(process.env.CONSOLE_SCALE_N ?? 1_000_000);
const SPAN = 14 * 86_400_000;
const figures: string[] = [];
let running: RunningConsole;

/** GET a console page: its status, its body, the milliseconds it took. */
async function timed(path: string): Promise<{ status: number; body: string; ms: number }> {
  const began = performance.now();
  const res = await fetch(new URL(path, running.url));
  const body = await res.text();
  return { status: res.status, body, ms: performance.now() - began };
}

const ids = (body: string) => [...body.matchAll(/href="\/inferences\/([0-9a-f-]{36})"/g)].map((m) => m[1]!);

const embedded = process.env.INFERLOG_TEST_EMBEDDED === '1';
(embedded ? describe.skip : describe)(`the console over ${N.toLocaleString('en')} records (needs a real PostgreSQL)`, () => {
  beforeAll(async () => {
    const writer = await openWriter(schema, 'scale-api');
    const began = Date.now();
    const end = Date.now() - 60_000;
    for (let from = 0; from < N; from += 10_000) {
      const batch = [];
      for (let i = from; i < Math.min(N, from + 10_000); i++)
        batch.push(
          record(i, end - SPAN + Math.floor((i / N) * SPAN), {
            model_name: i % 3 ? 'credit' : 'fraud',
            status: i % 97 === 0 ? 503 : 200,
            request_id: `scale-${i}`,
          }),
        );
      await writer.write(batch);
    }
    await writer.close();
    await db.none('ANALYZE $1:name.inference_log', [schema]);
    figures.push(`wrote ${N.toLocaleString('en')} records in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    running = await serveConsole(schema);
    await timed('/records'); // the pool's first connection
  }, 3_600_000);

  afterAll(async () => {
    await running?.close();
    if (!process.env.CONSOLE_SCALE_KEEP) await dropSchema(schema);
    await endPool();
    console.log(`console scale test:\n  ${figures.join('\n  ')}`);
  });

  test('the first page of records in well under a second; the next pages and filters follow on from it', async () => {
    const first = await timed('/records');
    expect(first.status).toBe(200);
    expect(ids(first.body)).toHaveLength(50);
    figures.push(`first page: ${first.ms.toFixed(0)} ms`);
    expect(first.ms).toBeLessThan(1000);
    const newest = await db.any('SELECT id FROM $1:name.inference_log ORDER BY started_at DESC, id DESC LIMIT 100', [schema]);
    expect(ids(first.body)).toEqual(newest.slice(0, 50).map((r) => r.id));

    const next = /rel="next" href="([^"]+)"/.exec(first.body)![1]!.replaceAll('&amp;', '&');
    const second = await timed(next);
    expect(ids(second.body)).toEqual(newest.slice(50, 100).map((r) => r.id));
    figures.push(`second page: ${second.ms.toFixed(0)} ms`);

    for (const [label, path] of [
      ['model fraud', '/records?model=fraud'],
      ['status 5xx (1 %)', '/records?status=5xx'],
      ['request id', `/records?request_id=scale-${Math.floor(N / 2)}`],
      [
        'a day a week ago',
        `/records?since=${new Date(Date.now() - 7 * 86_400_000).toISOString().slice(0, 10)}&until=${new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10)}`,
      ],
    ] as const) {
      const page = await timed(path);
      expect(page.status).toBe(200);
      expect(ids(page.body).length).toBeGreaterThan(0);
      figures.push(`${label}: ${page.ms.toFixed(0)} ms`);
    }

    // What autovacuum does to an insert-only table in time: it summarizes the BRIN ranges, so a time range
    // reads only its own blocks. The same pages again after it.
    await db.none('VACUUM $1:name.inference_log', [schema]);
    for (const [label, path] of [
      ['first page', '/records'],
      ['status 5xx (1 %)', '/records?status=5xx'],
      [
        'a day a week ago',
        `/records?since=${new Date(Date.now() - 7 * 86_400_000).toISOString().slice(0, 10)}&until=${new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10)}`,
      ],
    ] as const) {
      const page = await timed(path);
      expect(ids(page.body).length).toBeGreaterThan(0);
      figures.push(`after VACUUM, ${label}: ${page.ms.toFixed(0)} ms`);
    }

    const one = await timed(`/inferences/${newest[0].id}`);
    expect(one.status).toBe(200);
    figures.push(`one inference (without its chain check): ${one.ms.toFixed(0)} ms`);
    const chain = await timed(`/inferences/${newest[0].id}/chain?fragment=1`);
    expect(chain.body).toContain('Verifies:');
    figures.push(`its chain verified from the first of ${N.toLocaleString('en')} rows: ${chain.ms.toFixed(0)} ms`);
  }, 600_000);
});
