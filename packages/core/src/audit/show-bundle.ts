import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { rowHash, storedText } from '../chain/canonical';
import { InferlogConfigError } from '../errors';
import { EVENT_EXPORT, RECORD_EXPORT, type ExportedTable, type ExportFormat } from './export-format';
import { exportRows } from './export-read';
import { identificationOf, type IdentificationView } from './identification';
import { readManifest } from './manifest';
import { toEventRow, toRecordRow, type EventRow, type RecordRow } from './rows';

/** One inference as an export holds it, with its events from the export's events file. */
export interface BundleInferenceView {
  record: RecordRow;
  /** The line of the records file where it starts. */
  line: number;
  /** Whether its record_hash matches its content as it stands in the file (the links between rows: `verifyBundle`). */
  hash_ok: boolean;
  /** Events whose subject is its id or request_id, oldest first (in chain order within a chain). */
  events: EventRow[];
  /** Ids of those events whose record_hash does not match their content in the file. */
  events_changed: string[];
  /** Present when the record is annotated as an identification: as `InferenceView.identification`, judged on the export's events. */
  identification?: IdentificationView;
}

/** What `showFromBundle` found. */
export interface BundleShowResult {
  key: string;
  /** Rows of the export that carry it (more than `inferences.length` when `limit` cut them). */
  total: number;
  /** The matching inferences, oldest first, at most `limit`. */
  inferences: BundleInferenceView[];
  /** False for a version 1 manifest (its export has no events file); the events lists are then empty. */
  has_events: boolean;
}

/**
 * Rows of one file of the export that `keep` selects, with their line and whether each one's hash
 * matches (and its line is intact: canonical, valid UTF-8, ended by its LF — a problem with the line
 * comes just before its row); unreadable lines are passed over.
 */
async function* matchingRows(path: string, format: ExportFormat, table: ExportedTable, keep: (row: Record<string, unknown>) => boolean) {
  let damagedLine: number | null = null;
  for await (const item of exportRows(createReadStream(path, { highWaterMark: 1024 * 1024 }), format, table)) {
    if (item.error !== undefined) damagedLine = item.line;
    else if (keep(item.row)) {
      let hashOk = false;
      try {
        hashOk = item.canonical && damagedLine !== item.line && rowHash(item.row, table.hashed) === item.row.record_hash;
      } catch {
        // a value that is not of its column's kind: the hash cannot match
      }
      yield { row: item.row, line: item.line, hashOk };
    }
  }
}

const byTimeThenId = (a: RecordRow, b: RecordRow) =>
  a.started_at < b.started_at ? -1 : a.started_at > b.started_at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/**
 * One inference, by its `id` or its `request_id`, from an export instead of the database: its row in
 * the records file and its oversight events in the events file, each with whether its record_hash
 * matches its content. Reads the files once each, streaming (memory: the rows shown). Rows that share a
 * request id are all counted; `limit` of them are returned, oldest first.
 */
export async function showFromBundle(manifestFile: string, key: string, options: { limit?: number } = {}): Promise<BundleShowResult> {
  const limit = options.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1) throw new InferlogConfigError(`limit must be a whole number of 1 or more; got ${limit}`);
  const manifest = await readManifest(manifestFile);
  const dir = dirname(manifestFile);
  const stored = storedText(key);
  let total = 0;
  let found: BundleInferenceView[] = [];
  for await (const { row, line, hashOk } of matchingRows(
    join(dir, manifest.file),
    manifest.format,
    RECORD_EXPORT,
    (r) => r.id === key.toLowerCase() || r.request_id === stored,
  )) {
    total++;
    found.push({ record: toRecordRow(row), line, hash_ok: hashOk, events: [], events_changed: [] });
    if (found.length > limit) found = found.sort((a, b) => byTimeThenId(a.record, b.record)).slice(0, limit);
  }
  found.sort((a, b) => byTimeThenId(a.record, b.record));
  const eventsFile = manifest.events && join(dir, manifest.events.file);
  if (eventsFile && found.length > 0) {
    // A missing events file is verifyBundle's to report; here it shows as no events.
    const there = await access(eventsFile).then(
      () => true,
      () => false,
    );
    const subjects = new Set(found.flatMap((f) => [f.record.id, f.record.request_id]));
    if (there)
      for await (const { row, hashOk } of matchingRows(eventsFile, 'jsonl', EVENT_EXPORT, (r) => subjects.has(r.subject as string))) {
        const event = toEventRow(row);
        for (const f of found)
          if (event.subject === f.record.id || event.subject === f.record.request_id) {
            f.events.push(event);
            if (!hashOk) f.events_changed.push(event.id);
          }
      }
    for (const f of found) f.events.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
  }
  for (const f of found) {
    const identification = identificationOf(f.record.annotations, f.events);
    if (identification) f.identification = identification;
  }
  return { key, total, inferences: found, has_events: manifest.events !== undefined };
}
