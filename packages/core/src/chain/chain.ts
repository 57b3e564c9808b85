import { hostname } from 'node:os';
import { uuidv7 } from '../ids';
import type { CHAIN_COLUMNS, Written } from '../columns';
import { EVENT_HASH_COLUMNS, rowHash, sha256Hex } from './canonical';
import { sealedCanonical } from './record-text';
import { ChainKey, type SignedHead } from './head-signature';

/** The chain fields every stored row carries. */
export type Chained = Partial<Written<typeof CHAIN_COLUMNS>>;

export type ChainKind = 'record' | 'event';

/** Who writes a chain, registered in the chain table. */
export interface ChainRegistration {
  chain_id: string;
  kind: ChainKind;
  started_at: Date;
  host: string;
  pid: number;
  service: string | null;
  service_version: string | null;
  /** The chain's Ed25519 public key (raw 32 bytes, lower-case hex): every head the writer stores is signed with its private half. */
  public_key: string;
  /** sha256 (hex) of the token the writer presents to move the head: only the writer that registered a chain may move it. */
  token_hash: string;
  /** For a record chain: how often its writer states its completeness (ms); null for an event chain. */
  statement_interval_ms: number | null;
}

/** How often a writer states its completeness unless told otherwise (`statementIntervalMs`). */
export const DEFAULT_STATEMENT_INTERVAL_MS = 60_000;

/**
 * One writer's hash chain: every row it stores gets the next sequence number (gap-free), the hash of the
 * row before (null for the first) and its own hash over its canonical form (chain/canonical.ts). No
 * other writer touches it, so nothing serialises writers. Rows are sealed right before their first
 * write and keep their seals for every retry, so a retry never re-numbers what may already be stored.
 */
export class Chain {
  readonly registration: ChainRegistration;
  private seq = 0;
  private head: string | null = null;
  readonly #key = new ChainKey();

  constructor(
    kind: ChainKind,
    service: string | null,
    serviceVersion: string | null,
    host = hostname(),
    statementIntervalMs = DEFAULT_STATEMENT_INTERVAL_MS,
    /** Given when the chain is made in a writer thread for a logger that names it already. */
    id = uuidv7(),
  ) {
    this.registration = {
      chain_id: id,
      kind,
      started_at: new Date(),
      host,
      pid: process.pid,
      service,
      service_version: serviceVersion,
      public_key: this.#key.publicKey,
      token_hash: this.#key.tokenHash,
      statement_interval_ms: kind === 'record' ? statementIntervalMs : null,
    };
  }

  /** A row's record_hash, remembering its jsonb columns' text for the write; a record's canonical text is made once (record-text.ts). */
  private hash(row: Chained): string {
    const fields = row as Record<string, unknown>;
    return this.registration.kind === 'record' ? sha256Hex(sealedCanonical(fields)) : rowHash(fields, EVENT_HASH_COLUMNS, true);
  }

  get id(): string {
    return this.registration.chain_id;
  }

  /** Sequence number and hash of the last row sealed. */
  get last(): { seq: number; hash: string | null } {
    return { seq: this.seq, hash: this.head };
  }

  /** The head move to store for this chain's row `seq` with hash `hash`: signed with the chain's key, with its token. */
  signHead(seq: number, hash: string | null): SignedHead {
    return this.#key.signHead(this.id, seq, hash);
  }

  /** The Ed25519 signature of `message` by this chain's key, lower-case hex (for the writer's completeness statements). */
  sign(message: Buffer): string {
    return this.#key.sign(message);
  }

  /** Gives each row that has no chain yet the next position in this chain. Rows already sealed (by this or another writer) are left as they are. */
  seal(rows: Chained[]): void {
    for (const row of rows) {
      if (row.chain_id) continue;
      row.chain_id = this.id;
      row.chain_seq = ++this.seq;
      row.prev_hash = this.head;
      row.record_hash = this.hash(row);
      this.head = row.record_hash;
    }
  }

  /**
   * Seals again rows `from` onwards after the row at `from` was replaced (stored without its payload:
   * `base` is its predecessor, unchanged) or removed (refused even so: `base` is the removed row's
   * predecessor, and the rows after it close up). Only the batch being written may be relinked: it is
   * the chain's newest (a batch is sealed right before it is written), so the head follows it.
   */
  relink(rows: Chained[], from: number, base: { seq: number; hash: string | null }): void {
    let seq = base.seq;
    let hash = base.hash;
    for (let i = from; i < rows.length; i++) {
      const row = rows[i]!;
      row.chain_seq = ++seq;
      row.prev_hash = hash;
      row.record_hash = this.hash(row);
      hash = row.record_hash;
    }
    this.seq = seq;
    this.head = hash;
  }

  /**
   * Takes the seals off rows whose write failed. Some of them may have been stored all the same (a part
   * of the batch, or a commit whose answer was lost): the chain's head is then only known to the
   * database, so `resync` must set it before the next seal, and the rows found stored are left out.
   */
  unseal(rows: Chained[]): void {
    for (const row of rows) row.chain_id = row.chain_seq = row.prev_hash = row.record_hash = null;
  }

  /** Sets the head to what the database recorded (the head moves in the same transaction as the rows). */
  resync(seq: number, hash: string | null): void {
    this.seq = seq;
    this.head = hash;
  }
}
