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

const iso = (value: unknown) => (value instanceof Date ? value.toISOString() : value == null ? null : String(value));

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

/** When chain keys became required for this log (migration 5 applied), or null before that. */
export async function keysRequiredSince(t: IBaseProtocol<unknown>, schema: string, table: string): Promise<Date | null> {
  const row = await t.oneOrNone('SELECT applied_at FROM $1:name.$2:name WHERE version = 5', [
    schema,
    logTableNames(schema, table).migrations,
  ]);
  return row?.applied_at ?? null;
}

/**
 * What is wrong with a chain's head signature, or null when nothing is: a keyed chain's head (once it
 * has one) must be signed by the registered key; a chain without a key must have been registered before
 * keys were required (a legacy chain, unsigned but not a failure).
 */
export function headSignatureProblem(chainId: string, head: ChainHead, keysSince: Date | null): string | null {
  if (head.public_key === null) {
    const after = head.origin !== null || (keysSince !== null && head.started_at >= keysSince);
    return after
      ? `chain ${chainId} has no public key though it was registered after chain keys were required: it was registered by something other than an inferlog writer`
      : null;
  }
  if (head.seq === 0 && head.hash === null && head.head_signature === null) return null;
  if (headSignatureValid(head.public_key, chainId, head.seq, head.hash, head.head_signature)) return null;
  return `chain ${chainId}'s head (seq ${head.seq}, hash ${head.hash ?? 'none'}) is not signed by the key its writer registered: the head was moved or rewritten by someone else`;
}

/** Whether the chain's head is signed by its registered key (false for legacy chains and for bad signatures). */
export function headSigned(chainId: string, head: ChainHead): boolean {
  return head.public_key !== null && headSignatureValid(head.public_key, chainId, head.seq, head.hash, head.head_signature);
}
