import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { logTableNames } from '../sink/names';
import { attachedPartitions } from '../sink/partitions';
import type { AnchorProblem } from './anchors';
import type { Snapshot } from './cursor';
import { EVENT_EXPORT, RECORD_EXPORT, type ExportedTable, type ExportFormat } from './export-format';
import { exportRows } from './export-read';
import type { ExportManifest } from './manifest';

/** Rows looked up in the database per query: keeps memory constant whatever the export's size. */
const BATCH = 2000;

/** One file of the export to read: its path, format and which table its rows are of. */
interface ExportFile {
  which: 'records' | 'events';
  path: string;
  format: ExportFormat;
  table: ExportedTable;
  /** The chains of this file the comparison covers (all of the manifest's, or the one of --chain). */
  chains: Set<string>;
}

/** The size and SHA-256 of a file, streaming. */
async function fileDigest(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/**
 * The export's files in `dir` (records, and the events of a version 2 manifest), when they are all there
 * and each has the size and SHA-256 its manifest records; otherwise why they cannot be read row by row
 * (then only the chain ends the manifest records are compared).
 */
export async function exportFilesBeside(dir: string, manifest: ExportManifest): Promise<ExportFile[] | string> {
  const ids = (chains: readonly { chain_id: string | null }[]) => new Set(chains.flatMap((c) => (c.chain_id ? [c.chain_id] : [])));
  const files: ExportFile[] = [
    { which: 'records', path: join(dir, manifest.file), format: manifest.format, table: RECORD_EXPORT, chains: ids(manifest.chains) },
  ];
  if (manifest.events)
    files.push({
      which: 'events',
      path: join(dir, manifest.events.file),
      format: 'jsonl',
      table: EVENT_EXPORT,
      chains: ids(manifest.events.chains),
    });
  const sections = [manifest, manifest.events];
  for (const [i, file] of files.entries()) {
    const section = sections[i]!;
    const found = await stat(file.path).catch(() => null);
    if (!found?.isFile()) return `${file.path} is not beside the manifest`;
    const { bytes, sha256 } = await fileDigest(file.path);
    if (bytes !== section.bytes || sha256 !== section.sha256)
      return `${file.path} does not match its manifest (size or SHA-256; "inferlog verify --bundle" says where)`;
  }
  return files;
}

/** An exported row to look up: where it is in its chain, its hash, and (records) the partition of its month. */
interface Wanted {
  chain_id: string;
  seq: number;
  id: string;
  record_hash: unknown;
  partition: string | null;
}

/** Consecutive exported rows of one chain that the database no longer holds, named as one problem. */
interface MissingRun {
  chain_id: string;
  from: Wanted;
  to: Wanted;
}

export interface RowComparison {
  /** Rows found in the database and compared. */
  checked: number;
  /** Record rows whose month's partition retention has dropped since. */
  dropped: number;
}

/** A stored row's links, as the comparisons with an export read them. */
export type StoredLinks = { prev_hash: string | null; record_hash: string | null };

/** The rows of `relation` at each (chain id, seq) pair, by "chain:seq" (more than one when a seq was duplicated). */
export async function rowsAt(
  t: Snapshot,
  schema: string,
  relation: string,
  chainIds: readonly string[],
  seqs: readonly number[],
): Promise<Map<string, StoredLinks[]>> {
  const rows = await t.any(
    `SELECT l.chain_id, l.chain_seq, l.prev_hash, l.record_hash FROM $1:name.$2:name l
      JOIN unnest($3::uuid[], $4::bigint[]) AS want(chain_id, chain_seq) ON l.chain_id = want.chain_id AND l.chain_seq = want.chain_seq`,
    [schema, relation, chainIds, seqs],
  );
  const found = new Map<string, StoredLinks[]>();
  for (const r of rows) {
    const key = `${r.chain_id}:${r.chain_seq}`;
    found.set(key, [...(found.get(key) ?? []), r]);
  }
  return found;
}

/** The partition a record's started_at (ISO 8601, UTC, as exported) falls in: `<table>_pYYYY_MM`. */
function partitionOf(table: string, startedAt: unknown): string | null {
  const m = typeof startedAt === 'string' ? /^(\d{4})-(\d{2})-/.exec(startedAt) : null;
  return m ? `${table}_p${m[1]}_${m[2]}` : null;
}

/**
 * Every row of the export's files, looked up in the database by (chain_id, chain_seq) in batches: it
 * must still be there with the same record_hash, unless it is a record whose month's partition
 * retention has dropped since (events are never dropped). Rows the export could not read are passed
 * over (`verify --bundle` names them). Consecutive missing rows of a chain are one problem.
 */
export async function compareRows(
  t: Snapshot,
  schema: string,
  table: string,
  manifest: ExportManifest,
  files: readonly ExportFile[],
  problem: (p: AnchorProblem) => void,
): Promise<RowComparison> {
  const result: RowComparison = { checked: 0, dropped: 0 };
  const attached = new Set((await attachedPartitions(t, schema, table)).map((p) => p.partition));
  const { now } = await t.one('SELECT now() AS now');
  // Whether retention can have dropped a month: its partition is gone, the month had ended, and the log
  // holds no row of it. A name alone proves nothing (a partition renamed stays attached, with its rows).
  const gone = new Map<string, boolean>();
  const monthDropped = async (partition: string): Promise<boolean> => {
    let answer = gone.get(partition);
    if (answer === undefined) {
      const m = /_p(\d{4})_(\d{2})$/.exec(partition)!;
      const from = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
      const to = new Date(Date.UTC(Number(m[1]), Number(m[2]), 1));
      answer =
        !attached.has(partition) &&
        to <= (now as Date) &&
        !(
          await t.one('SELECT EXISTS (SELECT FROM $1:name.$2:name WHERE started_at >= $3 AND started_at < $4) AS left', [
            schema,
            table,
            from,
            to,
          ])
        ).left;
      gone.set(partition, answer);
    }
    return answer;
  };
  const when = `the export of ${manifest.exported_at}`;
  for (const file of files) {
    const relation = file.which === 'records' ? table : logTableNames(schema, table).events;
    const prefix = file.which === 'events' ? 'event ' : '';
    let missing: MissingRun | null = null;
    const flush = () => {
      if (!missing) return;
      const { chain_id, from, to } = missing;
      const one = from.seq === to.seq;
      const where = one ? `seq ${from.seq} (id ${from.id})` : `seq ${from.seq}..${to.seq} (ids ${from.id} … ${to.id})`;
      const why =
        file.which === 'events'
          ? 'retention never drops events'
          : one
            ? `retention did not drop its month (${from.partition} is attached, the month has not ended, or rows of it remain)`
            : 'retention did not drop their months (a partition is attached, a month has not ended, or rows of it remain)';
      problem({
        kind: 'missing',
        table: file.which,
        chain_id,
        seq: from.seq,
        message: `${prefix}chain ${chain_id} ${where}, which ${when} holds, ${one ? 'is' : 'are'} no longer in the database and ${why}: deleted`,
      });
      missing = null;
    };
    const lookUp = async (batch: Wanted[]) => {
      const stored = await rowsAt(
        t,
        schema,
        relation,
        batch.map((w) => w.chain_id),
        batch.map((w) => w.seq),
      );
      for (const w of batch) {
        const now = (stored.get(`${w.chain_id}:${w.seq}`) ?? []).map((r) => r.record_hash);
        if (now.length === 0) {
          if (file.which === 'records' && w.partition !== null && (await monthDropped(w.partition))) {
            result.dropped++;
            continue;
          }
          if (missing && missing.chain_id === w.chain_id) missing.to = w;
          else {
            flush();
            missing = { chain_id: w.chain_id, from: w, to: w };
          }
          continue;
        }
        flush();
        result.checked++;
        if (now.length > 1 || now[0] !== w.record_hash)
          problem({
            kind: 'changed',
            table: file.which,
            chain_id: w.chain_id,
            seq: w.seq,
            message: `${prefix}chain ${w.chain_id} seq ${w.seq} (id ${w.id}): ${when} holds record_hash ${String(w.record_hash)}; the database now holds ${now.map((h) => h ?? 'null').join(' and ')}: the row was changed or the chain rewritten after that export`,
          });
      }
    };
    let batch: Wanted[] = [];
    for await (const item of exportRows(createReadStream(file.path, { highWaterMark: 1024 * 1024 }), file.format, file.table)) {
      if (item.error !== undefined) continue;
      const { row } = item;
      const seq = Number(row.chain_seq);
      if (typeof row.chain_id !== 'string' || !file.chains.has(row.chain_id) || !Number.isSafeInteger(seq)) continue;
      batch.push({
        chain_id: row.chain_id,
        seq,
        id: String(row.id),
        record_hash: row.record_hash,
        partition: file.which === 'records' ? partitionOf(table, row.started_at) : null,
      });
      if (batch.length >= BATCH) {
        await lookUp(batch);
        batch = [];
      }
    }
    if (batch.length) await lookUp(batch);
    flush();
  }
  return result;
}
