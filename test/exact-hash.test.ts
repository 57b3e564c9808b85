// The hash covers what is stored, exactly: digits past double precision in jsonb, a bigint past 2^53 and
// microseconds of a timestamp, changed by the table's owner with triggers off, are found by verify and
// by verify --bundle on an export taken afterwards (which carries the changed value as stored). And
// what a writer writes reads back as it was hashed, through real PostgreSQL.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { canonicalJson } from '../packages/core/src/chain/canonical';
import { numberFromStored } from '../packages/core/src/chain/exact-number';
import { timestampText } from '../packages/core/src/chain/stored-time';
import { exportLog, verifyBundle, verifyLog } from '@inferlog/core/audit';
import type { InferenceRecord } from '@inferlog/core';
import { rewriteBundleFile } from './bundle-tamper';
import { openWriter, record, type Writer } from './cli-helpers';
import { asAttacker, db, dropSchema, endPool, tempDir, uniqueSchema } from './helpers';

const schema = uniqueSchema('exact');
const N = 40;
let writer: Writer;
const written: InferenceRecord[] = [];

/** A record whose values a double holds exactly (0.1, 3, 1e21, …) and one a double cannot (request_bytes 2^53 is the largest it holds exactly). */
const exactRecord = (i: number, at: number): InferenceRecord =>
  record(i, at, {
    ended_at: new Date(at + 4),
    latency_ms: 4.25,
    request_id: `x-${i}`,
    service: 'exact-api',
    inputs: [{ name: 'x', shape: [1, 2], datatype: 'INT64', data: [i, '9007199254740993'] }],
    outputs: [{ name: 'y', shape: [1, 4], datatype: 'FP64', data: [0.1, 3, 12345678901234567000, 1e21] }],
    request_bytes: 2 ** 53,
  });

const idAt = async (seq: number): Promise<string> =>
  (await db.one('SELECT id FROM $1:name.inference_log WHERE chain_seq = $2', [schema, seq])).id;

beforeAll(async () => {
  writer = await openWriter(schema, 'exact-api');
  const start = Date.UTC(2026, 11, 7, 3, 39, 37, 123);
  const batch = Array.from({ length: N }, (_, i) => exactRecord(i, start + i * 1001));
  await writer.write(batch);
  written.push(...batch);
}, 120_000);

afterAll(async () => {
  await writer.close();
  await dropSchema(schema);
  await endPool();
});

describe('what a writer writes reads back exactly as it was hashed', () => {
  test('doubles of every magnitude, through jsonb and back as text, print as ECMAScript prints them', async () => {
    const doubles = fc.sample(fc.double({ noNaN: true, noDefaultInfinity: true }), 3000);
    doubles.push(
      ...[0.1, 1e21, 1e21 * (1 - 2 ** -52), 1e21 * (1 + 2 ** -52), 1e-7, 1e-7 * (1 - 2 ** -52), 1e-6, 9.999999999999997e-7],
      ...[5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2],
      ...[-(2 ** 53), 12345678901234567000, 0.30000000000000004, -0, 0, 1 / 3],
    );
    const stored: { text: string }[] = await db.any('SELECT value::text AS text FROM jsonb_array_elements($1::jsonb)', [
      canonicalJson(doubles),
    ]);
    expect(stored).toHaveLength(doubles.length);
    const wrong = doubles.filter((d, i) => canonicalJson(numberFromStored(stored[i]!.text)) !== String(d));
    expect(wrong).toEqual([]);
  });

  test('timestamps a writer makes (whole milliseconds) print as toISOString; others with all six digits', async () => {
    const dates = fc.sample(
      fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
      2000,
    );
    const stored: { text: string }[] = await db.task(async (t) => {
      await t.none("SET TimeZone = 'UTC'");
      return t.any('SELECT unnest($1::timestamptz[])::text AS text', [dates.map((d) => d.toISOString())]);
    });
    expect(dates.filter((d, i) => timestampText(stored[i]!.text) !== d.toISOString())).toEqual([]);
    const micro: { text: string }[] = await db.task(async (t) => {
      await t.none("SET TimeZone = 'UTC'");
      return t.any(`SELECT ('2026-12-07T03:39:37.123Z'::timestamptz + interval '400 microseconds')::text AS text`);
    });
    expect(timestampText(micro[0]!.text)).toBe('2026-12-07T03:39:37.123400Z');
  });

  test('the genuine log verifies, and so does its export, in JSONL and CSV', async () => {
    const report = await verifyLog(db, schema, 'inference_log');
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ ok: true, rows: N });
    for (const format of ['jsonl', 'csv'] as const) {
      const out = join(tempDir(), `clean.${format}`);
      const { manifestPath } = await exportLog(db, schema, 'inference_log', { format, out });
      const bundle = await verifyBundle(manifestPath);
      expect(bundle.problems).toEqual([]);
      expect(bundle.ok).toBe(true);
    }
  });
});

/** A change past what the driver's reading sees: [what, seq, the attacker's SQL, text the export then holds]. */
const TAMPERINGS: [string, number, string, string][] = [
  [
    'an FP64 output 0.1 → 0.10000000000000000001',
    3,
    `outputs = jsonb_set(outputs, '{0,data,0}', '0.10000000000000000001')`,
    '0.10000000000000000001',
  ],
  ['an output 3 → 3.0', 5, `outputs = jsonb_set(outputs, '{0,data,1}', '3.0')`, '[0.1,3.0,'],
  [
    'an INT64 output 12345678901234567000 → 12345678901234567001',
    7,
    `outputs = jsonb_set(outputs, '{0,data,2}', '12345678901234567001')`,
    '12345678901234567001',
  ],
  [
    'an output 1e21 → 1000000000000000000001',
    9,
    `outputs = jsonb_set(outputs, '{0,data,3}', '1000000000000000000001')`,
    '1000000000000000000001',
  ],
  ['started_at moved by 400 µs', 11, `started_at = started_at + interval '400 microseconds'`, '400Z'],
  ['request_bytes 2^53 → 2^53 + 1 (a bigint past double precision)', 13, 'request_bytes = 9007199254740993', '9007199254740993'],
  ['ended_at set to infinity (verify must not crash on it)', 15, `ended_at = 'infinity'`, 'infinity'],
];

describe('a change past double precision or to the microsecond is found and the row named', () => {
  test.each(TAMPERINGS)(
    '%s: by verify, and by verify --bundle on an export taken after it',
    async (_what, seq, set, exported) => {
      const id = await idAt(seq);
      await asAttacker(`CREATE TABLE $1:name.saved AS SELECT * FROM $1:name.inference_log WHERE id = $2`, [schema, id]);
      await asAttacker(`UPDATE $1:name.inference_log SET ${set} WHERE id = $2`, [schema, id]);
      try {
        const report = await verifyLog(db, schema, 'inference_log');
        expect(report.ok).toBe(false);
        expect(report.problems).toEqual([
          expect.objectContaining({
            kind: 'changed',
            seq,
            id,
            message: expect.stringContaining(`row ${id} (chain ${writer.chain.id}, seq ${seq}) was changed`),
          }),
        ]);
        for (const format of ['jsonl', 'csv'] as const) {
          const out = join(tempDir(), `tampered.${format}`);
          const { manifestPath } = await exportLog(db, schema, 'inference_log', { format, out });
          const file = await readFile(out, 'utf8');
          const lines = file.split(format === 'csv' ? '\r\n' : '\n');
          expect(lines[format === 'csv' ? seq : seq - 1]).toContain(format === 'csv' ? exported.replaceAll('"', '""') : exported);
          const bundle = await verifyBundle(manifestPath);
          expect(bundle.problems).toEqual([expect.objectContaining({ kind: 'changed', seq, id })]);
        }
      } finally {
        await asAttacker(
          'DELETE FROM $1:name.inference_log WHERE id = $2; INSERT INTO $1:name.inference_log SELECT * FROM $1:name.saved; DROP TABLE $1:name.saved',
          [schema, id],
        );
      }
      expect((await verifyLog(db, schema, 'inference_log')).ok).toBe(true);
    },
    120_000,
  );
});

describe('verify --bundle: a line must be byte-equal to the canonical form of the row it reads as', () => {
  const LINE = 6;
  const changeLine = (format: 'jsonl' | 'csv', edit: (line: string) => string) => (text: string) => {
    const sep = format === 'csv' ? '\r\n' : '\n';
    const lines = text.split(sep);
    const at = format === 'csv' ? LINE - 1 : LINE - 1; // CSV: line 1 is the header
    const before = lines[at]!;
    lines[at] = edit(before);
    expect(lines[at]).not.toBe(before);
    return lines.join(sep);
  };
  const EDITS: [string, 'jsonl' | 'csv', (line: string) => string, 'malformed' | 'changed'][] = [
    ['JSONL: extra whitespace', 'jsonl', (l) => l.replace('{"aborted":', '{ "aborted": '), 'malformed'],
    ['JSONL: a duplicate key prepended ("status":500 before the real one)', 'jsonl', (l) => l.replace('{', '{"status":500,'), 'malformed'],
    [
      'JSONL: keys out of order',
      'jsonl',
      (l) => `{${l.slice(1, -1).split(',"').slice(1).join(',"').replace(/^/, '"')},${l.slice(1, l.indexOf(',"'))}}`,
      'malformed',
    ],
    [
      'JSONL: a number spelled otherwise (4.25 as 425e-2)',
      'jsonl',
      (l) => l.replace('"latency_ms":4.25', '"latency_ms":425e-2'),
      'malformed',
    ],
    [
      'JSONL: a timestamp with six digits where three are canonical',
      'jsonl',
      (l) => l.replace(/("started_at":"[^"]*\.\d{3})Z"/, '$1000Z"'),
      'malformed',
    ],
    [
      'CSV: a field quoted that needs no quotes',
      'csv',
      (l) => l.replace(',/v2/models/credit/infer,', ',"/v2/models/credit/infer",'),
      'malformed',
    ],
    ['CSV: a number spelled otherwise (4.25 as 425e-2)', 'csv', (l) => l.replace(',4.25,', ',425e-2,'), 'malformed'],
    ['CSV: a jsonb cell with whitespace', 'csv', (l) => l.replace('{""threshold"":0.5}', '{""threshold"": 0.5}'), 'malformed'],
    ['CSV: a number with a trailing zero (4.25 as 4.250: another stored value)', 'csv', (l) => l.replace(',4.25,', ',4.250,'), 'changed'],
  ];
  test.each(EDITS)('%s', async (_what, format, edit, kind) => {
    const out = join(tempDir(), `edited.${format}`);
    const { manifestPath } = await exportLog(db, schema, 'inference_log', { format, out });
    expect((await verifyBundle(manifestPath)).ok).toBe(true);
    rewriteBundleFile(manifestPath, 'records', (data) => changeLine(format, edit)(data.toString('utf8')));
    const report = await verifyBundle(manifestPath);
    const row = format === 'csv' ? LINE - 1 : LINE;
    const id = await idAt(row);
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind,
        line: LINE,
        row,
        id,
        message: expect.stringContaining(
          kind === 'malformed' ? `line ${LINE} (row ${row}) is not in canonical form` : 'does not match its record_hash',
        ),
      }),
    ]);
  });
});
