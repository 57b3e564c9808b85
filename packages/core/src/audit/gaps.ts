import type { IBaseProtocol } from 'pg-promise';
import { logTableNames } from '../sink/names';
import { pgp } from '../sink/pgp';

/**
 * The stretches of each chain held by these partitions, as one SELECT: per chain, each island of
 * consecutive chain_seq over all of them together (a chain's rows may be spread over several months),
 * with its first and last seq, the record_hash of its last row and the partitions its rows are in.
 * dense_rank (not row_number) keeps a duplicated seq — only ever made by tampering — inside one island,
 * and a last row without a hash (tampering too) gets '' as last_hash, which no kept row's prev_hash
 * matches: retention never hides what verify would have found.
 */
function stretchesSql(schema: string, partitions: readonly string[]): string {
  const rows = partitions
    .map((p) =>
      pgp.as.format(
        'SELECT chain_id, chain_seq, record_hash, id, $3 AS part FROM $1:name.$2:name WHERE chain_id IS NOT NULL AND chain_seq IS NOT NULL',
        [schema, p, p],
      ),
    )
    .join(' UNION ALL ');
  return `WITH dropped AS (${rows}),
    numbered AS (SELECT *, chain_seq - dense_rank() OVER (PARTITION BY chain_id ORDER BY chain_seq) AS island FROM dropped)
    SELECT chain_id, min(chain_seq) AS from_seq, max(chain_seq) AS to_seq,
           coalesce((array_agg(record_hash ORDER BY chain_seq DESC, id DESC))[1], '') AS last_hash,
           string_agg(DISTINCT part, ', ' ORDER BY part) AS partitions
      FROM numbered GROUP BY chain_id, island`;
}

/**
 * Records in `<table>_gap` the chain stretches held by these partitions, before they are dropped, so
 * that verifyLog still verifies the rows kept (the gap's last_hash is what the next kept row's prev_hash
 * must be); the gap's `partition` names the partitions its rows were in. With `dryRun`, only counts them.
 * Returns the number of gap rows (that would be) recorded.
 */
export async function recordGaps(
  t: IBaseProtocol<unknown>,
  schema: string,
  table: string,
  partitions: readonly string[],
  dryRun: boolean,
): Promise<number> {
  if (partitions.length === 0) return 0;
  const stretches = stretchesSql(schema, partitions);
  if (dryRun) return Number((await t.one(`SELECT count(*) AS n FROM (${stretches}) s`)).n);
  const insert = pgp.as.format(
    'INSERT INTO $1:name.$2:name (chain_id, from_seq, to_seq, last_hash, partition) SELECT chain_id, from_seq, to_seq, last_hash, partitions FROM',
    [schema, logTableNames(schema, table).gaps],
  );
  return (await t.result(`${insert} (${stretches}) s`)).rowCount;
}
