import { openPostgresSink } from '../packages/core/src/sink/connect';
import { resolveOptions } from '../packages/core/src/options';
import { uuidv7 } from '../packages/core/src/ids';
import type { InferenceRecord } from '@inferlog/core';
import type { PostgresSink } from '../packages/core/src/sink/postgres-sink';
import { DATABASE_URL, db, dropSchema, endPool, uniqueSchema } from './helpers';

const schema = uniqueSchema('sink');
let sink: PostgresSink;

const awkward = 'tab\there, newline\nthere, cr\r, backslash \\ and \\N, quote " \' , unicode ✓ 😀, nul\u0000';

function record(i: number, text = `r-${i}`): InferenceRecord {
  const now = Date.now();
  return {
    id: uuidv7(now),
    started_at: new Date(now),
    ended_at: new Date(now + 3),
    latency_ms: 3.25,
    request_id: text,
    trace_id: null,
    span_id: null,
    service: 'svc',
    service_version: null,
    host: 'h',
    method: 'POST',
    route: '/x',
    path: `/x/${i}`,
    status: 200,
    aborted: false,
    protocol: 'raw',
    model_name: text,
    model_version: null,
    inference_id: null,
    parameters: { note: text, nested: { list: [1, 'two', null] } },
    inputs: null,
    outputs: [text],
    response_parameters: null,
    usage: null,
    error: null,
    request_headers: { 'content-type': 'text/plain' },
    response_headers: null,
    request_body: text,
    response_body: null,
    request_bytes: 10,
    response_bytes: 0,
    request_sha256: null,
    response_sha256: null,
    truncated: ['request_body', text],
    redactions: [],
    schema_errors: null,
    annotations: { text },
  };
}

/** The rows of records whose number is in [from, to) (the log is append-only: tests read their own rows, never clear the table). */
const readBack = (from: number, to: number) =>
  db.any(
    "SELECT request_id, model_name, parameters, outputs, request_body, truncated, annotations, latency_ms, status, aborted FROM $1:name.inference_log WHERE split_part(path, '/', 3)::int >= $2 AND split_part(path, '/', 3)::int < $3 ORDER BY path",
    [schema, from, to],
  );

beforeAll(async () => {
  sink = await openPostgresSink(resolveOptions({ database: DATABASE_URL, schema }));
});

afterAll(async () => {
  await sink.close();
  await dropSchema(schema);
  await endPool();
});

test('awkward text (tabs, newlines, backslashes, quotes, emoji, U+0000) round-trips through the batch writer', async () => {
  await sink.insert([record(1, awkward), record(2)]);
  const [row] = await readBack(1, 3);
  const stored = awkward.replace('\u0000', '\ufffd');
  expect(row).toEqual({
    request_id: stored,
    model_name: stored,
    parameters: { note: stored, nested: { list: [1, 'two', null] } },
    outputs: [stored],
    request_body: stored,
    truncated: ['request_body', stored],
    annotations: { text: stored },
    latency_ms: 3.25,
    status: 200,
    aborted: false,
  });
});

test('COPY and the idempotent INSERT store exactly the same values', async () => {
  const records = [record(10, awkward), record(11, 'plain'), record(12, '{"json": "in text"}')];
  await sink.insert(records);
  await sink.insertIdempotent(records.map((r) => ({ ...r, id: uuidv7() })));
  const rows = await readBack(10, 13);
  expect(rows).toHaveLength(6);
  for (let i = 0; i < 3; i++) expect(rows[2 * i]).toEqual(rows[2 * i + 1]);
});

test('a batch sent as many slices of COPY text is stored whole or not at all', async () => {
  // 350 rows: four slices. A value PostgreSQL refuses in the last slice undoes the slices it already took.
  const refused = Array.from({ length: 350 }, (_, i) => record(1000 + i));
  refused[349] = { ...refused[349]!, id: 'not-a-uuid' };
  await expect(sink.insert(refused)).rejects.toThrow(/uuid/);
  expect(await readBack(1000, 1350)).toHaveLength(0);
  const whole = Array.from({ length: 350 }, (_, i) => record(2000 + i));
  await sink.insert(whole);
  const rows = await readBack(2000, 2350);
  expect(rows.map((r) => r.request_id)).toEqual(whole.map((r) => r.request_id));
});

test('a value refused in the first slice of a long COPY fails the write, and nothing after it is sent on the dead stream', async () => {
  // 2000 rows of 8 KiB bodies: 16 MiB of COPY text, more than the socket takes at once, so the server's
  // error arrives while slices are still being sent.
  const body = 'x'.repeat(8192);
  const refused = Array.from({ length: 2000 }, (_, i) => ({ ...record(3000 + i), request_body: body }));
  refused[0] = { ...refused[0]!, id: 'not-a-uuid' };
  await expect(sink.insert(refused)).rejects.toThrow(/uuid/);
  expect(await readBack(3000, 5000)).toHaveLength(0);
  // The sink goes on writing.
  await sink.insert([record(5000)]);
  expect(await readBack(5000, 5001)).toHaveLength(1);
});

test('a batch written twice, or overlapping one already stored, never duplicates a row', async () => {
  const first = Array.from({ length: 50 }, (_, i) => record(100 + i));
  const second = [...first.slice(25), ...Array.from({ length: 25 }, (_, i) => record(200 + i))];
  const before = { ...sink.writes };
  await sink.insert(first);
  await sink.insert(first);
  await sink.insert(second);
  expect(await readBack(100, 300)).toHaveLength(75);
  // The repeated batches went through the idempotent INSERT (COPY refused the duplicates), except on
  // PGlite, where every batch uses it.
  expect(sink.writes.insert - before.insert).toBeGreaterThanOrEqual(2);
});

test('a sealed batch that meets rows stored meanwhile is refused whole: nothing written, the head unmoved', async () => {
  const { Chain } = await import('../packages/core/src/chain/chain');
  const { StoredMeanwhileError } = await import('../packages/core/src/sink/postgres-sink');
  const other = new Chain('record', 'svc', null);
  const mine = new Chain('record', 'svc', null);
  await sink.registerChain(other);
  await sink.registerChain(mine);
  const batch = Array.from({ length: 10 }, (_, i) => record(400 + i));
  const planted = batch.slice(0, 3).map((r) => ({ ...r }));
  other.seal(planted);
  await sink.insert(planted);
  mine.seal(batch);
  await expect(sink.insert(batch)).rejects.toBeInstanceOf(StoredMeanwhileError);
  expect(await readBack(400, 410)).toHaveLength(3);
  expect(await sink.chainHead(mine.id)).toEqual({ seq: 0, hash: null });
});

test('a logger whose batch meets rows another process stored meanwhile seals the rest again: its chain has no gap', async () => {
  const { Chain } = await import('../packages/core/src/chain/chain');
  const { Exchange } = await import('../packages/core/src/capture/exchange');
  const { InferenceLogger } = await import('@inferlog/core');
  const { verifyLog } = await import('@inferlog/core/audit');
  const schema2 = uniqueSchema('sink_meanwhile');
  const errors: Error[] = [];
  let planted = 0;
  // The real sink; the first sealed batch finds its first 3 rows already stored by another writer's chain
  // (a second process replaying the same journal), just after the logger checked which were stored.
  const openRacing: typeof openPostgresSink = async (options) => {
    const real = await openPostgresSink(options);
    const otherChain = new Chain('record', 'other-process', null);
    const insert = real.insert.bind(real);
    real.insert = async (records) => {
      if (planted === 0 && records.length >= 5 && records[0].chain_id) {
        const copies = records.slice(0, 3).map((r) => ({ ...r, chain_id: null, chain_seq: null, prev_hash: null, record_hash: null }));
        await real.registerChain(otherChain);
        otherChain.seal(copies);
        await insert(copies);
        planted = copies.length;
      }
      return insert(records);
    };
    return real;
  };
  const logger = new InferenceLogger(
    { database: DATABASE_URL, schema: schema2, spillDir: false, onError: (e) => errors.push(e) },
    openRacing,
  );
  try {
    await logger.ready();
    const route = logger.options.selector.select('POST', '/v2/models/m/infer', {})!;
    for (let i = 0; i < 8; i++) {
      const x = new Exchange(
        route,
        { method: 'POST', url: '/v2/models/m/infer', headers: { 'x-request-id': `meanwhile-${i}` } } as never,
        1024,
        'x-request-id',
      );
      x.status = 200;
      logger.enqueue(x);
    }
    await logger.flush();
    expect(planted).toBe(3);
    expect(logger.stats()).toMatchObject({ written: 8, dropped: 0 });
    const rows = await db.any('SELECT request_id, chain_id FROM $1:name.inference_log ORDER BY request_id', [schema2]);
    expect(rows.map((r) => r.request_id)).toEqual(Array.from({ length: 8 }, (_, i) => `meanwhile-${i}`));
    const report = await verifyLog(db as never, schema2, 'inference_log');
    expect(report.problems).toEqual([]);
    expect(report.chains.find((c) => c.chain_id === logger.chain.id)).toMatchObject({ rows: 5, first_seq: 1, last_seq: 5, ok: true });
    expect(errors).toEqual([]);
  } finally {
    await logger.close();
    await dropSchema(schema2);
  }
});
