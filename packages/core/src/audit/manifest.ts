import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { EXPORT_FORMATS, type ExportFormat } from './export-format';

/** A chain's part of an export: where it starts and ends in the file, so the file can be checked against the database's chain heads. */
export interface ManifestChain {
  /** The chain (null for rows that belong to no chain, which cannot be verified). */
  chain_id: string | null;
  /** Rows of this chain in the file. */
  rows: number;
  /** Sequence number and prev_hash of its first row in the file (the link to the rows before the export). */
  first_seq: number | null;
  first_prev_hash: string | null;
  /** Sequence number and record_hash of its last row in the file: the head the export covers. */
  last_seq: number | null;
  last_hash: string | null;
  /**
   * Sequence numbers between first_seq and last_seq that are not in the file (left out by the filters),
   * as [from, to] ranges; null when there were too many to list (then a deleted row shows only in the
   * counts and the file's SHA-256).
   */
  gaps: [number, number][] | null;
}

/** What `FILE.manifest.json` says about an exported file. */
export interface ExportManifest {
  manifest_version: 1;
  format: ExportFormat;
  /** The exported file's name, in the manifest's directory. */
  file: string;
  bytes: number;
  /** Rows in the file (the CSV header not counted). */
  rows: number;
  /** SHA-256 of the whole file, hex. */
  sha256: string;
  /** The filters the rows were selected by (instants as ISO 8601). */
  filters: Record<string, unknown>;
  /** When the export's snapshot was read. */
  exported_at: string;
  inferlog_version: string;
  /** Where the rows came from. */
  source: { schema: string; table: string };
  /** Row order in the file. */
  order: 'chain_id, chain_seq';
  /** The columns, in CSV order; JSONL lines carry the same keys in canonical (sorted) order. */
  columns: string[];
  /** How each row's record_hash is recomputed. */
  record_hash: string;
  chains: ManifestChain[];
}

/** The manifest's path for an exported file. */
export function manifestPath(file: string): string {
  return `${file}.manifest.json`;
}

/** The definition of record_hash, as manifests state it. */
export const RECORD_HASH_DEFINITION =
  'lower-case hex SHA-256 of the UTF-8 bytes of the RFC 8785 (JCS) JSON of the row without record_hash, each value as stored: timestamps ISO 8601 UTC with milliseconds, or all six digits when the microseconds are not a whole millisecond; numbers as JCS prints them unless that is not the stored number (a jsonb number or bigint PostgreSQL holds with more digits, or trailing zeros), which is its stored decimal text verbatim; jsonb as JSON, text[] as arrays, NULL as null. Each line of this file is exactly that JSON with record_hash added (see @inferlog/core chain/canonical.ts)';

const fail = (path: string, why: string): never => {
  throw new Error(`${path} is not an inferlog export manifest: ${why}`);
};

/** Reads and checks a manifest; throws, naming what is wrong, when it cannot be one. */
export async function readManifest(path: string): Promise<ExportManifest> {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code) throw err;
    return fail(path, `not JSON (${(err as Error).message})`);
  }
  if (typeof m !== 'object' || m === null) fail(path, 'not a JSON object');
  if (m.manifest_version !== 1) fail(path, `manifest_version is ${JSON.stringify(m.manifest_version)}; this inferlog reads version 1`);
  if (!EXPORT_FORMATS.includes(m.format as ExportFormat)) fail(path, `format must be one of ${EXPORT_FORMATS.join(', ')}`);
  // The file must sit beside the manifest: a path elsewhere would let a manifest point a verifier at any file.
  if (typeof m.file !== 'string' || m.file === '' || basename(m.file) !== m.file || m.file === '..' || m.file === '.')
    fail(path, '"file" must be a file name in the manifest\'s directory');
  for (const key of ['bytes', 'rows'])
    if (!Number.isSafeInteger(m[key]) || (m[key] as number) < 0) fail(path, `"${key}" must be a whole number`);
  if (typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256)) fail(path, '"sha256" must be 64 hex digits');
  if (!Array.isArray(m.chains)) fail(path, '"chains" must be a list');
  for (const c of m.chains as Record<string, unknown>[]) {
    if (typeof c !== 'object' || c === null || !Number.isSafeInteger(c.rows) || (c.chain_id !== null && typeof c.chain_id !== 'string'))
      fail(path, 'each chain needs chain_id and rows');
    if (c.gaps !== null && c.gaps !== undefined && !Array.isArray(c.gaps))
      fail(path, `chain ${String(c.chain_id)}: "gaps" must be a list or null`);
  }
  return m as unknown as ExportManifest;
}
