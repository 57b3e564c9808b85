import { describe, InferlogError, type InferlogErrorCode } from '../errors';
import type { ResolvedOptions } from '../options';
import type { Redactor } from '../redact/redactor';
import { MAX_NAMED_LOSSES, type LossReason, type LostRecord } from '../chain/statement';

/** What happened to the records a logger captured; `stats()` reports them. */
export interface DeliveryCounts {
  /** Exchanges captured and handed to the queue. */
  captured: number;
  /** Records stored in PostgreSQL (replayed ones included). */
  written: number;
  /** Record writes that failed and were tried again (one per record per failed attempt). */
  retried: number;
  /** Records written to the spill journal. */
  spilled: number;
  /** Records written to PostgreSQL from a spill journal (this process's or a crashed one's). */
  replayed: number;
  /** Records lost: the overflow policy dropped them, PostgreSQL refused them even without payload, the `close()` deadline passed with nowhere to put them, or capturing the request failed. Each is reported to `onError` and `onDrop`, and named in the next completeness statement. */
  dropped: number;
}

const DEFAULT_REPORT_INTERVAL_MS = 60_000;

/** The losses not yet in a stored completeness statement: counts by reason, and the records named (bounded). */
export interface Losses {
  byReason: Partial<Record<LossReason, number>>;
  named: LostRecord[];
  unnamed: number;
  unreadableJournalBytes: number;
}

const noLosses = (): Losses => ({ byReason: {}, named: [], unnamed: 0, unreadableJournalBytes: 0 });

/** Adds `more` to `into`: counts by reason, the records named while there is room (the rest counted), unreadable bytes. */
function addLosses(into: Losses, more: Losses): void {
  for (const [reason, n] of Object.entries(more.byReason) as [LossReason, number][])
    into.byReason[reason] = (into.byReason[reason] ?? 0) + n;
  const room = Math.max(0, Math.min(more.named.length, MAX_NAMED_LOSSES - into.named.length));
  into.named.push(...more.named.slice(0, room));
  into.unnamed += more.unnamed + more.named.length - room;
  into.unreadableJournalBytes += more.unreadableJournalBytes;
}

/**
 * Every stage reports failures and lost records here: failures go to `onError` (or stderr, once a
 * minute per kind); a lost record is counted, passed to `onDrop` and reported. Never throws into the app.
 */
export class Reporter {
  readonly counts: DeliveryCounts = { captured: 0, written: 0, retried: 0, spilled: 0, replayed: 0, dropped: 0 };
  /** The last failure's message, or null. */
  lastError: string | null = null;
  /** Losses since the last stored completeness statement (`takeLosses`). */
  private losses: Losses = noLosses();
  private readonly reported = new Map<InferlogErrorCode, number>();

  constructor(private readonly options: Pick<ResolvedOptions, 'onError' | 'onDrop'> & { reportRedactor?: Redactor | null }) {}

  /**
   * `text` as it may leave inferlog: what the detectors of any route would remove from a row is removed.
   * A message can quote what a row holds (a database error quoting a refused row, a file path), never more.
   */
  scrub(text: string): string {
    return this.options.reportRedactor?.scrub(text) ?? text;
  }

  /** An error's message, scrubbed: for what inferlog says about a failure elsewhere (a 503 body). */
  describe(err: unknown): string {
    return this.scrub(describe(err));
  }

  /**
   * Sends a failure to `onError` (or stderr, once a minute per kind), and returns it for throwing. The
   * message is scrubbed. `cause` (kept on the error) must be a failure of the database or the file
   * system, which quotes no more than the (redacted) rows; an error of the app's code is described, not attached.
   */
  report(code: InferlogErrorCode, message: string, cause?: unknown): InferlogError {
    const scrubbed = this.scrub(message);
    const error = new InferlogError(code, scrubbed, { cause });
    this.lastError = scrubbed;
    try {
      if (this.options.onError) {
        this.options.onError(error);
      } else {
        const last = this.reported.get(code) ?? 0;
        if (Date.now() - last >= DEFAULT_REPORT_INTERVAL_MS) {
          this.reported.set(code, Date.now());
          console.error(error.message);
        }
      }
    } catch {
      // onError itself failed: nothing more can be done without risking the host app.
    }
    return error;
  }

  /**
   * Counts `count` records as lost for `reason`, keeps the ones `lost` names for the next completeness
   * statement, tells `onDrop`, and reports why.
   */
  drop(count: number, reason: LossReason, code: InferlogErrorCode, message: string, lost: readonly LostRecord[] = []): InferlogError {
    this.counts.dropped += count;
    addLosses(this.losses, { byReason: { [reason]: count }, named: [...lost], unnamed: count - lost.length, unreadableJournalBytes: 0 });
    try {
      this.options.onDrop?.(count, this.scrub(message));
    } catch {
      // a failing onDrop must not reach the app
    }
    return this.report(code, message);
  }

  /** Whether the next statement still names lost records (it names at most MAX_NAMED_LOSSES): naming costs a redaction each. */
  get namesLosses(): boolean {
    return this.losses.named.length < MAX_NAMED_LOSSES;
  }

  /** Journal bytes that could not be read back (torn or damaged entries): records of unknown number. */
  unreadable(bytes: number): void {
    this.losses.unreadableJournalBytes += bytes;
  }

  /** The losses since the last `takeLosses`, for the next completeness statement. */
  takeLosses(): Losses {
    const taken = this.losses;
    this.losses = noLosses();
    return taken;
  }

  /** Losses taken for a statement that was not stored: they go back in front of those since, for the statement made again. */
  giveBackLosses(taken: Losses): void {
    const merged = noLosses();
    addLosses(merged, taken);
    addLosses(merged, this.losses);
    this.losses = merged;
  }
}
