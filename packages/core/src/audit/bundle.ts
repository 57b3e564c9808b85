import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { rowHash } from '../chain/canonical';
import { NOT_CANONICAL, NotCanonicalError } from './canonical-lines';
import { ChainWalk, type ChainFinding, type WalkRow } from './chain-walk';
import { CsvReader, type CsvRow } from './csv';
import { csvHeader, csvLine, EXPORT_COLUMNS, rowFromCsv, rowFromJsonl } from './export-format';
import { readManifest, type ExportManifest, type ManifestChain } from './manifest';

/** What is wrong with an export, and where. */
export interface BundleProblem {
  /**
   * `file`: size or SHA-256 differ from the manifest; `count`: row counts differ; `malformed`: a line is
   * not a row; `changed`: a row's content does not match its record_hash; `missing`: rows of a chain are
   * not there; `reordered`: a row is out of chain order or does not link to the row before it;
   * `inserted`: a row or chain the manifest does not know; `head`: a chain does not end (or start) where
   * the manifest says.
   */
  kind: 'file' | 'count' | 'malformed' | 'changed' | 'missing' | 'reordered' | 'inserted' | 'head';
  /** The line of the file where the row starts (1-based; a CSV's header is line 1), when a row is concerned. */
  line: number | null;
  /** The row's number in the file (1-based, header not counted). */
  row: number | null;
  chain_id: string | null;
  seq: number | null;
  /** The row's id, when it could be read. */
  id: string | null;
  message: string;
}

/** A chain as found in the file. */
export interface BundleChainSummary {
  chain_id: string | null;
  rows: number;
  first_seq: number | null;
  last_seq: number | null;
  last_hash: string | null;
  ok: boolean;
}

/** The result of `verifyBundle`. */
export interface BundleReport {
  ok: boolean;
  manifest: ExportManifest;
  /** The exported file's path. */
  file: string;
  rows: number;
  bytes: number;
  /** SHA-256 of the file as read. */
  sha256: string;
  chains: BundleChainSummary[];
  /** Every problem found (at most `maxProblems`), in file order, then the file-level ones; the first is where the damage starts. */
  problems: BundleProblem[];
}

/** Options of `verifyBundle`. */
export interface BundleOptions {
  /** Problems kept in the report. Default 100. */
  maxProblems?: number;
  /** Called now and then with the rows and bytes read so far. */
  onProgress?: (rows: number, bytes: number) => void;
}

/** Where a row is in the file, as its problems name it. */
interface RowPlace {
  line: number;
  row: number;
  chain_id: string | null;
  seq: number | null;
  id: string | null;
}

/** A row of the file as the chain walk reads it, with the hash recomputed from its content and how to name it. */
interface FileRow extends WalkRow {
  hash: string;
  at: string;
  place: RowPlace;
}

/** A chain of the file being walked, and what the manifest says of it. */
interface FileChain {
  walk: ChainWalk<FileRow, BundleChainSummary>;
  expected: ManifestChain | undefined;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Splits bytes into LF-terminated lines (UTF-8 never has 0x0A inside a character), across chunks. */
async function* jsonlLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<{ text: string; line: number }> {
  let rest: Buffer | null = null;
  let line = 0;
  for await (const chunk of chunks) {
    const data: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
    let from = 0;
    for (let at = data.indexOf(10, from); at !== -1; at = data.indexOf(10, from)) {
      yield { text: data.toString('utf8', from, at), line: ++line };
      from = at + 1;
    }
    rest = from < data.length ? data.subarray(from) : null;
  }
  if (rest && rest.length > 0) yield { text: rest.toString('utf8'), line: ++line };
}

type CsvItem = (CsvRow & { error?: undefined }) | { error: string; line: number | null };

/** CSV records with the line each starts on; the header is checked and not yielded. After a record that cannot be read, one error and nothing more (the rest is still consumed, so the whole file is hashed). */
async function* csvRows(chunks: AsyncIterable<Buffer>): AsyncGenerator<CsvItem> {
  const reader = new CsvReader(true);
  const decoder = new StringDecoder('utf8');
  let header = true;
  let broken = false;
  const take = function* (read: () => CsvRow[]): Generator<CsvItem> {
    if (broken) return;
    let rows: CsvRow[];
    try {
      rows = read();
    } catch (err) {
      broken = true;
      const message = (err as Error).message;
      yield { error: `the file cannot be read as CSV from ${message}`, line: Number(/^line (\d+)/.exec(message)?.[1] ?? NaN) || null };
      return;
    }
    for (const r of rows) {
      if (header) {
        header = false;
        if (r.text !== csvHeader()) {
          broken = true;
          yield {
            error: `line 1: the header is not the export's ${EXPORT_COLUMNS.length} columns (id … record_hash), unquoted, CRLF`,
            line: 1,
          };
          return;
        }
        continue;
      }
      yield r;
    }
  };
  for await (const chunk of chunks) yield* take(() => reader.push(decoder.write(chunk)));
  yield* take(() => reader.push(decoder.end()));
  yield* take(() => reader.end());
}

/**
 * Checks an export offline, from its manifest and file alone (no database): the file's size and SHA-256
 * match the manifest; every row's record_hash matches its content (recomputed by `rowHash`); the rows of
 * each chain come in sequence order and link (each row's prev_hash is the record_hash of the row before,
 * when their sequence numbers are consecutive); a missing sequence number is one the manifest lists as
 * left out; every chain starts, ends and counts as the manifest says. Reads the file once, streaming, in
 * constant memory (per chain, a few numbers). Names the line and row of each problem.
 */
export async function verifyBundle(manifestFile: string, options: BundleOptions = {}): Promise<BundleReport> {
  const manifest = await readManifest(manifestFile);
  const file = join(dirname(manifestFile), manifest.file);
  const max = options.maxProblems ?? 100;
  const report: BundleReport = { ok: true, manifest, file, rows: 0, bytes: 0, sha256: '', chains: [], problems: [] };
  const problem = (p: BundleProblem) => {
    report.ok = false;
    if (report.problems.length < max) report.problems.push(p);
  };
  const expectedChains = new Map(manifest.chains.map((c) => [c.chain_id, c]));
  const done = new Set<string | null>();
  let current: FileChain | null = null;

  const finish = () => {
    if (!current) return;
    const c = current.walk.chain;
    const e = current.expected;
    if (e && (e.last_seq !== c.last_seq || e.last_hash !== c.last_hash || e.rows !== c.rows || e.first_seq !== c.first_seq)) {
      c.ok = false;
      problem({
        kind: 'head',
        line: null,
        row: null,
        chain_id: c.chain_id,
        seq: c.last_seq,
        id: null,
        message: `chain ${c.chain_id} in the file: ${c.rows} rows, seq ${c.first_seq}..${c.last_seq}, last hash ${c.last_hash}; the manifest says ${e.rows} rows, seq ${e.first_seq}..${e.last_seq}, last hash ${e.last_hash}`,
      });
    }
    report.chains.push(c);
    current = null;
  };

  const begin = (place: RowPlace, at: string): FileChain => {
    const { chain_id: chainId, seq } = place;
    if (done.has(chainId))
      problem({ ...place, kind: 'reordered', message: `${at}: chain ${chainId} appears again after other chains: lines were moved` });
    done.add(chainId);
    const expected = expectedChains.get(chainId);
    const chain: BundleChainSummary = { chain_id: chainId, rows: 0, first_seq: seq, last_seq: null, last_hash: null, ok: true };
    if (!expected) {
      chain.ok = false;
      problem({ ...place, kind: 'inserted', message: `${at}: chain ${chainId} is not in the manifest: rows were added` });
    } else if (expected.first_seq !== seq) {
      chain.ok = false;
      problem({
        ...place,
        kind: 'missing',
        message: `${at}: chain ${chainId} starts at seq ${seq} here; the manifest says it starts at seq ${expected.first_seq}: rows before this one were removed or moved`,
      });
    }
    return { walk: fileChainWalk(chain, expected, problem), expected };
  };

  const check = (row: Record<string, unknown>, line: number, n: number) => {
    const id = str(row.id);
    const chainId = str(row.chain_id);
    const seq = num(row.chain_seq);
    const at = `line ${line} (row ${n}, id ${id}${chainId ? `, chain ${chainId} seq ${seq}` : ''})`;
    const place: RowPlace = { line, row: n, chain_id: chainId, seq, id };
    if (!current || current.walk.chain.chain_id !== chainId) {
      finish();
      current = begin(place, at);
    }
    const walk = current.walk;
    let hash: string;
    try {
      hash = rowHash(row);
    } catch (err) {
      walk.skip(null, null);
      return problem({ ...place, kind: 'malformed', message: `${at}: cannot be read as a row: ${(err as Error).message}` });
    }
    if (chainId === null || seq === null) {
      walk.skip(seq, str(row.record_hash));
      return problem({ ...place, kind: 'inserted', message: `${at}: the row belongs to no chain, so nothing vouches for it` });
    }
    walk.step({ seq, prev_hash: row.prev_hash, record_hash: str(row.record_hash), hash, at, place });
  };

  const hash = createHash('sha256');
  const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      report.bytes += chunk.length;
      yield chunk;
    }
  }
  const lastProgress = { at: 0 };
  const progress = () => {
    if (options.onProgress && report.rows - lastProgress.at >= 10_000) {
      lastProgress.at = report.rows;
      options.onProgress(report.rows, report.bytes);
    }
  };

  if (manifest.format === 'csv') {
    for await (const item of csvRows(counted())) {
      if (item.error !== undefined) {
        problem({ kind: 'malformed', line: item.line, row: null, chain_id: null, seq: null, id: null, message: item.error });
        continue;
      }
      const { fields, line } = item;
      const n = ++report.rows;
      let row: Record<string, unknown>;
      try {
        row = rowFromCsv(fields);
      } catch (err) {
        problem({
          kind: 'malformed',
          line,
          row: n,
          chain_id: null,
          seq: null,
          id: fields[0] ?? null,
          message: `line ${line} (row ${n}): ${(err as Error).message}`,
        });
        continue;
      }
      if (item.text !== csvLine(row)) problem(notCanonical(line, n, row));
      check(row, line, n);
      progress();
    }
  } else {
    for await (const { text, line } of jsonlLines(counted())) {
      const n = ++report.rows;
      let row: Record<string, unknown>;
      try {
        row = rowFromJsonl(text);
      } catch (err) {
        if (!(err instanceof NotCanonicalError)) {
          problem({
            kind: 'malformed',
            line,
            row: n,
            chain_id: null,
            seq: null,
            id: null,
            message: `line ${line} (row ${n}) ${(err as Error).message}`,
          });
          continue;
        }
        problem(notCanonical(line, n, err.row));
        row = err.row;
      }
      check(row, line, n);
      progress();
    }
  }
  finish();
  report.sha256 = hash.digest('hex');
  options.onProgress?.(report.rows, report.bytes);

  for (const e of manifest.chains) {
    if (!done.has(e.chain_id))
      problem({
        kind: 'missing',
        line: null,
        row: null,
        chain_id: e.chain_id,
        seq: e.first_seq,
        id: null,
        message: `chain ${e.chain_id} (${e.rows} rows in the manifest) is not in the file: its rows were removed`,
      });
  }
  if (report.rows !== manifest.rows)
    problem({
      kind: 'count',
      line: null,
      row: null,
      chain_id: null,
      seq: null,
      id: null,
      message: `the file has ${report.rows} rows; the manifest says ${manifest.rows}`,
    });
  if (report.bytes !== manifest.bytes || report.sha256 !== manifest.sha256) {
    problem({
      kind: 'file',
      line: null,
      row: null,
      chain_id: null,
      seq: null,
      id: null,
      message: `the file is not the one exported: ${report.bytes} bytes with SHA-256 ${report.sha256}; the manifest says ${manifest.bytes} bytes with SHA-256 ${manifest.sha256}`,
    });
  }
  return report;
}

/** A row that reads well but whose line is not its canonical form (its hash and chain are still checked). */
function notCanonical(line: number, n: number, row: Record<string, unknown>): BundleProblem {
  const chainId = str(row.chain_id);
  const seq = num(row.chain_seq);
  return { kind: 'malformed', line, row: n, chain_id: chainId, seq, id: str(row.id), message: `line ${line} (row ${n}) ${NOT_CANONICAL}` };
}

/** The walk of a chain of the file, which may skip only the seqs the manifest lists as left out. */
function fileChainWalk(
  chain: BundleChainSummary,
  expected: ManifestChain | undefined,
  problem: (p: BundleProblem) => void,
): ChainWalk<FileRow, BundleChainSummary> {
  // Next first; null: too many to list (or no manifest chain), so any seq may be left out.
  const gaps: [number, number][] | null = expected?.gaps ? expected.gaps.map(([from, to]) => [from, to]) : null;
  return new ChainWalk(chain, {
    // The export starts a chain wherever its filters did; the manifest says where.
    start: null,
    sorted: false,
    contentFirst: true,
    changed: (r) => r.hash !== r.record_hash,
    bridge: (from, to) => {
      while (gaps && gaps.length > 0 && gaps[0]![1] < from) gaps.shift();
      const listed = gaps === null || (gaps.length > 0 && gaps[0]![0] === from && gaps[0]![1] === to);
      return listed ? { hash: undefined } : { missingFrom: from };
    },
    report: (finding, r) => problem(rowProblem(finding, r)),
  });
}

/** A finding of the chain walk as a problem of the file. */
function rowProblem(finding: ChainFinding, { seq, at, place }: FileRow): BundleProblem {
  switch (finding.kind) {
    case 'behind':
      return { ...place, kind: 'reordered', message: `${at}: seq ${seq} comes after seq ${finding.after}: lines are out of chain order` };
    case 'missing': {
      const { from, to } = finding;
      return {
        ...place,
        kind: 'missing',
        message: `${at}: seq ${from}${to > from ? `..${to}` : ''} ${to > from ? 'are' : 'is'} missing before it, and the manifest does not list ${to > from ? 'them' : 'it'} as left out: rows were deleted or moved`,
      };
    }
    case 'changed':
      return { ...place, kind: 'changed', message: `${at}: its content does not match its record_hash: the row was changed` };
    case 'unlinked':
      return {
        ...place,
        kind: 'reordered',
        message: `${at}: its prev_hash is not the record_hash of the row before it (seq ${finding.after}): a row was replaced or the chain was re-sealed`,
      };
  }
}
