// Tampering with an export as an attacker who knows the format: edit the files, re-seal the chains with
// correct hashes, and recompute the manifest to match, so only what the files cannot forge (signed
// heads, canonical bytes) can tell. Shared by the tests of verify --bundle.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { EVENT_EXPORT, rowFromJsonl, rowHash, type ExportManifest, type ManifestChain } from '@inferlog/core/audit';
import { jsonlLine, RECORD_EXPORT } from '../packages/core/src/audit/export-format';

type Row = Record<string, unknown>;
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** A copy of an export (records file, events file and manifest) in a new directory under `dir`; returns the copy's manifest path. */
export function copyBundle(manifest: string, dir: string): string {
  const m: ExportManifest = JSON.parse(readFileSync(manifest, 'utf8'));
  const from = join(manifest, '..');
  const to = mkdtempSync(join(dir, 'tampered-'));
  for (const name of [basename(manifest), m.file, ...(m.events ? [m.events.file] : [])]) copyFileSync(join(from, name), join(to, name));
  return join(to, basename(manifest));
}

/** A copy of an export with its events file edited (or removed: edit returns null); manifest and records file unchanged. */
export function tamperedEvents(manifest: string, dir: string, edit: (lines: string[]) => string[] | null): string {
  const copy = copyBundle(manifest, dir);
  const m: ExportManifest = JSON.parse(readFileSync(copy, 'utf8'));
  const path = join(copy, '..', m.events!.file);
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines.pop() !== '') throw new Error(`${path} does not end with a line feed`);
  const edited = edit(lines);
  if (edited) writeFileSync(path, edited.map((l) => `${l}\n`).join(''));
  else rmSync(path);
  return copy;
}

/** Rewrites a file of an export in place and recomputes its size and SHA-256 in the manifest, so only the line checks can tell. */
export function rewriteBundleFile(manifestPath: string, which: 'records' | 'events', change: (data: Buffer) => Buffer | string): void {
  const m: ExportManifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const section = which === 'records' ? m : m.events!;
  const path = join(manifestPath, '..', section.file);
  const data = change(readFileSync(path));
  writeFileSync(path, data);
  section.bytes = Buffer.byteLength(data);
  section.sha256 = sha256(data);
  writeFileSync(manifestPath, JSON.stringify(m, null, 2));
}

/** How an attacker changes a JSONL export: the rows of each file (read exactly), then the manifest. */
export interface Forgery {
  records?: (rows: Row[]) => Row[];
  events?: (rows: Row[]) => Row[];
  /** After the files' sections were recomputed: e.g. drop a registration. */
  manifest?: (m: ExportManifest) => void;
}

/**
 * A copy of a JSONL export under `dir` with the forgery applied: each edited file's rows re-sealed
 * (every record_hash recomputed, each prev_hash set to the hash of the row before when their seqs are
 * consecutive), written canonically, and the manifest's rows, bytes, SHA-256 and chains recomputed.
 * Registrations are left as they were unless `manifest` changes them. Returns the copy's manifest path.
 */
export function forgeBundle(manifestPath: string, dir: string, forgery: Forgery): string {
  const copy = copyBundle(manifestPath, dir);
  const m: ExportManifest = JSON.parse(readFileSync(copy, 'utf8'));
  const sections = [
    [m, RECORD_EXPORT, forgery.records],
    [m.events!, EVENT_EXPORT, forgery.events],
  ] as const;
  for (const [section, table, edit] of sections) {
    if (!edit) continue;
    const path = join(copy, '..', section.file);
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.pop();
    const rows = reseal(edit(lines.map((l) => rowFromJsonl(l, table))), table.hashed);
    const text = rows.map((r) => jsonlLine(r, table)).join('');
    writeFileSync(path, text);
    section.rows = rows.length;
    section.bytes = Buffer.byteLength(text);
    section.sha256 = sha256(text);
    section.chains = chainsOf(rows);
  }
  forgery.manifest?.(m);
  writeFileSync(copy, JSON.stringify(m, null, 2));
  return copy;
}

function reseal(rows: Row[], hashed: Parameters<typeof rowHash>[1]): Row[] {
  let before: Row | null = null;
  for (const row of rows) {
    if (before && before.chain_id === row.chain_id && Number(row.chain_seq) === Number(before.chain_seq) + 1)
      row.prev_hash = before.record_hash;
    row.record_hash = rowHash(row, hashed);
    before = row;
  }
  return rows;
}

/** The manifest's chains of a file, as an export computes them. */
function chainsOf(rows: Row[]): ManifestChain[] {
  const chains: ManifestChain[] = [];
  let c: ManifestChain | null = null;
  for (const row of rows) {
    const seq = row.chain_seq as number;
    if (!c || c.chain_id !== row.chain_id) {
      c = {
        chain_id: row.chain_id as string,
        rows: 0,
        first_seq: seq,
        first_prev_hash: row.prev_hash as string | null,
        last_seq: seq,
        last_hash: null,
        gaps: [],
      };
      chains.push(c);
    } else if (seq > (c.last_seq as number) + 1) c.gaps!.push([(c.last_seq as number) + 1, seq - 1]);
    c.rows++;
    c.last_seq = seq;
    c.last_hash = row.record_hash as string;
  }
  return chains;
}
