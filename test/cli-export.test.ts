// `inferlog export` and `inferlog verify --bundle`: a few thousand records of two writers, with every kind
// of value CSV and JSON must carry, exported as JSONL and CSV; each manifest verifies offline, and a
// changed value, a deleted line, two swapped lines, a re-sealed row or a cut file fail, naming the line.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CsvReader } from '../packages/core/src/audit/csv';
import { EXPORT_COLUMNS, rowFromCsv, rowHash, type BundleReport, type ExportManifest, type ExportResult } from '@inferlog/core/audit';
import type { InferenceRecord } from '@inferlog/core';
import { cli, openWriter, record, type Writer } from './cli-helpers';
import { db, dropSchema, endPool, jcs, tempDir, uniqueSchema } from './helpers';

const schema = uniqueSchema('cli_export');
const N = 3000;
const dir = tempDir('inferlog-export-');
const start = Date.UTC(2026, 3, 1, 8);
let a: Writer;
let b: Writer;
let written: InferenceRecord[];

/** Values that test the formats: quotes, commas, line breaks, unicode, '' beside NULL, big numbers, nested JSON. */
function varied(i: number, at: number): InferenceRecord {
  return record(i, at, {
    model_name: i % 2 === 0 ? 'credit' : 'fraud',
    status: i % 97 === 0 ? null : i % 31 === 0 ? 503 : 200,
    aborted: i % 97 === 0,
    latency_ms: 1 + (i % 1000) / 7,
    trace_id: i % 5 === 0 ? `trace-${i}` : null,
    request_body: i % 500 === 7 ? 'line one\nline two, with "quotes", commas; ünïcode ✓ 🚀' : i % 3 === 0 ? '' : null,
    response_body: i % 11 === 0 ? 'a,b,"c"' : null,
    parameters: { threshold: 0.1 + (i % 10) / 10, note: `ünïcode ✓ ${i}`, 'key "quoted", comma': [1, null, { z: 1, a: 2 }], big: 1e21 },
    request_bytes: 5_000_000_000 + i,
    usage: i % 4 === 0 ? { input_tokens: i, output_tokens: 2 * i } : null,
    truncated: i % 13 === 0 ? ['request_body'] : [],
    redactions: i % 10 === 0 ? ['input:bsn', 'email'] : [],
    annotations: i % 7 === 0 ? { tenant: 'acme', text: 'tab\there' } : null,
  });
}

const exportTo = async (name: string, args: string[]): Promise<ExportResult> => {
  const run = await cli(schema, ['export', '--since', '2026-04-01', '--until', '2026-04-02', '--out', join(dir, name), '--json', ...args]);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(run.stdout);
};
const verifyJson = async (manifest: string): Promise<{ code: number; report: BundleReport }> => {
  const run = await cli(null, ['verify', '--bundle', manifest, '--json']);
  return { code: run.code, report: JSON.parse(run.stdout) };
};

/** A copy of an export in a new directory, its records file edited, the manifest and events file unchanged. */
function tampered(manifest: string, edit: (text: string) => string): string {
  const m: ExportManifest = JSON.parse(readFileSync(manifest, 'utf8'));
  const to = mkdtempSync(join(dir, 'tampered-'));
  copyFileSync(manifest, join(to, basename(manifest)));
  if (m.events) copyFileSync(join(dir, m.events.file), join(to, m.events.file));
  writeFileSync(join(to, m.file), edit(readFileSync(join(dir, m.file), 'utf8')));
  return join(to, basename(manifest));
}

beforeAll(async () => {
  a = await openWriter(schema, 'api-a');
  b = await openWriter(schema, 'api-b');
  written = [];
  // Two writers take turns, their rows interleaved in time.
  for (let from = 0; from < N; from += 500) {
    const batch = Array.from({ length: 500 }, (_, k) => varied(from + k, start + (from + k) * 10));
    await (from % 1000 === 0 ? a : b).write(batch);
    written.push(...batch);
  }
}, 300_000);

afterAll(async () => {
  await a.close();
  await b.close();
  await dropSchema(schema);
  await endPool();
  rmSync(dir, { recursive: true, force: true });
});

describe('jsonl', () => {
  let result: ExportResult;
  let lines: string[];
  beforeAll(async () => {
    result = await exportTo('april.jsonl', ['--format', 'jsonl']);
    lines = readFileSync(result.file, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
  });

  test('the manifest describes the file: size, rows, SHA-256, filters, time, version, and the chain heads it covers', () => {
    const file = readFileSync(result.file);
    expect(result.manifest).toMatchObject({
      manifest_version: 2,
      format: 'jsonl',
      file: 'april.jsonl',
      bytes: file.length,
      rows: N,
      sha256: createHash('sha256').update(file).digest('hex'),
      filters: { since: '2026-04-01T00:00:00.000Z', until: '2026-04-02T00:00:00.000Z' },
      inferlog_version: '0.1.0',
      source: { schema, table: 'inference_log' },
      order: 'chain_id, chain_seq',
      columns: [...EXPORT_COLUMNS],
    });
    expect(Date.now() - Date.parse(result.manifest.exported_at)).toBeLessThan(60_000);
    expect(JSON.parse(readFileSync(result.manifestPath, 'utf8'))).toEqual(result.manifest);
    const heads = [a.chain, b.chain]
      .sort((x, y) => (x.id < y.id ? -1 : 1))
      .map((c) => ({
        chain_id: c.id,
        rows: N / 2,
        first_seq: 1,
        first_prev_hash: null,
        last_seq: N / 2,
        last_hash: c.last.hash,
        gaps: [],
      }));
    expect(result.manifest.chains).toEqual(heads);
  });

  test('every line is a row in canonical form: every column, and a record_hash anyone can recompute from the line alone', () => {
    expect(lines).toHaveLength(N);
    const byId = new Map(written.map((r) => [r.id, r]));
    for (const line of lines) {
      const row = JSON.parse(line);
      expect(Object.keys(row).sort()).toEqual([...EXPORT_COLUMNS].sort());
      const { record_hash, ...rest } = row;
      expect(createHash('sha256').update(jcs(rest)).digest('hex')).toBe(record_hash);
      expect(line).toBe(jcs(row));
      expect(record_hash).toBe(byId.get(row.id)!.record_hash);
    }
    const sample = JSON.parse(lines.find((l) => l.includes('line one'))!);
    expect(sample.request_body).toBe('line one\nline two, with "quotes", commas; ünïcode ✓ 🚀');
    expect(sample.request_bytes).toBeGreaterThan(5_000_000_000);
  });

  test('verify --bundle: exit 0, and the text says what was checked', async () => {
    const { code, report } = await verifyJson(result.manifestPath);
    expect(report.problems).toEqual([]);
    expect(code).toBe(0);
    expect(report).toMatchObject({ ok: true, rows: N, bytes: result.manifest.bytes, sha256: result.manifest.sha256 });
    const text = await cli(null, ['verify', '--bundle', result.manifestPath]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('OK: size and SHA-256 match the manifest; every row matches its record_hash');
  });

  test('one value changed in one line: the line is named', async () => {
    const k = 1234;
    const changed = tampered(result.manifestPath, (text) => {
      const all = text.split('\n');
      expect(all[k - 1]).toContain('"status":200');
      all[k - 1] = all[k - 1].replace('"status":200', '"status":201');
      return all.join('\n');
    });
    const { code, report } = await verifyJson(changed);
    expect(code).toBe(1);
    const id = JSON.parse(lines[k - 1]).id;
    expect(report.problems[0]).toMatchObject({
      kind: 'changed',
      line: k,
      row: k,
      id,
      message: expect.stringContaining(`line ${k} (row ${k}, id ${id}`),
    });
    expect(report.problems.map((p) => p.kind)).toEqual(['changed', 'file']);
    const text = await cli(null, ['verify', '--bundle', changed]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`FIRST PROBLEM: line ${k} (row ${k}, id ${id}`);
    expect(text.stdout).toContain('its content does not match its record_hash');
  });

  test('a line deleted: the line after the gap is named', async () => {
    const k = 700;
    const { code, report } = await verifyJson(
      tampered(result.manifestPath, (text) =>
        text
          .split('\n')
          .filter((_, i) => i !== k - 1)
          .join('\n'),
      ),
    );
    expect(code).toBe(1);
    const next = JSON.parse(lines[k]);
    expect(report.problems[0]).toMatchObject({
      kind: 'missing',
      line: k,
      id: next.id,
      seq: next.chain_seq,
      message: expect.stringContaining(`seq ${next.chain_seq - 1} is missing before it`),
    });
    expect(report.problems.map((p) => p.kind)).toEqual(['missing', 'head', 'count', 'file']);
  });

  test('two lines swapped: named', async () => {
    const k = 2000;
    const { code, report } = await verifyJson(
      tampered(result.manifestPath, (text) => {
        const all = text.split('\n');
        [all[k - 1], all[k]] = [all[k], all[k - 1]];
        return all.join('\n');
      }),
    );
    expect(code).toBe(1);
    expect(report.problems[0]).toMatchObject({ line: k, id: JSON.parse(lines[k]).id });
    expect(report.problems[1]).toMatchObject({
      kind: 'reordered',
      line: k + 1,
      message: expect.stringContaining('lines are out of chain order'),
    });
  });

  test('a row changed and re-sealed by someone who knows the canonical form: the next line does not link', async () => {
    const k = 100;
    const { report } = await verifyJson(
      tampered(result.manifestPath, (text) => {
        const all = text.split('\n');
        const row = JSON.parse(all[k - 1]);
        row.outputs[0].data = [0.01];
        row.record_hash = rowHash(row);
        all[k - 1] = jcs(row);
        return all.join('\n');
      }),
    );
    expect(report.problems[0]).toMatchObject({
      kind: 'reordered',
      line: k + 1,
      message: expect.stringContaining('its prev_hash is not the record_hash of the row before it'),
    });
  });

  test('the file cut short: the chain does not reach the head in the manifest', async () => {
    const { report } = await verifyJson(
      tampered(
        result.manifestPath,
        (text) =>
          `${text
            .split('\n')
            .slice(0, N - 2)
            .join('\n')}\n`,
      ),
    );
    expect(report.problems[0]).toMatchObject({ kind: 'head', message: expect.stringContaining(`the manifest says ${N / 2} rows`) });
  });
});

describe('csv', () => {
  let result: ExportResult;
  let text: string;
  beforeAll(async () => {
    result = await exportTo('april.csv', ['--format', 'csv']);
    text = readFileSync(result.file, 'utf8');
  });

  /** The records of the CSV (header first), each with the physical line it starts on. */
  const records = () => {
    const reader = new CsvReader();
    return [...reader.push(text), ...reader.end()];
  };

  test('one column per record column, jsonb and text[] as JSON, RFC 4180 quoting, NULL apart from an empty string; hashes recompute from the CSV alone', () => {
    const [header, ...rows] = records();
    expect(header.fields).toEqual([...EXPORT_COLUMNS]);
    expect(text.startsWith(`${EXPORT_COLUMNS.join(',')}\r\n`)).toBe(true);
    expect(rows).toHaveLength(N);
    const byId = new Map(written.map((r) => [r.id, r]));
    for (const { fields } of rows) {
      const row = rowFromCsv(fields);
      expect(rowHash(row)).toBe(row.record_hash);
      const original = byId.get(row.id as string)!;
      expect(row.request_body).toBe(original.request_body);
      expect(fields[EXPORT_COLUMNS.indexOf('truncated')]).toBe(JSON.stringify(original.truncated));
    }
    expect(text).toContain('"line one\nline two, with ""quotes"", commas; ünïcode ✓ 🚀"');
    expect(result.manifest).toMatchObject({ format: 'csv', rows: N, bytes: statSync(result.file).size });
  });

  test('verify --bundle passes; a changed value, a deleted record and two swapped records fail, naming the line', async () => {
    expect((await verifyJson(result.manifestPath)).report).toMatchObject({ ok: true, rows: N, problems: [] });
    const all = records();
    const split = (t: string) => t.split('\r\n'); // no value here holds a CRLF, so this splits records exactly

    // Row k (record k after the header) inside the first chain (rows 1..1500), with status 200.
    const k = all.findIndex((r, i) => i >= 1000 && r.fields[EXPORT_COLUMNS.indexOf('status')] === '200');
    expect(k).toBeLessThan(1400);
    const changed = await verifyJson(
      tampered(result.manifestPath, (t) =>
        split(t)
          .map((r, i) => (i === k ? r.replace(',200,', ',201,') : r))
          .join('\r\n'),
      ),
    );
    expect(changed.code).toBe(1);
    expect(changed.report.problems[0]).toMatchObject({
      kind: 'changed',
      row: k,
      line: all[k].line,
      message: expect.stringContaining(`line ${all[k].line} (row ${k},`),
    });

    const deleted = await verifyJson(
      tampered(result.manifestPath, (t) =>
        split(t)
          .filter((_, i) => i !== k)
          .join('\r\n'),
      ),
    );
    expect(deleted.report.problems[0]).toMatchObject({ kind: 'missing', row: k, line: all[k].line, id: all[k + 1].fields[0] });

    const swapped = await verifyJson(
      tampered(result.manifestPath, (t) => {
        const r = split(t);
        [r[k], r[k + 1]] = [r[k + 1], r[k]];
        return r.join('\r\n');
      }),
    );
    expect(swapped.report.problems.slice(0, 2)).toMatchObject([
      { row: k, line: all[k].line },
      { kind: 'reordered', row: k + 1 },
    ]);

    const unreadable = await verifyJson(tampered(result.manifestPath, (t) => t.replace('"line one', 'x"line one')));
    expect(unreadable.report.problems[0]).toMatchObject({
      kind: 'malformed',
      message: expect.stringContaining('the file cannot be read as CSV from line'),
    });
  });
});

test('a filtered export lists the sequence numbers it left out, verifies, and still names a deleted line', async () => {
  const result = await exportTo('credit.jsonl', ['--model', 'credit']);
  expect(result.manifest.rows).toBe(N / 2);
  expect(result.manifest.filters).toMatchObject({ model: 'credit' });
  for (const chain of result.manifest.chains) expect(chain.gaps).toHaveLength(N / 4 - 1); // every other seq is a fraud row
  expect((await verifyJson(result.manifestPath)).report).toMatchObject({ ok: true, problems: [] });
  const { report } = await verifyJson(
    tampered(result.manifestPath, (t) =>
      t
        .split('\n')
        .filter((_, i) => i !== 99)
        .join('\n'),
    ),
  );
  expect(report.problems[0]).toMatchObject({
    kind: 'missing',
    line: 100,
    message: expect.stringContaining('the manifest does not list them as left out'),
  });
});

test('export needs --since and --out, and takes jsonl or csv only (exit 2); a missing manifest exits 3', async () => {
  expect(await cli(schema, ['export', '--until', 'now', '--out', join(dir, 'x')])).toMatchObject({
    code: 2,
    stderr: expect.stringContaining("required option '--since <time>' not specified"),
  });
  expect(await cli(schema, ['export', '--since', '1d', '--until', 'now'])).toMatchObject({
    code: 2,
    stderr: expect.stringContaining("required option '--out <file>' not specified"),
  });
  expect(await cli(schema, ['export', '--since', '1d', '--until', 'now', '--out', join(dir, 'x'), '--format', 'xml'])).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('Allowed choices are jsonl, csv'),
  });
  expect(await cli(null, ['verify', '--bundle', join(dir, 'nope.manifest.json')])).toMatchObject({
    code: 3,
    stderr: expect.stringContaining('no such file'),
  });
});

test('export with --since alone, as query and stats take it, covers up to the moment it started, and its manifest says so', async () => {
  const before = Date.now();
  const run = await cli(schema, ['export', '--since', '2026-04-01', '--out', join(dir, 'open-ended.jsonl'), '--json']);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  const result: ExportResult = JSON.parse(run.stdout);
  const until = Date.parse(result.manifest.filters.until as string);
  expect(until).toBeGreaterThanOrEqual(before);
  expect(until).toBeLessThanOrEqual(Date.now());
  const stored = await db.one("SELECT count(*)::int AS n FROM $1:name.inference_log WHERE started_at >= '2026-04-01'", [schema]);
  expect(result.manifest.rows).toBe(stored.n);
  expect(stored.n).toBeGreaterThan(0);
  expect((await verifyJson(result.manifestPath)).report).toMatchObject({ ok: true, problems: [] });
});
