import { from as copyFrom } from 'pg-copy-streams';
import type { Chain, Chained } from '../chain/chain';
import { EVENT_TABLE, RECORD_TABLE } from '../columns';
import type { StoredEvent } from '../events/event';
import { RECORD_COLUMNS, type InferenceRecord } from '../record/record';
import { sendCopy } from './copy-stream';
import { isServerError, withDeadline, type Connection } from './deadline';
import { insertColumns, type InsertColumns } from './insert-columns';
import { migrate } from './migrate';
import { logTableNames, type LogTableNames } from './names';
import { ensurePartitions, monthStart } from './partitions';
import { pgp, type Database } from './pgp';

/** Where records go. The sink is an interface so another store (a queue, Citus) can replace PostgreSQL. */
export interface RecordSink {
  /** Stores the records (idempotent: rows already stored are skipped) and moves their chains' heads, in one transaction. */
  insert(records: InferenceRecord[]): Promise<void>;
  /** Registers a writer's chain (once, before its first rows) and keeps it to sign the heads of its rows. */
  registerChain(chain: Chain): Promise<void>;
  /** Which of these record ids are stored already (for records replayed from a journal, before they are sealed). */
  existing(ids: string[]): Promise<Set<string>>;
  /** A chain's head as the database recorded it: the last stored sequence number and hash. */
  chainHead(chainId: string): Promise<{ seq: number; hash: string | null }>;
  /** Stores a sealed oversight event and moves its chain's head, in one transaction. */
  insertEvent(event: StoredEvent): Promise<void>;
  /** The stored event with this id, if there is one. */
  storedEvent(id: string): Promise<StoredEvent | null>;
  close(): Promise<void>;
}

/** The newest row of each chain among rows just stored: the chain heads to record. */
export function chainHeads(rows: readonly Chained[]): { chain_id: string; seq: number; hash: string | null }[] {
  const heads = new Map<string, { chain_id: string; seq: number; hash: string | null }>();
  for (const row of rows) {
    if (!row.chain_id || row.chain_seq == null) continue;
    const head = heads.get(row.chain_id);
    if (!head || row.chain_seq > head.seq)
      heads.set(row.chain_id, { chain_id: row.chain_id, seq: row.chain_seq, hash: row.record_hash ?? null });
  }
  return [...heads.values()];
}

const UNIQUE_VIOLATION = '23505';
const CHECK_VIOLATION = '23514';

/**
 * Some rows of a sealed batch were stored meanwhile by another attempt (a commit that landed after its
 * client gave up on it, or another process replaying the same journal). Their seals may differ from the
 * batch's, so nothing of it was written: unseal, read the chain's head back, leave out the rows stored
 * and seal the rest anew. Not a data error: the batch is fine, only its seals are stale.
 */
export class StoredMeanwhileError extends Error {
  override readonly name = 'StoredMeanwhileError';
  constructor(readonly skipped: number) {
    super(`${skipped} records of the batch were stored meanwhile by another attempt; the batch is sealed again without them`);
  }
}

const isSealed = (records: readonly InferenceRecord[]) => records.some((r) => r.chain_id != null);

/**
 * Writes each batch with one COPY (the fastest way into PostgreSQL). COPY cannot skip rows that exist,
 * so when a batch meets a row already stored (a retry of a batch whose first attempt did commit, or a
 * replay) it is written again with a multi-row INSERT … ON CONFLICT DO NOTHING: never a duplicate (and
 * a sealed batch that meets one is refused whole, see `StoredMeanwhileError`). Every round trip runs on
 * a connection of its own within `timeoutMs` (connect included); past it the connection is dropped and
 * the call fails, so a silent network fails like a refused one and the logger retries or spills.
 */
export class PostgresSink implements RecordSink {
  private readonly columns: InsertColumns;
  private readonly eventColumns: InsertColumns;
  private readonly conflict: string;
  private readonly copySql: string;
  private readonly months = new Set<number>();
  /** The chains registered through this sink, which sign the heads of their rows. */
  private readonly owners = new Map<string, Chain>();
  private readonly advanceSql: string;
  private readonly names: LogTableNames;
  /** Batches written by COPY and by the idempotent INSERT, for tests and benchmarks. */
  readonly writes = { copy: 0, insert: 0 };
  /** Whether the server takes COPY FROM STDIN: PGlite behind pglite-socket does not (its socket does not relay COPY data). */
  private copySupported = true;

  constructor(
    private readonly db: Database,
    private readonly schema: string,
    private readonly table: string,
    private readonly partitionsAhead: number,
    private readonly release: () => Promise<void>,
    private readonly timeoutMs = 10_000,
  ) {
    this.names = logTableNames(schema, table);
    this.columns = insertColumns(RECORD_TABLE, schema, table);
    this.eventColumns = insertColumns(EVENT_TABLE, schema, this.names.events);
    this.conflict = ' ON CONFLICT (id, started_at) DO NOTHING';
    this.advanceSql = `${pgp.as.format('UPDATE $1:name.$2:name', [schema, this.names.chains])} SET last_seq = $2, last_hash = $3, head_signature = $4, head_token = $5, updated_at = now() WHERE chain_id = $1 AND last_seq < $2`;
    this.copySql = pgp.as.format('COPY $1:name.$2:name ($3:name) FROM STDIN', [schema, table, RECORD_COLUMNS]);
  }

  /** Runs `work` on a connection of its own within the deadline (see `withDeadline`). */
  private within<T>(what: string, work: (c: Connection, discard: () => void) => Promise<T>): Promise<T> {
    return withDeadline(this.db, what, this.timeoutMs, work, (err) => err instanceof StoredMeanwhileError);
  }

  async registerChain(chain: Chain): Promise<void> {
    const r = chain.registration;
    // The server fills in the chain's origin (who registered it, from where) whatever a client sends.
    await this.within('registering the chain', (c) =>
      c.none(
        'INSERT INTO $1:name.$2:name (chain_id, kind, started_at, host, pid, service, service_version, public_key, token_hash, statement_interval_ms) VALUES ($3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (chain_id) DO NOTHING',
        [
          this.schema,
          this.names.chains,
          r.chain_id,
          r.kind,
          r.started_at,
          r.host,
          r.pid,
          r.service,
          r.service_version,
          r.public_key,
          r.token_hash,
          r.statement_interval_ms,
        ],
      ),
    );
    this.owners.set(chain.id, chain);
  }

  async chainHead(chainId: string): Promise<{ seq: number; hash: string | null }> {
    const row = await this.within('reading the chain head', (c) =>
      c.oneOrNone('SELECT last_seq, last_hash FROM $1:name.$2:name WHERE chain_id = $3', [this.schema, this.names.chains, chainId]),
    );
    return row ? { seq: Number(row.last_seq), hash: row.last_hash } : { seq: 0, hash: null };
  }

  async insertEvent(event: StoredEvent): Promise<void> {
    const heads = this.headMoves([event]);
    await this.within('storing an oversight event', (c) =>
      c.tx('inferlog-event', async (t) => {
        await t.none(pgp.helpers.insert(event, this.eventColumns));
        for (const head of heads) await t.none(head);
      }),
    );
  }

  async storedEvent(id: string): Promise<StoredEvent | null> {
    return this.within('reading an oversight event', (c) =>
      c.oneOrNone('SELECT * FROM $1:name.$2:name WHERE id = $3', [this.schema, this.names.events, id]),
    );
  }

  async existing(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.within('reading which records are stored', (c) =>
      c.any('SELECT id FROM $1:name.$2:name WHERE id = ANY($3::uuid[])', [this.schema, this.table, ids]),
    );
    return new Set(rows.map((r) => r.id as string));
  }

  /**
   * The statements that move chain heads forward (never back: a replay of older rows leaves them), each
   * signed by the chain that sealed the rows and carrying its token as a bind parameter (never in the
   * SQL text, which other sessions of the same login can read in pg_stat_activity). Rows of a chain not
   * registered through this sink move its head unsigned, which the database allows only for a chain
   * registered without a key (before migration 5).
   */
  headMoves(rows: readonly Chained[]): InstanceType<typeof pgp.ParameterizedQuery>[] {
    return chainHeads(rows).map((h) => {
      const signed = this.owners.get(h.chain_id)?.signHead(h.seq, h.hash);
      return new pgp.ParameterizedQuery({
        text: this.advanceSql,
        values: [h.chain_id, h.seq, h.hash, signed?.signature ?? null, signed?.token ?? null],
      });
    });
  }

  /** Migrates (when asked) and creates the partitions from this month to `partitionsAhead` months ahead. */
  async prepare(runMigrations: boolean): Promise<void> {
    if (runMigrations) await this.within('migrating the log', (c) => migrate(c, this.schema, this.table));
    await this.ensureMonths([Date.now()]);
    const { version } = await this.within('reading the server version', (c) => c.one('SELECT version() AS version'));
    this.copySupported = !/PGlite/i.test(version);
  }

  async insert(records: InferenceRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.ensureMonths(records.map((r) => r.started_at.getTime()));
    try {
      await this.insertOnce(records);
    } catch (err) {
      // A month this process had made was dropped since (retention): make it again, once.
      if ((err as { code?: string }).code !== CHECK_VIOLATION || !/no partition/i.test((err as Error).message)) throw err;
      this.months.clear();
      await this.ensureMonths(records.map((r) => r.started_at.getTime()));
      await this.insertOnce(records);
    }
  }

  private async insertOnce(records: InferenceRecord[]): Promise<void> {
    if (!this.copySupported) return this.insertIdempotent(records);
    try {
      await this.copy(records);
      this.writes.copy++;
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      await this.insertIdempotent(records);
    }
  }

  /**
   * The batch as one multi-row INSERT that skips rows already stored, with the chain heads, in one
   * transaction. Unsealed rows already stored are simply skipped; for a sealed batch that would leave
   * the chain with the seals of two attempts, so it is rolled back with a `StoredMeanwhileError`.
   */
  async insertIdempotent(records: InferenceRecord[]): Promise<void> {
    const heads = this.headMoves(records);
    const sealed = isSealed(records);
    await this.within(`writing ${records.length} records`, (c) =>
      c.tx('inferlog-insert', async (t) => {
        const { rowCount } = await t.result(pgp.helpers.insert(records, this.columns) + this.conflict);
        if (sealed && rowCount < records.length) throw new StoredMeanwhileError(records.length - rowCount);
        for (const head of heads) await t.none(head);
      }),
    );
    this.writes.insert++;
  }

  /** The batch by COPY (its text made and sent a slice at a time: copy-stream.ts), with the chain heads, in one transaction. */
  private async copy(records: InferenceRecord[]): Promise<void> {
    const heads = this.headMoves(records);
    await this.within(`writing ${records.length} records by COPY`, async (c, discard) => {
      await c.none('BEGIN');
      try {
        await sendCopy((c.client as unknown as { query<T>(submittable: T): T }).query(copyFrom(this.copySql)), records);
        for (const head of heads) await c.none(head);
        await c.none('COMMIT');
      } catch (err) {
        // A failed COPY leaves nothing behind; after a server error the connection is usable once rolled back.
        if (isServerError(err)) await c.none('ROLLBACK').catch(discard);
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    await this.release();
  }

  private async ensureMonths(times: number[]): Promise<void> {
    const missing = new Map<number, Date>();
    for (const ms of times) {
      if (this.months.has(monthStart(ms).getTime())) continue;
      for (let ahead = 0; ahead <= this.partitionsAhead; ahead++) {
        const month = monthStart(ms, ahead);
        if (!this.months.has(month.getTime())) missing.set(month.getTime(), month);
      }
    }
    if (missing.size === 0) return;
    await this.within('creating monthly partitions', (c) => ensurePartitions(c, this.schema, this.table, [...missing.values()]));
    for (const key of missing.keys()) this.months.add(key);
  }
}
