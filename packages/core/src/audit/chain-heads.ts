import type { IBaseProtocol } from 'pg-promise';
import { headSignatureValid } from '../chain/head-signature';
import { logTableNames } from '../sink/names';

/** Who registered a chain, as the PostgreSQL server saw it (not what the writer claimed as host and pid). */
export interface ChainOrigin {
  /** The session user (the login) that registered the chain. */
  registered_by: string | null;
  /** The client's address (null over a Unix socket). */
  client_addr: string | null;
  /** When that session started (ISO 8601). */
  backend_start: string | null;
  /** When the chain was registered (ISO 8601). */
  registered_at: string | null;
}

/** A chain's registration and head as the chain table records them. */
export interface ChainHead {
  seq: number;
  hash: string | null;
  kind: string;
  public_key: string | null;
  head_signature: string | null;
  /** Null for a chain registered before chain keys (migration 5). */
  origin: ChainOrigin | null;
  /** When the writer says it started the chain. */
  started_at: Date;
}

/** A timestamp as ISO 8601 (a Date's, or the text as read), or null. */
export const iso = (value: unknown) => (value instanceof Date ? value.toISOString() : value == null ? null : String(value));

/** The registered chains of a log table, with their heads, keys and origin (columns a log not yet migrated to version 5 lacks read as null). */
export async function loadHeads(t: IBaseProtocol<unknown>, schema: string, table: string): Promise<Map<string, ChainHead>> {
  const rows = await t.any('SELECT * FROM $1:name.$2:name', [schema, logTableNames(schema, table).chains]);
  return new Map(rows.map((r) => [r.chain_id as string, headOf(r)]));
}

/** A row of the chain table as a ChainHead. */
export function headOf(r: Record<string, unknown>): ChainHead {
  return {
    seq: Number(r.last_seq),
    hash: (r.last_hash as string | null) ?? null,
    kind: r.kind as string,
    public_key: (r.public_key as string | null) ?? null,
    head_signature: (r.head_signature as string | null) ?? null,
    origin:
      r.registered_at == null
        ? null
        : {
            registered_by: (r.registered_by as string | null) ?? null,
            client_addr: (r.client_addr as string | null) ?? null,
            backend_start: iso(r.backend_start),
            registered_at: iso(r.registered_at),
          },
    started_at: r.started_at as Date,
  };
}

/**
 * What a log's migrations say about chain keys: when the log was created (migration 1), when keys
 * became required (migration 5), and whether the chain table has the key columns (so migration 5 ran,
 * whatever the migrations table now says).
 */
export interface KeyEra {
  created: Date | null;
  keysSince: Date | null;
  keyColumns: boolean;
}

/** Reads the key era of a log table (see KeyEra). */
export async function loadKeyEra(t: IBaseProtocol<unknown>, schema: string, table: string): Promise<KeyEra> {
  const names = logTableNames(schema, table);
  const applied = await t.any('SELECT version, applied_at FROM $1:name.$2:name WHERE version IN (1, 5)', [schema, names.migrations]);
  const at = (version: number) => (applied.find((r) => r.version === version)?.applied_at as Date | undefined) ?? null;
  const columns = await t.oneOrNone(
    "SELECT 1 AS found FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name = 'public_key'",
    [schema, names.chains],
  );
  return { created: at(1), keysSince: at(5), keyColumns: columns !== null };
}

/**
 * What is wrong with a chain's head signature, or null when nothing is: a keyed chain's head (once it
 * has one) must be signed by the registered key. A chain without a key passes as a legacy chain
 * (unsigned, not a failure) only if everything says it was registered before keys were required: no
 * server-side origin, a start after the log was created and before migration 5, and a migrations table
 * that still records migration 5 when the chain table has its columns. Otherwise a signed chain was
 * stripped of its key (to be rewritten and passed off as legacy), or the chain was never a writer's.
 */
export function headSignatureProblem(chainId: string, head: ChainHead, era: KeyEra): string | null {
  if (head.public_key === null) {
    const stripped = `chain ${chainId} has no public key`;
    if (head.origin !== null || (era.keysSince !== null && head.started_at >= era.keysSince))
      return `${stripped} though it was registered after chain keys were required: it was registered by something other than an inferlog writer, or its key was removed`;
    if (era.keysSince === null && era.keyColumns)
      return `${stripped}, and the migrations table no longer records migration 5 though the chain table has its columns: the table was rewritten to pass the chain off as one registered before chain keys`;
    if (era.created !== null && head.started_at < era.created)
      return `${stripped} and claims to have started at ${head.started_at.toISOString()}, before the log was created (${era.created.toISOString()}): its registration was rewritten to pass it off as one registered before chain keys`;
    return null;
  }
  if (head.seq === 0 && head.hash === null && head.head_signature === null) return null;
  if (headSignatureValid(head.public_key, chainId, head.seq, head.hash, head.head_signature)) return null;
  return `chain ${chainId}'s head (seq ${head.seq}, hash ${head.hash ?? 'none'}) is not signed by the key its writer registered: the head was moved or rewritten by someone else`;
}

/** Whether the chain's head is signed by its registered key (false for legacy chains and for bad signatures). */
export function headSigned(chainId: string, head: ChainHead): boolean {
  return head.public_key !== null && headSignatureValid(head.public_key, chainId, head.seq, head.hash, head.head_signature);
}
