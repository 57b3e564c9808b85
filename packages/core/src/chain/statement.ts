import { canonicalJson } from './canonical';
import { signatureValid } from './head-signature';

/** The oversight-event type of a writer's completeness statement; reserved: `event()` refuses it. */
export const STATEMENT_TYPE = 'inferlog.completeness';

/** Event types inferlog writes itself start with this; an application's events may not. */
export const RESERVED_EVENT_TYPE_PREFIX = 'inferlog.';

/** Why a record was lost. */
export type LossReason =
  /** The overflow policy (`drop-newest`, `drop-oldest`) dropped it: the queue and the spill journal were full. */
  | 'overflow'
  /** PostgreSQL refused the row even without its payload. */
  | 'refused'
  /** Its request finished after `close()` (under a dropping overflow policy). */
  | 'after_close'
  /** The `close()` deadline passed with the record neither written nor journaled. */
  | 'close_deadline'
  /** Capturing the request failed inside the middleware: it was served and not logged (not named: nothing was captured). */
  | 'capture_failed'
  /** The writer thread died holding it in memory only (not yet in a journal): counted, not named. */
  | 'writer_failed';

/** A record known lost, named as the log would have named it. */
export interface LostRecord {
  /** The id the record would have had. */
  id: string;
  /** Its request id as it would have been stored (after redaction). */
  request_id: string;
  /** When its request arrived (ISO 8601). */
  at: string;
  reason: LossReason;
}

/** Lost records named in one statement at most; past it they are counted only (`lost_unnamed`). */
export const MAX_NAMED_LOSSES = 1000;

/**
 * What a writer states about its record chain every `statementIntervalMs` and when it closes: what
 * happened to the records it captured since its previous statement. Stored as the `data` of an
 * oversight event of type `inferlog.completeness` whose subject is the record chain's id, signed with
 * that chain's key (`statementSignatureValid`), so no other writer can state for it.
 */
export interface CompletenessStatement {
  /** Format version. */
  v: 1;
  /** The writer's record chain. */
  chain_id: string;
  /** 1 for the writer's first statement, then one up, without gaps. */
  n: number;
  /** The period stated: from the previous statement's `to` (the chain's registration for the first) to now (ISO 8601). */
  from: string;
  to: string;
  /** The interval the writer states at (ms): the next statement is due by `to` + this. */
  interval_ms: number;
  /** Why the writer stated: on its interval, at `close()`, or as the process exited without `close()` (the event loop emptied). */
  final: false | 'close' | 'exit';
  /** What happened in the period (the counts of `stats()`). */
  captured: number;
  written: number;
  retried: number;
  spilled: number;
  replayed: number;
  dropped: number;
  /** `dropped` by reason. */
  dropped_by_reason: Partial<Record<LossReason, number>>;
  /** The dropped records, up to `MAX_NAMED_LOSSES` per statement. */
  lost: LostRecord[];
  /** Dropped records not named in `lost` (over the limit). */
  lost_unnamed: number;
  /** Bytes of journal entries that could not be read back in the period (torn or damaged; kept aside in `.damaged` files where possible). */
  unreadable_journal_bytes: number;
  /** At `to`: records held in memory, and bytes in this process's spill journal. */
  queue_rows: number;
  journal_bytes: number;
  /** The record chain's last stored row at `to` (seq 0 and null before the first). */
  through_seq: number;
  through_hash: string | null;
  /** Ed25519 signature by the record chain's key of `statementMessage` (this object without `signature`), hex. */
  signature: string;
}

/** What the record chain's key signs: the statement's canonical JSON without its signature, after a fixed first line. */
export function statementMessage(statement: Omit<CompletenessStatement, 'signature'> | Record<string, unknown>): Buffer {
  const { signature: _, ...signed } = statement as Record<string, unknown>;
  return Buffer.from(`inferlog-completeness-v1\n${canonicalJson(signed)}`, 'utf8');
}

/** Whether `data` is signed by the record chain key `publicKey`. */
export function statementSignatureValid(publicKey: string | null, data: Record<string, unknown>): boolean {
  return signatureValid(publicKey, statementMessage(data), data.signature);
}
