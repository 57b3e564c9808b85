// The export streams: a child process running the built CLI exports 50,000 records (a file about as large
// as the memory it may use) and verifies the bundle, each with its peak RSS bounded; a fifth of the rows
// takes about as much memory as all of them.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildCli, openWriter, record, runChild, type Writer } from './cli-helpers';
import { DATABASE_URL, dropSchema, endPool, tempDir, uniqueSchema } from './helpers';

const schema = uniqueSchema('cli_export_rss');
// 50,000 on a real PostgreSQL; the embedded one (WASM, no COPY) takes 10,000 in about the same time.
const N = Number(process.env.EXPORT_RSS_N ?? (process.env.INFERLOG_TEST_EMBEDDED === '1' ? 10_000 : 50_000));
const LIMIT_MIB = 160;
const dir = tempDir('inferlog-export-rss-');
const body = 'x'.repeat(1500);
let writer: Writer;

beforeAll(async () => {
  await buildCli();
  writer = await openWriter(schema);
  const start = Date.UTC(2026, 4, 1);
  for (let from = 0; from < N; from += 5000) {
    await writer.write(
      Array.from({ length: Math.min(5000, N - from) }, (_, k) =>
        record(from + k, start + from + k, { request_body: `${from + k} ${body}` }),
      ),
    );
  }
}, 600_000);

afterAll(async () => {
  await writer.close();
  await dropSchema(schema);
  await endPool();
  rmSync(dir, { recursive: true, force: true });
});

test(`export of ${N.toLocaleString('en')} records (about ${Math.round((N * 2.7) / 1000)} MB of JSONL) in a child process: peak RSS under ${LIMIT_MIB} MiB and not growing with the rows; verify --bundle too`, async () => {
  const exportRows = async (name: string, until: string) => {
    const out = join(dir, name);
    const run = await runChild(
      ['export', '--database', DATABASE_URL, '--schema', schema, '--since', '2026-05-01', '--until', until, '--out', out, '--json'],
      { measure: true },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    return { out, manifest: JSON.parse(run.stdout).manifest, peak: run.peakRssMiB! };
  };
  const fifth = await exportRows('fifth.jsonl', new Date(Date.UTC(2026, 4, 1) + N / 5).toISOString());
  const all = await exportRows('may.jsonl', '2026-06-01');
  expect([fifth.manifest.rows, all.manifest.rows]).toEqual([N / 5, N]);
  const verified = await runChild(['verify', '--bundle', `${all.out}.manifest.json`], { measure: true });
  expect(verified.code).toBe(0);
  const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
  console.log(
    `export of ${N / 5} records: file ${mib(fifth.manifest.bytes)} MiB, peak RSS ${fifth.peak.toFixed(1)} MiB; ` +
      `of ${N} records: file ${mib(all.manifest.bytes)} MiB, peak RSS ${all.peak.toFixed(1)} MiB; verify --bundle peak RSS ${verified.peakRssMiB!.toFixed(1)} MiB`,
  );
  expect(all.peak).toBeLessThan(LIMIT_MIB);
  expect(verified.peakRssMiB).toBeLessThan(LIMIT_MIB);
  // Four times the rows, about 100 MiB more file: the heap warms up to its steady size (~140 MiB, the same
  // after 300,000 rows), far less than the extra bytes, which an export that held its rows would add.
  expect(all.peak - fifth.peak).toBeLessThan(Math.max(35, ((all.manifest.bytes - fifth.manifest.bytes) / 1048576) * 0.3));
}, 600_000);
