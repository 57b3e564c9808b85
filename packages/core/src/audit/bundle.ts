import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { rowHash } from '../chain/canonical';
import { checkManifestHeads } from './bundle-heads';
import { NOT_CANONICAL } from './canonical-lines';
import { ChainWalk, type ChainFinding, type WalkRow } from './chain-walk';
import { exportRows } from './export-read';
import { EVENT_EXPORT, RECORD_EXPORT, type ExportedTable, type ExportFormat } from './export-format';
import { readManifestAndDigest, type ExportManifest, type ManifestChain } from './manifest';

/** What is wrong with an export, and where. */
export interface BundleProblem {
  /**
   * `file`: size or SHA-256 differ from the manifest; `count`: row counts differ; `malformed`: a line is
   * not a row; `changed`: a row's content does not match its record_hash; `missing`: rows of a chain are
   * not there; `reordered`: a row is out of chain order or does not link to the row before it;
   * `inserted`: a row or chain the manifest does not know; `head`: a chain does not end (or start) where
   * the manifest says, or a head the manifest records is not signed by its writer's key.
   */
  kind: 'file' | 'count' | 'malformed' | 'changed' | 'missing' | 'reordered' | 'inserted' | 'head';
  /** Which file: the records file or the events file (`FILE.events.jsonl`). */
  table: 'records' | 'events';
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
  /**
   * Whether the head its writer signed vouches for the chain (manifest version 2, a registration with a
   * key whose signature holds). False for a chain registered before chain keys (nothing but the manifest
   * vouches for its head), for rows of no chain, and in a version 1 manifest.
   */
  signed: boolean;
}

/** What `verifyBundle` read of one file of the export. */
export interface BundleFileSummary {
  /** The file's path. */
  file: string;
  rows: number;
  bytes: number;
  /** SHA-256 of the file as read. */
  sha256: string;
  chains: BundleChainSummary[];
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
  /** The events file (manifest_version 2); null for a version 1 manifest, which has none. */
  events: BundleFileSummary | null;
  /**
   * SHA-256 (hex) of the manifest file as read. Offline, a manifest rewritten whole (fresh keys, heads
   * signed again, registrations made up) with its files cannot be told from a genuine one: compare this
   * with the digest recorded when the export was handed over, or check the manifest `--against` the database.
   */
  manifest_sha256: string;
  /** What was not checked, though the export passes (a version 1 manifest has no events, registrations or signed heads). */
  warnings: string[];
  /**
   * Every problem found (at most `maxProblems`): the records file's in file order, then its file-level
   * ones, then the events file's likewise; the first is where the damage starts.
   */
  problems: BundleProblem[];
}

/** Options of `verifyBundle`. */
export interface BundleOptions {
  /** Problems kept in the report. Default 100. */
  maxProblems?: number;
  /** Called now and then with the rows and bytes read so far. */
  onProgress?: (rows: number, bytes: number) => void;
}

/** Where a row is in its file, as its problems name it. */
interface RowPlace {
  table: 'records' | 'events';
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

/**
 * Checks an export offline, from its manifest and files alone (no database): each file's size and
 * SHA-256 match the manifest; every row's record_hash matches its content (recomputed by `rowHash`);
 * the rows of each chain come in sequence order and link (each row's prev_hash is the record_hash of
 * the row before, when their sequence numbers are consecutive); a missing sequence number is one the
 * manifest lists as left out; every chain starts, ends and counts as the manifest says; every line is
 * valid UTF-8, ends with its line break and is byte-equal to its row's canonical form. The same for the
 * events file of a version 2 manifest, with the event table's columns; and there, every chain has a
 * registration whose head its writer's key signed, and ends on that head when the export is
 * unfiltered (bundle-heads.ts). A version 1 manifest is read with a warning. Reads each file once,
 * streaming, in constant memory (per chain, a few numbers). Names the file, line and row of each problem.
 */
export async function verifyBundle(manifestFile: string, options: BundleOptions = {}): Promise<BundleReport> {
  const { manifest, sha256: manifestSha256 } = await readManifestAndDigest(manifestFile);
  const dir = dirname(manifestFile);
  const max = options.maxProblems ?? 100;
  const problems: BundleProblem[] = [];
  let ok = true;
  const problem = (p: BundleProblem) => {
    ok = false;
    if (problems.length < max) problems.push(p);
  };
  const records = await checkFile(
    { path: join(dir, manifest.file), label: '', noun: 'the file', format: manifest.format, table: RECORD_EXPORT, expected: manifest },
    problem,
    options,
  );
  const e = manifest.events;
  const events = e
    ? await checkFile(
        {
          path: join(dir, e.file),
          label: `${e.file} `,
          noun: `the events file ${e.file}`,
          format: 'jsonl',
          table: EVENT_EXPORT,
          expected: e,
        },
        problem,
        options,
      )
    : null;
  checkManifestHeads(manifest, { records: records.chains, events: events?.chains ?? [] }, problem);
  const warnings = manifest.manifest_version === 1 ? [VERSION_1_WARNING] : [];
  return { ok, manifest, ...records, events, manifest_sha256: manifestSha256, warnings, problems };
}

/** What a report of a version 1 manifest warns. */
export const VERSION_1_WARNING = 'manifest version 1: no events, no registrations or signed heads checked';

/** One file of an export and what the manifest says of it. */
interface FileSection {
  path: string;
  /** Goes before "line N" in the problems (names the file; empty for the records file). */
  label: string;
  /** The file in a sentence: "the file", "the events file X". */
  noun: string;
  format: ExportFormat;
  table: ExportedTable;
  expected: { rows: number; bytes: number; sha256: string; chains: ManifestChain[] };
}

/** Checks one file of an export against its part of the manifest (see `verifyBundle`). */
async function checkFile(section: FileSection, report: (p: BundleProblem) => void, options: BundleOptions): Promise<BundleFileSummary> {
  const summary: BundleFileSummary = { file: section.path, rows: 0, bytes: 0, sha256: '', chains: [] };
  const which = section.table.name;
  const problem = (p: Omit<BundleProblem, 'table'>) => report({ table: which, ...p });
  const fileProblem = (kind: 'file' | 'count', message: string) =>
    problem({ kind, line: null, row: null, chain_id: null, seq: null, id: null, message });
  const expectedChains = new Map(section.expected.chains.map((c) => [c.chain_id, c]));
  const done = new Set<string | null>();
  let current: FileChain | null = null;

  try {
    await access(section.path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    fileProblem('file', `${section.noun} ${section.path} that the manifest describes is not there: it was removed or renamed`);
    return summary;
  }

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
        message: `chain ${c.chain_id} in ${section.noun}: ${c.rows} rows, seq ${c.first_seq}..${c.last_seq}, last hash ${c.last_hash}; the manifest says ${e.rows} rows, seq ${e.first_seq}..${e.last_seq}, last hash ${e.last_hash}`,
      });
    }
    summary.chains.push(c);
    current = null;
  };

  const begin = (place: RowPlace, at: string): FileChain => {
    const { chain_id: chainId, seq } = place;
    if (done.has(chainId))
      problem({ ...place, kind: 'reordered', message: `${at}: chain ${chainId} appears again after other chains: lines were moved` });
    done.add(chainId);
    const expected = expectedChains.get(chainId);
    const chain: BundleChainSummary = {
      chain_id: chainId,
      rows: 0,
      first_seq: seq,
      last_seq: null,
      last_hash: null,
      ok: true,
      signed: false,
    };
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
    return { walk: fileChainWalk(chain, expected, report), expected };
  };

  const check = (row: Record<string, unknown>, line: number, n: number) => {
    const id = str(row.id);
    const chainId = str(row.chain_id);
    const seq = num(row.chain_seq);
    const at = `${section.label}line ${line} (row ${n}, id ${id}${chainId ? `, chain ${chainId} seq ${seq}` : ''})`;
    const place: RowPlace = { table: which, line, row: n, chain_id: chainId, seq, id };
    if (!current || current.walk.chain.chain_id !== chainId) {
      finish();
      current = begin(place, at);
    }
    const walk = current.walk;
    let hash: string;
    try {
      hash = rowHash(row, section.table.hashed);
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
  const stream = createReadStream(section.path, { highWaterMark: 1024 * 1024 });
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      summary.bytes += chunk.length;
      yield chunk;
    }
  }
  let lastProgress = 0;
  for await (const item of exportRows(counted(), section.format, section.table, section.label)) {
    if (item.n !== null) summary.rows = item.n;
    if (item.error !== undefined) {
      problem({ kind: 'malformed', line: item.line, row: item.n, chain_id: null, seq: null, id: item.id, message: item.error });
      continue;
    }
    if (!item.canonical) {
      const { row, line, n } = item;
      const place = { chain_id: str(row.chain_id), seq: num(row.chain_seq), id: str(row.id) };
      problem({ kind: 'malformed', line, row: n, ...place, message: `${section.label}line ${line} (row ${n}) ${NOT_CANONICAL}` });
    }
    check(item.row, item.line, item.n);
    if (options.onProgress && summary.rows - lastProgress >= 10_000) {
      lastProgress = summary.rows;
      options.onProgress(summary.rows, summary.bytes);
    }
  }
  finish();
  summary.sha256 = hash.digest('hex');
  options.onProgress?.(summary.rows, summary.bytes);

  for (const e of section.expected.chains) {
    if (!done.has(e.chain_id))
      problem({
        kind: 'missing',
        line: null,
        row: null,
        chain_id: e.chain_id,
        seq: e.first_seq,
        id: null,
        message: `chain ${e.chain_id} (${e.rows} rows in the manifest) is not in ${section.noun}: its rows were removed`,
      });
  }
  const expected = section.expected;
  if (summary.rows !== expected.rows) fileProblem('count', `${section.noun} has ${summary.rows} rows; the manifest says ${expected.rows}`);
  if (summary.bytes !== expected.bytes || summary.sha256 !== expected.sha256)
    fileProblem(
      'file',
      `${section.noun} is not the one exported: ${summary.bytes} bytes with SHA-256 ${summary.sha256}; the manifest says ${expected.bytes} bytes with SHA-256 ${expected.sha256}`,
    );
  return summary;
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
