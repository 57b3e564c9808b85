import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InferlogConfigError } from '../errors';
import type { ChainOrigin } from './chain-heads';
import { EXPORT_FORMATS, type ExportFormat } from './export-format';
import type { ParquetColumn } from './parquet-columns';

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

/** The oversight events of an export: a JSONL file beside the records file, whatever the records' format. */
export interface ManifestEvents {
  /** The events file's name, in the manifest's directory (`FILE.events.jsonl`). */
  file: string;
  bytes: number;
  /** Events in the file. */
  rows: number;
  /** SHA-256 of the whole events file, hex. */
  sha256: string;
  /** The event table's columns; each line carries them in canonical (sorted) order. */
  columns: string[];
  /** Per event chain, as for records; events about records the filters left out are gaps. */
  chains: ManifestChain[];
}

/** What the chain table recorded of a chain when the export was read: `verify --against` holds the database to it. */
export interface ManifestRegistration {
  chain_id: string;
  kind: 'record' | 'event';
  started_at: string;
  host: string | null;
  pid: number | null;
  service: string | null;
  service_version: string | null;
  /** The chain's head at export time (it may be past the last row in the file). */
  last_seq: number;
  last_hash: string | null;
  /** The writer's Ed25519 public key (hex) and its signature of that head: checked offline by `verifyBundle`. Null for a chain registered before chain keys; absent in manifests written before them. */
  public_key?: string | null;
  head_signature?: string | null;
  /** Who registered the chain, as the server saw it (null before chain keys). */
  origin?: ChainOrigin | null;
  /** For a record chain: the interval its writer promised to state its completeness at (null before migration 6; absent in manifests written before it). */
  statement_interval_ms?: number | null;
}

/** What `FILE.manifest.json` says about an exported file. */
export interface ExportManifest {
  /** 2 since exports carry events and registrations; version 1 manifests (records only) are still read. */
  manifest_version: 1 | 2;
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
  /** The oversight events about the exported records (version 2). */
  events?: ManifestEvents;
  /** Every chain of the records and events files as the chain table held it at export time (version 2). */
  registrations?: ManifestRegistration[];
}

/** Why a parquet export is not checked as evidence: what `readManifest` (so `verify --bundle`, `--against`, `show --bundle`) says of it. */
export const DATASET_NOT_EVIDENCE = 'a parquet export is a dataset for retraining, not evidence: export jsonl or csv to verify';

/**
 * What `FILE.manifest.json` says about a parquet dataset (`exportLog` with format `parquet`). It
 * describes the file (size, SHA-256, rows, columns, filters) but is no evidence: the rows carry no
 * record_hash and no chain, so nothing proves them; `readManifest` refuses it.
 */
export interface DatasetManifest {
  /** The version of dataset manifests (1). */
  manifest_version: 1;
  kind: 'dataset';
  format: 'parquet';
  /** `DATASET_NOT_EVIDENCE`, for whoever reads the manifest. */
  note: string;
  /** The parquet file's name, in the manifest's directory. */
  file: string;
  bytes: number;
  /** Rows in the file: one per exported record. */
  rows: number;
  /** Rows with a ground truth (`ground_truth` not null): the labelled examples. */
  ground_truth_rows: number;
  /** Row groups in the file. */
  row_groups: number;
  /** SHA-256 of the whole file, hex. */
  sha256: string;
  /** The filters the rows were selected by (instants as ISO 8601). */
  filters: Record<string, unknown>;
  /** When the export's snapshot was read. */
  exported_at: string;
  inferlog_version: string;
  source: { schema: string; table: string };
  /** Row order in the file. */
  order: 'started_at, id';
  /** The columns, in file order, with their parquet types. */
  columns: ParquetColumn[];
}

/** The manifest's path for an exported file. */
export function manifestPath(file: string): string {
  return `${file}.manifest.json`;
}

/** The events file's path for an exported file. */
export function eventsPath(file: string): string {
  return `${file}.events.jsonl`;
}

/** The definition of record_hash, as manifests state it. */
export const RECORD_HASH_DEFINITION =
  'lower-case hex SHA-256 of the UTF-8 bytes of the RFC 8785 (JCS) JSON of the row without record_hash, each value as stored: timestamps ISO 8601 UTC with milliseconds, or all six digits when the microseconds are not a whole millisecond; numbers as JCS prints them unless that is not the stored number (a jsonb number or bigint PostgreSQL holds with more digits, or trailing zeros), which is its stored decimal text verbatim; jsonb as JSON, text[] as arrays, NULL as null. Each line of this file is exactly that JSON with record_hash added (see @inferlog/core chain/canonical.ts)';

const fail = (path: string, why: string): never => {
  throw new Error(`${path} is not an inferlog export manifest: ${why}`);
};

/** Reads and checks a manifest; throws, naming what is wrong, when it cannot be one. */
export async function readManifest(path: string): Promise<ExportManifest> {
  return (await readManifestAndDigest(path)).manifest;
}

/**
 * A manifest and the SHA-256 (hex) of its bytes as read: what a recipient compares with the digest
 * they recorded at the handover, since a manifest rewritten whole cannot be told offline otherwise.
 */
export async function readManifestAndDigest(path: string): Promise<{ manifest: ExportManifest; sha256: string }> {
  await refuseParquetFile(path);
  const bytes = await readFile(path);
  return { manifest: parseManifest(path, bytes.toString('utf8')), sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** A parquet file given where a manifest belongs is refused by its magic number, before it is read whole. */
async function refuseParquetFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    if (bytesRead === 4 && buffer.toString('latin1') === 'PAR1')
      throw new InferlogConfigError(`${path} is a parquet file, not a manifest: ${DATASET_NOT_EVIDENCE}`);
  } finally {
    await handle.close();
  }
}

function parseManifest(path: string, text: string): ExportManifest {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text);
  } catch (err) {
    return fail(path, `not JSON (${(err as Error).message})`);
  }
  if (typeof m !== 'object' || m === null) fail(path, 'not a JSON object');
  if (m.format === 'parquet' || m.kind === 'dataset')
    throw new InferlogConfigError(`${path} describes a parquet dataset: ${DATASET_NOT_EVIDENCE}`);
  if (m.manifest_version !== 1 && m.manifest_version !== 2)
    fail(path, `manifest_version is ${JSON.stringify(m.manifest_version)}; this inferlog reads versions 1 and 2`);
  if (!EXPORT_FORMATS.includes(m.format as ExportFormat)) fail(path, `format must be one of ${EXPORT_FORMATS.join(', ')}`);
  checkFileSection(path, m, '');
  if (m.manifest_version === 2) {
    const events = m.events as Record<string, unknown>;
    if (typeof events !== 'object' || events === null || Array.isArray(events))
      fail(path, '"events" must be an object (manifest_version 2)');
    checkFileSection(path, events, 'events.');
    if (!Array.isArray(m.registrations)) fail(path, '"registrations" must be a list (manifest_version 2)');
    for (const r of m.registrations as Record<string, unknown>[])
      if (typeof r !== 'object' || r === null || typeof r.chain_id !== 'string' || (r.kind !== 'record' && r.kind !== 'event'))
        fail(path, 'each registration needs chain_id and kind (record or event)');
  }
  return m as unknown as ExportManifest;
}

/** The fields that describe one file of an export (the records' at the top level, the events' under "events."). */
function checkFileSection(path: string, m: Record<string, unknown>, at: string): void {
  // The file must sit beside the manifest: a path elsewhere would let a manifest point a verifier at any file.
  if (typeof m.file !== 'string' || m.file === '' || basename(m.file) !== m.file || m.file === '..' || m.file === '.')
    fail(path, `"${at}file" must be a file name in the manifest's directory`);
  for (const key of ['bytes', 'rows'])
    if (!Number.isSafeInteger(m[key]) || (m[key] as number) < 0) fail(path, `"${at}${key}" must be a whole number`);
  if (typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256)) fail(path, `"${at}sha256" must be 64 hex digits`);
  if (!Array.isArray(m.chains)) fail(path, `"${at}chains" must be a list`);
  for (const c of m.chains as Record<string, unknown>[]) {
    if (typeof c !== 'object' || c === null || !Number.isSafeInteger(c.rows) || (c.chain_id !== null && typeof c.chain_id !== 'string'))
      fail(path, `each of "${at}chains" needs chain_id and rows`);
    if (c.gaps !== null && c.gaps !== undefined && !Array.isArray(c.gaps))
      fail(path, `${at}chains: chain ${String(c.chain_id)}: "gaps" must be a list or null`);
  }
}

/** The manifest narrowed to one chain (records, events and registrations), for `verify --chain … --against`. */
export function manifestOfChain(manifest: ExportManifest, chainId: string): ExportManifest {
  return {
    ...manifest,
    chains: manifest.chains.filter((c) => c.chain_id === chainId),
    ...(manifest.events && { events: { ...manifest.events, chains: manifest.events.chains.filter((c) => c.chain_id === chainId) } }),
    ...(manifest.registrations && { registrations: manifest.registrations.filter((r) => r.chain_id === chainId) }),
  };
}
