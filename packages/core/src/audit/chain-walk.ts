/** What a row's place, content or link shows wrong. `after` is the seq of the row before it (or where its chain starts). */
export type ChainFinding =
  | { kind: 'behind'; after: number }
  | { kind: 'missing'; from: number; to: number }
  | { kind: 'changed' }
  | { kind: 'unlinked'; after: number };

/** A row as the walk reads it; the source adds what it needs to name the row. */
export interface WalkRow {
  seq: number;
  prev_hash: unknown;
  record_hash: string | null;
}

/** The part of a chain's summary the walk keeps up to date. */
export interface WalkedChain {
  rows: number;
  last_seq: number | null;
  last_hash: string | null;
  ok: boolean;
}

/** How seqs missing before a row are accounted for: the hash the row must link to (undefined: not known), or the first seq nothing accounts for. */
export type Bridged = { hash: string | null | undefined } | { missingFrom: number };

/** What the source knows of a chain, and how it hears of problems. */
export interface ChainRules<R extends WalkRow> {
  /** The seq and hash a first row must follow; null when the source expects nothing of it. */
  start: { seq: number; hash: string | null } | null;
  /**
   * Rows come sorted by seq (a query): only a repeated seq is out of place, and any other seq that does
   * not follow is a stretch like a gap. Unsorted (a file, whose lines can be moved): every seq not above
   * the one before is out of order.
   */
  sorted: boolean;
  /** A changed row is reported as changed and nothing else (its seq proves nothing), instead of also being placed. */
  contentFirst: boolean;
  /** Whether the row's content differs from its record_hash; asked only when it matters. */
  changed(row: R): boolean;
  /** Accounts for seqs from..to missing before a row. */
  bridge(from: number, to: number): Bridged;
  report(finding: ChainFinding, row: R): void;
}

/**
 * Checks the rows of one chain, in chain order, against each other: each follows the one before (seq +
 * 1, prev_hash = its record_hash) unless the source accounts for the seqs in between; each row's content
 * matches its record_hash; no seq comes twice or goes back. Keeps only the last row's seq and hash.
 */
export class ChainWalk<R extends WalkRow, C extends WalkedChain = WalkedChain> {
  constructor(
    readonly chain: C,
    private readonly rules: ChainRules<R>,
  ) {}

  step(row: R): void {
    const { chain, rules } = this;
    chain.rows++;
    const last = chain.last_seq;
    const behind = last !== null && this.notAfter(last, row.seq);
    if (rules.contentFirst && rules.changed(row)) {
      this.fail({ kind: 'changed' }, row);
      if (!behind) this.advance(row.seq, row.record_hash);
      return;
    }
    if (behind) {
      this.fail({ kind: 'behind', after: last }, row);
      return;
    }
    const prior = last !== null ? { seq: last, hash: chain.last_hash } : rules.start;
    // The prev_hash the row must have; undefined when nothing says (then it is not checked).
    let expected = prior?.hash;
    if (prior && row.seq !== prior.seq + 1) {
      const bridged = rules.bridge(prior.seq + 1, row.seq - 1);
      if ('missingFrom' in bridged) {
        this.fail({ kind: 'missing', from: bridged.missingFrom, to: row.seq - 1 }, row);
        expected = undefined;
      } else {
        expected = bridged.hash;
      }
    }
    if (!rules.contentFirst && rules.changed(row)) this.fail({ kind: 'changed' }, row);
    else if (prior && expected !== undefined && row.prev_hash !== expected) this.fail({ kind: 'unlinked', after: prior.seq }, row);
    this.advance(row.seq, row.record_hash);
  }

  /** Counts a row that cannot be checked; the chain moves on to its seq, when it has one. */
  skip(seq: number | null, recordHash: string | null): void {
    this.chain.rows++;
    this.chain.ok = false;
    const last = this.chain.last_seq;
    if (seq !== null && (last === null || !this.notAfter(last, seq))) this.advance(seq, recordHash);
  }

  private notAfter(last: number, seq: number): boolean {
    return this.rules.sorted ? seq === last : seq <= last;
  }

  private advance(seq: number, hash: string | null): void {
    this.chain.last_seq = seq;
    this.chain.last_hash = hash;
  }

  private fail(finding: ChainFinding, row: R): void {
    this.chain.ok = false;
    this.rules.report(finding, row);
  }
}
