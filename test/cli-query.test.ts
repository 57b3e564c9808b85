// `inferlog query`, `stats` and `tail` against a log whose every figure the test computes itself.
import type { InferenceRecord } from '@inferlog/core';
import { logTableNames, type RecordPage, type DailyModelStats, type RecordRow } from '@inferlog/core/audit';
import { cli, collector, openWriter, record, until, type Writer } from './cli-helpers';
import { dropSchema, endPool, uniqueSchema } from './helpers';

const schema = uniqueSchema('cli_query');
const DAY = 86_400_000;
const N = 240;
const now = Date.now();
// Names with what a query formatter could take for its own syntax: a parameter, a quote.
const BETA = "beta $3's";
const GLOBEX = 'globex $1:raw';
let writer: Writer;
let rows: InferenceRecord[];

/** A log over three days, three models, every kind of status, ties in started_at, usage and annotations. */
function dataset(): InferenceRecord[] {
  const out: InferenceRecord[] = [];
  for (let i = 0; i < N; i++) {
    const at = i % 10 === 1 ? out[i - 1].started_at.getTime() : now - (i % 3) * DAY - 60_000 - ((i * 37_000) % 3_000_000);
    const model = ['alpha', 'alpha', BETA, 'gamma'][i % 4];
    const status = i % 17 === 0 ? null : i % 11 === 0 ? 500 : i % 13 === 0 ? 404 : 200;
    out.push(
      record(i, at, {
        model_name: model,
        model_version: model === 'alpha' ? (i % 8 < 4 ? '1' : '2') : '1',
        protocol: model === 'gamma' ? 'openai-chat' : 'oip-v2',
        route: model === 'gamma' ? '/v1/chat/completions' : '/v2/models/:model/infer',
        status,
        aborted: status === null,
        error: i % 19 === 0 ? { status: 200, message: 'stream failed' } : status && status >= 400 ? { status, message: 'failed' } : null,
        latency_ms: ((i * 7919) % 997) / 3 + 1,
        usage: i % 2 === 0 ? { input_tokens: (i % 50) + 1, output_tokens: (i % 30) + 2 } : null,
        annotations: i % 3 === 0 ? { tenant: 'acme', tier: 3 } : i % 3 === 1 ? { tenant: GLOBEX, tier: '3' } : null,
      }),
    );
  }
  return out;
}

const order = (a: InferenceRecord, b: InferenceRecord) =>
  a.started_at.getTime() - b.started_at.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const sorted = (list: InferenceRecord[]) => [...list].sort(order);
const ids = (list: { id: string }[]) => list.map((r) => r.id);

async function queryJson(args: string[]): Promise<RecordPage> {
  const run = await cli(schema, ['query', '--json', ...args]);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(run.stdout);
}

beforeAll(async () => {
  writer = await openWriter(schema);
  rows = dataset();
  await writer.write(rows.map((r) => ({ ...r })));
});

afterAll(async () => {
  await writer.close();
  await dropSchema(schema);
  await endPool();
});

describe('query', () => {
  test('every filter selects what it says, alone and together', async () => {
    const since = new Date(now - DAY - 30 * 60_000);
    const cases: [string[], (r: InferenceRecord) => boolean][] = [
      [[], () => true],
      [['--model', BETA], (r) => r.model_name === BETA],
      [['--model', 'alpha', '--version', '2'], (r) => r.model_name === 'alpha' && r.model_version === '2'],
      [['--route', '/v1/chat/completions'], (r) => r.route === '/v1/chat/completions'],
      [['--protocol', 'oip-v2'], (r) => r.protocol === 'oip-v2'],
      [['--status', '5xx'], (r) => r.status !== null && r.status >= 500],
      [['--status', '404'], (r) => r.status === 404],
      [['--status', '4xx,5xx'], (r) => r.status !== null && r.status >= 400],
      [['--status', 'none'], (r) => r.status === null],
      [['--since', since.toISOString()], (r) => r.started_at >= since],
      [['--until', since.toISOString()], (r) => r.started_at < since],
      [['--since', '1h'], (r) => r.started_at.getTime() >= now - 3_600_000],
      [['--annotation', 'tenant=acme'], (r) => (r.annotations as { tenant?: string } | null)?.tenant === 'acme'],
      // A number also matches its text: tier 3 and tier "3".
      [['--annotation', 'tier=3'], (r) => r.annotations !== null],
      [['--annotation', 'tier="3"'], (r) => (r.annotations as { tier?: unknown } | null)?.tier === '3'],
      [
        ['--annotation', `tenant=${GLOBEX}`, '--annotation', 'tier=3', '--model', 'alpha'],
        (r) => (r.annotations as { tenant?: string } | null)?.tenant === GLOBEX && r.model_name === 'alpha',
      ],
      [
        ['--model', 'gamma', '--status', '200', '--since', since.toISOString()],
        (r) => r.model_name === 'gamma' && r.status === 200 && r.started_at >= since,
      ],
    ];
    for (const [args, keep] of cases) {
      const page = await queryJson([...args, '--limit', '1000']);
      const expected = sorted(rows.filter(keep));
      expect(expected.length).toBeGreaterThan(0);
      expect({ args, ids: ids(page.rows) }).toEqual({ args, ids: ids(expected) });
      expect(page.next).toBeNull();
    }
  });

  test('paging: each page continues exactly after the last row of the one before, across rows that started in the same millisecond', async () => {
    const all = sorted(rows.filter((r) => r.model_name === 'alpha'));
    // A page size that ends the first page inside a run of equal started_at.
    const tie = all.findIndex((r, i) => i > 3 && all[i + 1]?.started_at.getTime() === r.started_at.getTime());
    expect(tie).toBeGreaterThan(0);
    const limit = String(tie + 1);
    const seen: RecordRow[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page: RecordPage = await queryJson(['--model', 'alpha', '--limit', limit, ...(after ? ['--after', after] : [])]);
      expect(page.rows.length).toBeLessThanOrEqual(Number(limit));
      seen.push(...page.rows);
      after = page.next;
      pages++;
    } while (after);
    expect(ids(seen)).toEqual(ids(all));
    expect(pages).toBe(Math.ceil(all.length / Number(limit)));
    expect(seen[tie].started_at).toBe(seen[tie + 1].started_at);

    const text = await cli(schema, ['query', '--model', 'alpha', '--limit', limit]);
    const first = await queryJson(['--model', 'alpha', '--limit', limit]);
    expect(text.stdout).toContain(`next page: --after ${first.next}`);
    for (const r of first.rows) expect(text.stdout).toContain(r.request_id);
    expect(text.stdout.split('\n')[0]).toMatch(/^time\s+request id\s+model\s+version\s+status\s+latency\s+protocol\s+route$/);
  });

  test('a cursor that is not one, an unknown option and a bad time are usage errors (exit 2) that say what to give', async () => {
    expect(await cli(schema, ['query', '--after', 'page-2'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('"page-2" is not a cursor'),
    });
    expect(await cli(schema, ['query', '--colour', 'red'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("unknown option '--colour'"),
    });
    expect(await cli(schema, ['query', '--since', 'last tuesday'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('give an ISO 8601 date or time'),
    });
    expect(await cli(schema, ['query', '--status', '42'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('give codes (500), classes (4xx, 5xx) or none'),
    });
  });

  test('--schema and --table are checked as the library checks them, before anything reaches PostgreSQL (exit 2)', async () => {
    // 't$fn$' would end the dollar-quoted function bodies of the migrations: a syntax error in PostgreSQL before.
    for (const [flag, value, what] of [
      ['--table', 't$fn$', 'plain SQL identifier of at most 48 characters'],
      ['--table', 'a'.repeat(49), 'plain SQL identifier of at most 48 characters'],
      ['--schema', 'x; drop table y', 'plain SQL identifier'],
      ['--schema', '1st', 'plain SQL identifier'],
    ]) {
      for (const command of ['migrate', 'verify', 'query']) {
        const run = await cli(null, [command, flag, value]);
        expect(run).toMatchObject({ code: 2, stderr: expect.stringContaining(`option "${flag}" must be a ${what}`) });
      }
    }
    expect(() => logTableNames('inferlog', 't$fn$')).toThrow(/option "table" must be a plain SQL identifier/);
  });
});

/** percentile_cont: linear interpolation between the closest ranks. */
function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const at = p * (s.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return s[lo] + (s[hi] - s[lo]) * (at - lo);
}

test('stats: count, error rate, p50/p95 latency and token totals per model and UTC day, as computed here', async () => {
  const groups = new Map<string, InferenceRecord[]>();
  for (const r of rows) {
    const key = `${r.started_at.toISOString().slice(0, 10)}|${r.model_name}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const expected = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, list]) => {
      const errors = list.filter((r) => (r.status !== null && r.status >= 400) || r.error !== null).length;
      const usage = list.map((r) => r.usage as { input_tokens: number; output_tokens: number } | null);
      return {
        day: key.split('|')[0],
        model_name: key.split('|')[1],
        count: list.length,
        errors,
        error_rate: errors / list.length,
        p50_ms: percentile(
          list.map((r) => r.latency_ms),
          0.5,
        ),
        p95_ms: percentile(
          list.map((r) => r.latency_ms),
          0.95,
        ),
        input_tokens: usage.reduce((s, u) => s + (u?.input_tokens ?? 0), 0),
        output_tokens: usage.reduce((s, u) => s + (u?.output_tokens ?? 0), 0),
      };
    });
  const run = await cli(schema, ['stats', '--json']);
  expect(run.code).toBe(0);
  const { days: stats, identifications }: { days: DailyModelStats[]; identifications: { total: number } } = JSON.parse(run.stdout);
  expect(identifications).toMatchObject({ total: 0, failing: 0, rows: [], next: null });
  expect(stats.map((s) => [s.day, s.model_name, s.count, s.errors, s.input_tokens, s.output_tokens])).toEqual(
    expected.map((s) => [s.day, s.model_name, s.count, s.errors, s.input_tokens, s.output_tokens]),
  );
  stats.forEach((s, i) => {
    expect(s.error_rate).toBeCloseTo(expected[i].error_rate, 12);
    expect(s.p50_ms).toBeCloseTo(expected[i].p50_ms, 9);
    expect(s.p95_ms).toBeCloseTo(expected[i].p95_ms, 9);
  });
  expect(expected.some((s) => s.errors > 0 && s.errors < s.count)).toBe(true);

  const beta = JSON.parse(
    (await cli(schema, ['stats', '--json', '--model', BETA, '--since', new Date(now - DAY / 2).toISOString()])).stdout,
  ).days as DailyModelStats[];
  // Per UTC day: the last twelve hours span two days when the run is shortly after midnight UTC.
  const betaDays = new Map<string, number>();
  for (const r of rows.filter((r) => r.model_name === BETA && r.started_at.getTime() >= now - DAY / 2)) {
    const day = r.started_at.toISOString().slice(0, 10);
    betaDays.set(day, (betaDays.get(day) ?? 0) + 1);
  }
  expect(beta.map((s) => [s.day, s.model_name, s.count])).toEqual([...betaDays.entries()].sort().map(([day, count]) => [day, BETA, count]));

  const text = (await cli(schema, ['stats'])).stdout;
  expect(text.split('\n')[0]).toMatch(/^day\s+model\s+count\s+errors\s+error rate\s+p50\s+p95\s+input tokens\s+output tokens$/);
  expect(text).toContain(`${(expected[0].error_rate * 100).toFixed(2)} %`);
  expect(text).not.toContain('Identifications');
});

describe('tail', () => {
  test('-n: the newest records, oldest first', async () => {
    const newest = sorted(rows).slice(-5);
    const json = await cli(schema, ['tail', '-n', '5', '--json']);
    expect(json.code).toBe(0);
    const lines = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RecordRow);
    expect(ids(lines)).toEqual(ids(newest));
    // Older than the last hour: the search widens until it has n rows.
    const old = sorted(rows.filter((r) => r.started_at.getTime() < now - DAY / 2 && r.model_name === BETA)).slice(-3);
    const wide = (await cli(schema, ['tail', '-n', '3', '--json', '--model', BETA, '--until', new Date(now - DAY / 2).toISOString()]))
      .stdout;
    expect(
      ids(
        wide
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
      ),
    ).toEqual(ids(old));

    const text = (await cli(schema, ['tail', '-n', '5'])).stdout.trim().split('\n');
    expect(text).toHaveLength(6);
    expect(text[0]).toMatch(/^time\s+request id\s+model\s+version\s+status\s+latency\s+protocol\s+route$/);
    for (const [i, r] of newest.entries()) expect(text[i + 1]).toContain(r.request_id);
  });

  test('-f: prints records that arrive after it started, each once, also one that started a little earlier; Ctrl-C ends it with 0', async () => {
    const stdout = collector();
    const stop = new AbortController();
    const running = cli(schema, ['tail', '-n', '2', '-f', '--interval', '100ms', '--grace', '30s'], { signal: stop.signal, stdout });
    await until(() => stdout.text().trim().split('\n').length === 3, 'the first two rows');
    const newestShown = sorted(rows).at(-1)!.started_at.getTime();
    await writer.write([
      record(9001, Date.now(), { request_id: 'arrived-after-start' }),
      record(9002, newestShown - 5_000, { request_id: 'written-late-within-grace' }),
      record(9003, newestShown - 120_000, { request_id: 'written-late-beyond-grace' }),
    ]);
    await until(() => stdout.text().includes('arrived-after-start') && stdout.text().includes('written-late-within-grace'), 'the new rows');
    await new Promise((resolve) => setTimeout(resolve, 500)); // a few more polls: nothing twice
    stop.abort();
    const run = await running;
    expect(run.code).toBe(0);
    const printed = run.stdout.trim().split('\n');
    expect(printed.filter((l) => l.includes('arrived-after-start'))).toHaveLength(1);
    expect(printed.filter((l) => l.includes('written-late-within-grace'))).toHaveLength(1);
    expect(run.stdout).not.toContain('written-late-beyond-grace');
    expect(printed).toHaveLength(5);
  });
});
