// At scale (`pnpm test:scale`; not in the normal suite): 1,000,000 records written by a writer's chain
// with COPY, exported as JSONL by the built CLI in a child process with its peak RSS bounded, the bundle
// verified offline, then one byte of the file changed and the verification failing at that line.
import { createReadStream } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BundleReport, ExportManifest } from '@inferlog/core/audit';
import { buildCli, openWriter, record, runChild, type Writer } from './cli-helpers';
import { DATABASE_URL, dropSchema, endPool, uniqueSchema } from './helpers';

const schema = uniqueSchema('export_scale');
const N = Number(process.env.EXPORT_SCALE_N ?? 1_000_000);
const LIMIT_MIB = 200;
const dir = mkdtempSync(join(process.env.EXPORT_SCALE_DIR ?? tmpdir(), 'inferlog-export-scale-'));
const start = Date.UTC(2026, 5, 1);
const figures: string[] = [];
let writer: Writer;

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

/** The number of the line that holds byte `offset` (1-based), counted by streaming the file. */
async function lineAt(file: string, offset: number): Promise<number> {
  let line = 1;
  let read = 0;
  for await (const chunk of createReadStream(file, { end: offset - 1, highWaterMark: 4 * 1024 * 1024 }) as AsyncIterable<Buffer>) {
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) line++;
    read += chunk.length;
  }
  expect(read).toBe(offset);
  return line;
}

const embedded = process.env.INFERLOG_TEST_EMBEDDED === '1';
(embedded ? describe.skip : describe)(`export at scale (${N.toLocaleString('en')} records; needs a real PostgreSQL: COPY)`, () => {
  beforeAll(async () => {
    await buildCli();
    writer = await openWriter(schema, 'scale-api');
    const began = Date.now();
    for (let from = 0; from < N; from += 10_000) {
      await writer.write(Array.from({ length: Math.min(10_000, N - from) }, (_, k) => record(from + k, start + from + k)));
    }
    figures.push(`wrote ${N.toLocaleString('en')} records (sealed, COPY) in ${seconds(began)} s`);
  }, 3_600_000);

  afterAll(async () => {
    await writer?.close();
    await dropSchema(schema);
    await endPool();
    rmSync(dir, { recursive: true, force: true });
    console.log(`export scale test:\n  ${figures.join('\n  ')}`);
  });

  test(`export through the CLI in a child process: peak RSS under ${LIMIT_MIB} MiB; the bundle verifies; one byte changed fails at its line`, async () => {
    const out = join(dir, 'june.jsonl');
    let began = Date.now();
    const exported = await runChild(
      [
        'export',
        '--database',
        DATABASE_URL,
        '--schema',
        schema,
        '--since',
        '2026-06-01',
        '--until',
        '2026-07-01',
        '--format',
        'jsonl',
        '--out',
        out,
        '--json',
      ],
      { measure: true, timeoutMs: 3_600_000 },
    );
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    const manifest: ExportManifest = JSON.parse(exported.stdout).manifest;
    figures.push(
      `export: ${seconds(began)} s, file ${(manifest.bytes / 1048576).toFixed(1)} MiB, peak RSS ${exported.peakRssMiB!.toFixed(1)} MiB`,
    );
    expect(manifest).toMatchObject({
      rows: N,
      bytes: (await stat(out)).size,
      chains: [{ chain_id: writer.chain.id, rows: N, first_seq: 1, last_seq: N, last_hash: writer.chain.last.hash }],
    });
    expect(exported.peakRssMiB).toBeLessThan(LIMIT_MIB);

    began = Date.now();
    const verified = await runChild(['verify', '--bundle', `${out}.manifest.json`], { measure: true, timeoutMs: 3_600_000 });
    figures.push(`verify --bundle: ${seconds(began)} s, peak RSS ${verified.peakRssMiB!.toFixed(1)} MiB`);
    expect(verified.stdout).toContain('OK: size and SHA-256 match the manifest');
    expect(verified.code).toBe(0);

    // One byte in the middle of the file: a digit of a request id, so the line is still JSON.
    const handle = await open(out, 'r+');
    let offset: number;
    try {
      const window = Buffer.alloc(4096);
      await handle.read(window, 0, window.length, Math.floor(manifest.bytes / 2));
      const at = window.indexOf('"request_id":"r-') + '"request_id":"r-'.length;
      offset = Math.floor(manifest.bytes / 2) + at;
      const digit = window[at];
      expect(digit).toBeGreaterThanOrEqual(0x30);
      await handle.write(Buffer.from([digit === 0x39 ? 0x30 : digit + 1]), 0, 1, offset);
    } finally {
      await handle.close();
    }
    const line = await lineAt(out, offset);
    began = Date.now();
    const tampered = await runChild(['verify', '--bundle', `${out}.manifest.json`, '--json'], { measure: true, timeoutMs: 3_600_000 });
    figures.push(`verify --bundle after one byte changed at line ${line.toLocaleString('en')}: ${seconds(began)} s, exit ${tampered.code}`);
    expect(tampered.code).toBe(1);
    const report: BundleReport = JSON.parse(tampered.stdout);
    expect(report.problems.map((p) => [p.kind, p.line])).toEqual([
      ['changed', line],
      ['file', null],
    ]);
  }, 3_600_000);
});
