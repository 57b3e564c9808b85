// `inferlog export --format parquet`: a dataset for retraining, read back by an independent reader
// (hyparquet, not the writer's own code). Records with flat and nested tensors, a batch of two, a
// tensor whose shape changes (a text column), BYTES text, missing elements, and ground_truth events by
// id and by request id (the later of two wins); every column checked for known rows, the filters, the
// row groups, and `verify --bundle` refusing the dataset.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceLogger, type InferenceRecord } from '@inferlog/core';
import { exportLog, type ParquetExportResult } from '@inferlog/core/audit';
import { cli, openWriter, record, type Writer } from './cli-helpers';
import { db, dropSchema, endPool, logOptions, tempDir, uniqueSchema } from './helpers';

type Hyparquet = typeof import('hyparquet') & {
  asyncBufferFromFile(path: string): Promise<import('hyparquet').AsyncBuffer>;
};

const schema = uniqueSchema('parquet');
const dir = tempDir('inferlog-parquet-');
const start = Date.UTC(2026, 4, 1, 8);
const at = (k: number) => start + k * 60_000;
let writer: Writer;
let reviews: InferenceLogger;
let hp: Hyparquet;
/** The records as written, by request id. */
const byRequest = new Map<string, InferenceRecord>();
/** The winning ground_truth event per request id: its label's JSON and its time. */
const truth = new Map<string, { label: string; at: Date }>();

const FIXED = [
  'id',
  'request_id',
  'started_at',
  'model_name',
  'model_version',
  'route',
  'protocol',
  'status',
  'latency_ms',
  'schema_error_count',
];

const fp32 = (name: string, shape: number[], data: unknown) => ({ name, datatype: 'FP32', shape, data });
const bytes = (name: string, shape: number[], data: unknown) => ({ name, datatype: 'BYTES', shape, data });

/** The log: five credit records and one fraud record, a minute apart, and one the day before. */
function records(): InferenceRecord[] {
  const base = (i: number, fields: Partial<InferenceRecord>) => record(i, at(i), fields);
  return [
    // Flat data, shape [1,4]; a BYTES text; a BOOL pair; outputs FP32 [1,1] and an embedding of 3.
    base(0, {
      inputs: [
        fp32('features', [1, 4], [0.5, 1, 2, 3]),
        bytes('text', [1], ['hello, "world"']),
        { name: 'flags', datatype: 'BOOL', shape: [1, 2], data: [true, false] },
      ],
      outputs: [fp32('probability', [1, 1], [0.25]), fp32('embedding', [1, 3], [0.1, 0.2, 0.3])],
      annotations: { tenant: 'acme' },
    }),
    // Nested data, flattened depth-first.
    base(1, {
      inputs: [
        fp32('features', [1, 4], [[1.5, 2.5, 3.5, 4.5]]),
        bytes('text', [1, 1], [['nested ünïcode ✓']]),
        { name: 'flags', datatype: 'BOOL', shape: [1, 2], data: [[false, true]] },
      ],
      outputs: [fp32('probability', [1, 1], [[0.75]]), fp32('embedding', [1, 3], [[1, 2, 3]])],
      latency_ms: 12.5,
    }),
    // A batch of two samples: the first sample only.
    base(2, {
      inputs: [
        fp32('features', [2, 4], [10, 11, 12, 13, 20, 21, 22, 23]),
        bytes('text', [2, 1], ['first', 'second']),
        {
          name: 'flags',
          datatype: 'BOOL',
          shape: [2, 2],
          data: [
            [true, true],
            [false, false],
          ],
        },
      ],
      outputs: [
        fp32('probability', [2, 1], [0.1, 0.9]),
        fp32(
          'embedding',
          [2, 3],
          [
            [4, 5, 6],
            [7, 8, 9],
          ],
        ),
      ],
      status: 500,
      schema_errors: [
        { part: 'request', path: '/inputs/0', message: 'a' },
        { part: 'response', path: '/outputs/0', message: 'b' },
      ],
    }),
    // Missing and non-number elements are null; a tensor missing from the record is null throughout; no response.
    base(3, {
      inputs: [fp32('features', [1, 4], [7, null, 'x'])],
      outputs: [fp32('embedding', [1, 3], [1, 2, 3])],
      status: null,
      model_version: null,
      route: null,
    }),
    // The embedding has another shape here: over all rows it is one text column, the JSON of its data.
    base(4, {
      inputs: [fp32('features', [1, 4], [1, 2, 3, 4]), bytes('text', [1], ['four'])],
      outputs: [fp32('probability', [1, 1], [0.5]), fp32('embedding', [1, 5], [1, 2, 3, 4, 5])],
      model_version: '2',
    }),
    // Another model, protocol and route; a tensor wider than 64 elements (text); a BYTES of two elements per sample (JSON).
    base(5, {
      model_name: 'fraud',
      protocol: 'kserve-v1',
      route: '/v1/models/:model:predict',
      inputs: [
        fp32('features', [1, 4], [9, 8, 7, 6]),
        { name: 'image', datatype: 'UINT8', shape: [1, 100], data: Array.from({ length: 100 }, (_, k) => k) },
        bytes('pair', [1, 2], ['a', 'b']),
      ],
      outputs: [fp32('probability', [1, 1], [1])],
      status: 200,
    }),
    // Outside the exported day.
    record(99, start - 86_400_000),
  ];
}

const read = async (file: string, extra: Record<string, unknown> = {}) =>
  hp.parquetReadObjects({ file: await hp.asyncBufferFromFile(file), ...extra } as Parameters<Hyparquet['parquetReadObjects']>[0]);

const columnNames = async (file: string) => {
  const metadata = await hp.parquetMetadataAsync(await hp.asyncBufferFromFile(file));
  return { names: metadata.schema.slice(1).map((s) => s.name), metadata };
};

const exportCli = async (name: string, args: string[] = []) => {
  const out = join(dir, name);
  const run = await cli(schema, ['export', '--format', 'parquet', '--since', '2026-05-01', '--until', '2026-05-02', '--out', out, ...args]);
  return { out, run };
};

beforeAll(async () => {
  // The package's Node entry (which Jest loads) adds asyncBufferFromFile to what these types, resolved for a browser, declare.
  hp = (await import('hyparquet')) as unknown as Hyparquet;
  writer = await openWriter(schema, 'parquet-test');
  const written = records();
  await writer.write(written);
  for (const r of written) byRequest.set(r.request_id, r);
  reviews = new InferenceLogger(logOptions(schema, { service: 'review-desk' }));
  await reviews.ready();
  const label = async (subject: string, value: unknown, requestId: string) => {
    const e = await reviews.event(subject, { type: 'ground_truth', actor: 'labeller', data: { label: value } });
    truth.set(requestId, { label: JSON.stringify(value), at: e.created_at as Date });
    await new Promise((resolve) => setTimeout(resolve, 5));
  };
  await label(byRequest.get('r-0')!.id, 'approve', 'r-0'); // by id
  await label('r-1', { class: 1, score: 0.5 }, 'r-1'); // by request id
  await label('r-2', 'deny', 'r-2');
  await label(byRequest.get('r-2')!.id, 'approve', 'r-2'); // later, by id: wins
  await reviews.event('r-3', { type: 'human_review', actor: 'reviewer', data: { label: 'not ground truth' } });
  const noLabel = await reviews.event('r-4', { type: 'ground_truth', actor: 'labeller', data: { comment: 'unsure' } });
  truth.set('r-4', { label: null as unknown as string, at: noLabel.created_at as Date });
}, 120_000);

afterAll(async () => {
  await reviews?.close();
  await writer?.close();
  await dropSchema(schema);
  await endPool();
  rmSync(dir, { recursive: true, force: true });
});

describe('the whole day', () => {
  let out: string;
  let rows: Record<string, any>[];
  let text: string;

  beforeAll(async () => {
    const done = await exportCli('may.parquet');
    expect(done.run).toMatchObject({ code: 0, stderr: '' });
    out = done.out;
    text = done.run.stdout;
    rows = await read(out);
  });

  test('the text says how many rows and columns went where, and that it is no evidence', () => {
    expect(text).toContain('exported 6 records as a parquet dataset of 23 columns (11 from tensors) in 1 row group (');
    expect(text).toContain(`to ${out} in`);
    expect(text).toContain('labelled 3 of them with a ground truth');
    expect(text).toContain(`manifest ${out}.manifest.json`);
    expect(text).toContain('a dataset for retraining, not evidence');
  });

  test('the columns: the record, the tensors flattened or as text, the ground truth; in order', async () => {
    const { names, metadata } = await columnNames(out);
    // Inputs, then outputs, each by its first position in a record's list, then by name.
    expect(names).toEqual([
      ...FIXED,
      'inputs.features[0]',
      'inputs.features[1]',
      'inputs.features[2]',
      'inputs.features[3]',
      'inputs.image',
      'inputs.text',
      'inputs.flags[0]',
      'inputs.flags[1]',
      'inputs.pair',
      'outputs.embedding',
      'outputs.probability[0]',
      'ground_truth',
      'ground_truth_at',
    ]);
    const types = Object.fromEntries(
      metadata.schema.slice(1).map((s) => [s.name, [s.type, s.repetition_type, s.logical_type?.type ?? null]]),
    );
    expect(types).toMatchObject({
      id: ['BYTE_ARRAY', 'REQUIRED', 'STRING'],
      started_at: ['INT64', 'REQUIRED', 'TIMESTAMP'],
      status: ['INT32', 'OPTIONAL', null],
      latency_ms: ['DOUBLE', 'REQUIRED', null],
      schema_error_count: ['INT32', 'REQUIRED', null],
      'inputs.features[0]': ['DOUBLE', 'OPTIONAL', null],
      'inputs.text': ['BYTE_ARRAY', 'OPTIONAL', 'STRING'],
      'outputs.embedding': ['BYTE_ARRAY', 'OPTIONAL', 'STRING'],
      ground_truth: ['BYTE_ARRAY', 'OPTIONAL', 'STRING'],
      ground_truth_at: ['INT64', 'OPTIONAL', 'TIMESTAMP'],
    });
    expect(metadata.schema.find((s) => s.name === 'started_at')?.logical_type).toEqual({
      type: 'TIMESTAMP',
      isAdjustedToUTC: true,
      unit: 'MICROS',
    });
    expect(Number(metadata.num_rows)).toBe(6);
  });

  test('one row per record of the day, in started_at order, with every column as stored', () => {
    expect(rows.map((r) => r.request_id)).toEqual(['r-0', 'r-1', 'r-2', 'r-3', 'r-4', 'r-5']);
    const r0 = byRequest.get('r-0')!;
    expect(rows[0]).toEqual({
      id: r0.id,
      request_id: 'r-0',
      started_at: new Date(at(0)),
      model_name: 'credit',
      model_version: '1',
      route: '/v2/models/:model/infer',
      protocol: 'oip-v2',
      status: 200,
      latency_ms: 5,
      schema_error_count: 0,
      'inputs.features[0]': 0.5,
      'inputs.features[1]': 1,
      'inputs.features[2]': 2,
      'inputs.features[3]': 3,
      'inputs.text': 'hello, "world"',
      'inputs.flags[0]': 1,
      'inputs.flags[1]': 0,
      'inputs.image': null,
      'inputs.pair': null,
      'outputs.probability[0]': 0.25,
      'outputs.embedding': '[0.1,0.2,0.3]',
      ground_truth: '"approve"',
      ground_truth_at: truth.get('r-0')!.at,
    });
  });

  test('nested data is flattened depth-first; a BYTES element nested in its sample is its text', () => {
    expect(rows[1]).toMatchObject({
      latency_ms: 12.5,
      'inputs.features[0]': 1.5,
      'inputs.features[1]': 2.5,
      'inputs.features[2]': 3.5,
      'inputs.features[3]': 4.5,
      'inputs.text': 'nested ünïcode ✓',
      'inputs.flags[0]': 0,
      'inputs.flags[1]': 1,
      'outputs.probability[0]': 0.75,
      'outputs.embedding': '[[1,2,3]]',
      ground_truth: '{"class":1,"score":0.5}',
      ground_truth_at: truth.get('r-1')!.at,
    });
  });

  test('a batch of two gives its first sample; a text column holds the JSON of the whole data; the later of two labels wins', () => {
    expect(rows[2]).toMatchObject({
      status: 500,
      schema_error_count: 2,
      'inputs.features[0]': 10,
      'inputs.features[1]': 11,
      'inputs.features[2]': 12,
      'inputs.features[3]': 13,
      'inputs.text': 'first',
      'inputs.flags[0]': 1,
      'inputs.flags[1]': 1,
      'outputs.probability[0]': 0.1,
      'outputs.embedding': '[[4,5,6],[7,8,9]]',
      ground_truth: '"approve"',
      ground_truth_at: truth.get('r-2')!.at,
    });
  });

  test('missing and non-number elements, absent tensors and a record without ground truth are null', () => {
    expect(rows[3]).toMatchObject({
      status: null,
      model_version: null,
      route: null,
      'inputs.features[0]': 7,
      'inputs.features[1]': null,
      'inputs.features[2]': null,
      'inputs.features[3]': null,
      'inputs.text': null,
      'inputs.flags[0]': null,
      'inputs.flags[1]': null,
      'outputs.probability[0]': null,
      'outputs.embedding': '[1,2,3]',
      // Its only event is a human_review, whatever its data holds.
      ground_truth: null,
      ground_truth_at: null,
    });
  });

  test('a ground_truth event without a label: no ground truth, but its time', () => {
    expect(rows[4]).toMatchObject({
      model_version: '2',
      'inputs.text': 'four',
      'outputs.embedding': '[1,2,3,4,5]',
      ground_truth: null,
      ground_truth_at: truth.get('r-4')!.at,
    });
  });

  test('a tensor wider than 64 elements and a BYTES of two elements per sample are the JSON of their data', () => {
    expect(rows[5]).toMatchObject({
      model_name: 'fraud',
      protocol: 'kserve-v1',
      route: '/v1/models/:model:predict',
      'inputs.features[0]': 9,
      'inputs.image': JSON.stringify(Array.from({ length: 100 }, (_, k) => k)),
      'inputs.pair': '["a","b"]',
      'outputs.probability[0]': 1,
      'outputs.embedding': null,
      ground_truth: null,
    });
  });

  test('timestamps carry the microseconds PostgreSQL holds', async () => {
    const stored = await db.one(
      `SELECT (EXTRACT(EPOCH FROM started_at) * 1000000)::bigint::text AS us FROM $1:name.inference_log WHERE request_id = 'r-0'`,
      [schema],
    );
    const raw = await read(out, { columns: ['started_at'], parsers: { timestampFromMicroseconds: (us: bigint) => us } });
    expect(raw[0].started_at).toBe(BigInt(stored.us));
  });

  test('the manifest describes the file: rows, bytes, SHA-256, filters, columns; and says it is no evidence', () => {
    const m = JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8'));
    const file = readFileSync(out);
    expect(m).toMatchObject({
      manifest_version: 1,
      kind: 'dataset',
      format: 'parquet',
      note: 'a parquet export is a dataset for retraining, not evidence: export jsonl or csv to verify',
      file: 'may.parquet',
      bytes: file.length,
      rows: 6,
      ground_truth_rows: 3,
      row_groups: 1,
      sha256: createHash('sha256').update(file).digest('hex'),
      filters: { since: '2026-05-01T00:00:00.000Z', until: '2026-05-02T00:00:00.000Z' },
      source: { schema, table: 'inference_log' },
      order: 'started_at, id',
    });
    expect(m.columns.slice(0, 3)).toEqual([
      { name: 'id', type: 'STRING', nullable: false },
      { name: 'request_id', type: 'STRING', nullable: false },
      { name: 'started_at', type: 'TIMESTAMP', nullable: false },
    ]);
    expect(m.columns.map((c: { name: string }) => c.name)).toHaveLength(23);
    expect(m.columns.find((c: { name: string }) => c.name === 'inputs.features[2]')).toEqual({
      name: 'inputs.features[2]',
      type: 'DOUBLE',
      nullable: true,
    });
    expect(() => statSync(`${out}.events.jsonl`)).toThrow(/ENOENT/);
    expect(() => statSync(`${out}.partial`)).toThrow(/ENOENT/);
  });

  test('verify --bundle refuses the dataset, by its manifest or the file itself, and says why (exit 2); show --bundle too', async () => {
    const why = 'a parquet export is a dataset for retraining, not evidence: export jsonl or csv to verify';
    for (const args of [
      ['verify', '--bundle', `${out}.manifest.json`],
      ['verify', '--bundle', `${out}.manifest.json`, '--json'],
      ['verify', '--bundle', out],
      ['show', 'r-0', '--bundle', `${out}.manifest.json`],
    ]) {
      const run = await cli(null, args);
      expect(run).toMatchObject({ code: 2, stdout: '' });
      expect(run.stderr).toContain(why);
      expect(run.stderr).not.toMatch(/at .*\.ts:\d+/); // a message, not a stack
    }
  });
});

describe('the filters choose the rows, and the rows the columns', () => {
  test('--model credit: without the fraud record, the embedding is the same 3 elements in every row but one: still text', async () => {
    const { out, run } = await exportCli('credit.parquet', ['--model', 'credit']);
    expect(run.code).toBe(0);
    const rows = await read(out);
    expect(rows.map((r) => r.request_id)).toEqual(['r-0', 'r-1', 'r-2', 'r-3', 'r-4']);
    const { names } = await columnNames(out);
    expect(names).not.toContain('inputs.image');
    expect(names).not.toContain('inputs.pair');
    expect(names).toContain('outputs.embedding');
  });

  test('--model credit --version 1: no record of another shape, so the embedding is flattened', async () => {
    const { out, run } = await exportCli('credit-v1.parquet', ['--model', 'credit', '--version', '1']);
    expect(run.code).toBe(0);
    const rows = await read(out);
    expect(rows.map((r) => r.request_id)).toEqual(['r-0', 'r-1', 'r-2']);
    const { names } = await columnNames(out);
    expect(names).toContain('outputs.embedding[2]');
    expect(names).not.toContain('outputs.embedding');
    expect(rows.map((r) => [r['outputs.embedding[0]'], r['outputs.embedding[1]'], r['outputs.embedding[2]']])).toEqual([
      [0.1, 0.2, 0.3],
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  test('--status, --protocol, --route, --annotation and the period select as for the other formats', async () => {
    const requestIds = async (name: string, args: string[]) => {
      const { out, run } = await exportCli(name, args);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      return (await read(out)).map((r) => r.request_id);
    };
    expect(await requestIds('5xx.parquet', ['--status', '5xx'])).toEqual(['r-2']);
    expect(await requestIds('none.parquet', ['--status', 'none'])).toEqual(['r-3']);
    expect(await requestIds('kserve.parquet', ['--protocol', 'kserve-v1'])).toEqual(['r-5']);
    expect(await requestIds('route.parquet', ['--route', '/v2/models/:model/infer'])).toEqual(['r-0', 'r-1', 'r-2', 'r-4']);
    expect(await requestIds('acme.parquet', ['--annotation', 'tenant=acme'])).toEqual(['r-0']);
    expect(await requestIds('late.parquet', ['--since', new Date(at(3)).toISOString()])).toEqual(['r-3', 'r-4', 'r-5']);
  });

  test('nothing selected: a valid file with the record and ground truth columns and no rows', async () => {
    const { out, run } = await exportCli('empty.parquet', ['--model', 'no-such-model']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('exported 0 records as a parquet dataset of 12 columns (0 from tensors) in 0 row groups');
    expect(await read(out)).toEqual([]);
    expect((await columnNames(out)).names).toEqual([...FIXED, 'ground_truth', 'ground_truth_at']);
  });
});

test('from code: row groups of a given size hold the same rows as one group; --json prints the result', async () => {
  const { run } = await exportCli('json.parquet', ['--json']);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  const printed: ParquetExportResult = JSON.parse(run.stdout);
  expect(printed).toMatchObject({
    file: join(dir, 'json.parquet'),
    manifestPath: join(dir, 'json.parquet.manifest.json'),
    manifest: { format: 'parquet', rows: 6, row_groups: 1 },
  });

  const out = join(dir, 'groups.parquet');
  const result: ParquetExportResult = await exportLog(db, schema, 'inference_log', {
    format: 'parquet',
    out,
    filter: { since: new Date('2026-05-01'), until: new Date('2026-05-02') },
    rowGroupRows: 4,
  });
  expect(result.manifest).toMatchObject({ rows: 6, row_groups: 2, columns: printed.manifest.columns });
  const { metadata } = await columnNames(out);
  expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([4, 2]);
  expect(await read(out)).toEqual(await read(printed.file));
  await expect(exportLog(db, schema, 'inference_log', { format: 'parquet', out, rowGroupRows: 0 })).rejects.toThrow(
    /rowGroupRows must be a whole number from 1 to 1000000; got 0/,
  );
});
