// Writer throughput: records/s the sink stores, against COPY of the same rows (the ceiling) and a plain
// pg-promise multi-row INSERT, each into a fresh copy of the log table, in the same process.
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import { Chain } from '../../packages/core/dist/chain/chain';
import { InferenceLogger, type InferenceRecord } from '@inferlog/core';
import { JSONB_COLUMNS, RECORD_COLUMNS } from '../../packages/core/dist/record/record';
import { openPostgresSink } from '../../packages/core/dist/sink/connect';
import { pgp } from '@inferlog/core/audit';
import { toCopyText } from '../../packages/core/dist/sink/copy-text';
import { toJsonb } from '../../packages/core/dist/record/sanitize';
import { uuidv7 } from '../../packages/core/dist/ids';

export function syntheticRecords(count: number): InferenceRecord[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => {
    const data = Array.from({ length: 16 }, (_, j) => ((i * 31 + j) % 97) / 97);
    return {
      id: uuidv7(now + i),
      started_at: new Date(now + i),
      ended_at: new Date(now + i + 2),
      latency_ms: 2.5,
      request_id: `bench-${i}`,
      trace_id: null,
      span_id: null,
      service: 'bench',
      service_version: '1',
      host: 'bench',
      method: 'POST',
      route: '/v2/models/:model/infer',
      path: '/v2/models/bench/infer',
      status: 200,
      aborted: false,
      protocol: 'oip-v2',
      model_name: 'bench',
      model_version: '1',
      inference_id: `inf-${i}`,
      parameters: null,
      inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data }],
      outputs: [{ name: 'score', shape: [1], datatype: 'FP32', data: [0.5] }],
      response_parameters: null,
      usage: null,
      error: null,
      request_headers: { 'content-type': 'application/json' },
      response_headers: { 'content-type': 'application/json' },
      request_body: null,
      response_body: null,
      request_bytes: 300,
      response_bytes: 120,
      request_sha256: 'a'.repeat(64),
      response_sha256: 'b'.repeat(64),
      truncated: [],
      redactions: [],
      schema_errors: null,
      annotations: null,
    };
  });
}

export interface WriterResult {
  method: string;
  recordsPerSec: number;
}

/** What signing chain heads adds to the write path (see `writerThroughput`). */
export interface HeadSigningCost {
  /** Ed25519 signature of one head, alone (µs). */
  signMicros: number;
  /** One head move (a statement of its own), signed and with the token checked, and unsigned (µs). */
  signed: number;
  unsigned: number;
  /** What signing adds per batch (one head move per batch): signed minus unsigned (µs). */
  perBatchMicros: number;
  /** The same, per record. */
  perRecordMicros: number;
  batchRows: number;
}

export async function writerThroughput(
  databaseUrl: string,
  count: number,
  rounds: number,
): Promise<{ results: WriterResult[]; signing: HeadSigningCost }> {
  const schema = `bench_writer_${process.pid}`;
  const options = new InferenceLogger({ database: databaseUrl, schema, onError: () => {} }).options;
  const sink = await openPostgresSink(options);
  const db = pgp({ connectionString: databaseUrl, max: 2 });
  const records = syntheticRecords(count);
  const batch = options.batch.maxRows;
  const columns = new pgp.helpers.ColumnSet(
    RECORD_COLUMNS.map((name) =>
      JSONB_COLUMNS.has(name) ? { name, cast: 'jsonb', init: (c: { value: unknown }) => toJsonb(c.value) } : name,
    ),
    { table: { schema, table: 'inference_log' } },
  );
  const copySql = `COPY "${schema}".inference_log (${RECORD_COLUMNS.join(',')}) FROM STDIN`;
  const writeAll = async () => {
    for (let i = 0; i < records.length; i += batch) await sink.insert(records.slice(i, i + batch));
  };
  /**
   * Seals the records (untimed) into a fresh chain, so every batch really moves a head: signed by a chain
   * registered through the sink, or unsigned, as for a chain registered before chain keys (registered
   * here with triggers off, and not through the sink, so its heads move with neither signature nor token).
   */
  const sealFresh = async (signed: boolean) => {
    const chain = new Chain('record', 'bench', '1');
    if (signed) await sink.registerChain(chain);
    else
      await db.tx(async (t) => {
        await t.none('SET LOCAL session_replication_role = replica');
        await t.none("INSERT INTO $1:name.inference_log_chain (chain_id, kind, started_at) VALUES ($2, 'record', now())", [
          schema,
          chain.id,
        ]);
      });
    for (const r of records) r.chain_id = null;
    chain.seal(records);
  };
  // Each method: set-up (untimed), then the write it times.
  const methods: Record<string, () => Promise<() => Promise<void>>> = {
    'inferlog sink': async () => {
      await sealFresh(true);
      return writeAll;
    },
    // As the delivery loop writes: each batch sealed right before its write (the records' canonical text
    // is made when they are staged, not here), then written.
    'inferlog sink, each batch sealed before its write': async () => {
      const chain = new Chain('record', 'bench', '1');
      await sink.registerChain(chain);
      for (const r of records) r.chain_id = null;
      return async () => {
        for (let i = 0; i < records.length; i += batch) {
          const rows = records.slice(i, i + batch);
          chain.seal(rows);
          await sink.insert(rows);
        }
      };
    },
    'inferlog sink, unsigned heads (legacy chain)': async () => {
      await sealFresh(false);
      return writeAll;
    },
    'pg-promise multi-row INSERT': async () => async () => {
      for (let i = 0; i < records.length; i += batch) await db.none(pgp.helpers.insert(records.slice(i, i + batch), columns));
    },
    // The same COPY text the sink sends, one statement per batch as the sink commits: the sink's own cost.
    'COPY per batch': async () => async () => {
      for (let i = 0; i < records.length; i += batch) await copyChunks(db, copySql, [toCopyText(records.slice(i, i + batch))]);
    },
    // One COPY statement for everything: the ceiling, paid for with one commit for all rows.
    COPY: async () => async () => {
      const chunks = (function* () {
        for (let i = 0; i < records.length; i += batch) yield toCopyText(records.slice(i, i + batch));
      })();
      await copyChunks(db, copySql, chunks);
    },
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(methods).map((m) => [m, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, prepare] of Object.entries(methods)) {
      // The log refuses TRUNCATE (append-only); the benchmark, as superuser, empties it between runs with triggers off.
      await db.tx(async (t) => {
        await t.none('SET LOCAL session_replication_role = replica');
        await t.none('TRUNCATE $1:name.inference_log', [schema]);
      });
      const write = await prepare();
      const start = performance.now();
      await write();
      times[name]!.push(performance.now() - start);
      const stored = (await db.one('SELECT count(*)::int AS n FROM $1:name.inference_log', [schema])).n;
      if (stored !== count) throw new Error(`${name} stored ${stored} of ${count} rows`);
    }
  }
  await db.none('DROP SCHEMA $1:name CASCADE', [schema]);
  await db.$pool.end();
  await sink.close();
  const signer = new Chain('record', 'bench', '1');
  const signs = 2000;
  const signStart = performance.now();
  for (let i = 1; i <= signs; i++) signer.signHead(i, 'ab'.repeat(32));
  const signMicros = ((performance.now() - signStart) * 1000) / signs;
  const moves = await headMoveMicros(databaseUrl, rounds);
  const extra = moves.signed - moves.unsigned;
  return {
    results: Object.entries(times).map(([method, ms]) => ({ method, recordsPerSec: Math.round(count / (median(ms) / 1000)) })),
    signing: { signMicros, ...moves, perBatchMicros: extra, perRecordMicros: extra / batch, batchRows: batch },
  };
}

/**
 * The head move alone, as the sink sends it once per batch (one statement): signed with
 * the token checked by the trigger, against unsigned (a chain registered before chain keys), 1000 of
 * each per round, alternating; median µs per move. The difference is what chain keys add to a batch:
 * the Ed25519 signature, two more bind parameters and the trigger's SHA-256 of the token.
 */
async function headMoveMicros(databaseUrl: string, rounds: number): Promise<{ signed: number; unsigned: number }> {
  const schema = `bench_heads_${process.pid}`;
  const options = new InferenceLogger({ database: databaseUrl, schema, onError: () => {} }).options;
  const sink = await openPostgresSink(options);
  const db = pgp({ connectionString: databaseUrl, max: 1 });
  const signed = new Chain('record', 'bench', '1');
  const unsigned = new Chain('record', 'bench', '1');
  await sink.registerChain(signed);
  await db.tx(async (t) => {
    await t.none('SET LOCAL session_replication_role = replica');
    await t.none("INSERT INTO $1:name.inference_log_chain (chain_id, kind, started_at) VALUES ($2, 'record', now())", [
      schema,
      unsigned.id,
    ]);
  });
  const per: Record<'signed' | 'unsigned', number[]> = { signed: [], unsigned: [] };
  const seq = { signed: 0, unsigned: 0 };
  const n = 1000;
  for (let round = 0; round < rounds; round++) {
    for (const [name, chain] of [
      ['signed', signed],
      ['unsigned', unsigned],
    ] as const) {
      // Each move committed on its own (many updates of one row in one transaction would walk ever longer
      // version chains), without waiting for the WAL flush: the same for both, and the noisiest part.
      const elapsed = await db.task(async (t) => {
        await t.none('SET synchronous_commit = off');
        const start = performance.now();
        for (let i = 0; i < n; i++) {
          const [move] = sink.headMoves([{ chain_id: chain.id, chain_seq: ++seq[name], record_hash: 'ab'.repeat(32) }]);
          await t.none(move!);
        }
        return performance.now() - start;
      });
      per[name].push((elapsed * 1000) / n);
    }
  }
  await db.none('DROP SCHEMA $1:name CASCADE', [schema]);
  await db.$pool.end();
  await sink.close();
  return { signed: median(per.signed), unsigned: median(per.unsigned) };
}

async function copyChunks(db: ReturnType<typeof pgp>, sql: string, chunks: Iterable<string>): Promise<void> {
  const client = await db.$pool.connect();
  try {
    const stream = (client as unknown as { query(s: ReturnType<typeof copyFrom>): ReturnType<typeof copyFrom> }).query(copyFrom(sql));
    await pipeline(Readable.from(chunks), stream);
  } finally {
    client.release();
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
