// An export as a download: `exportLog` writes the bundle (records, events, manifest) into a fresh temporary
// directory, and the three files leave as one tar archive streamed with tar-stream. The directory is removed
// once the stream closes: read to the end, the client gone, or an error.
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { exportLog, type Database, type ExportFormat, type RecordFilter } from '@inferlog/core/audit';
import { pack, type Pack } from 'tar-stream';

/** The prefix of the temporary directories exports are written to (in `os.tmpdir()`). */
export const EXPORT_TMP_PREFIX = 'inferlog-console-export-';

/** Whether a process with this pid runs (on this machine; a pid reused since is taken for alive). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

let swept = false;

/**
 * Removes export directories of consoles that died while writing or sending one (SIGKILL, out of memory):
 * the pid in their name runs no more. Once per process, before its first export.
 */
async function sweepAbandoned(): Promise<void> {
  if (swept) return;
  swept = true;
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(new RegExp(`^${EXPORT_TMP_PREFIX}(\\d+)-`).exec(name)?.[1]);
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid))
      await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => {});
  }
}

/** An instant as it appears in a file name: `20260501T120000Z` (digits, T, Z and a dot only). */
export const fileInstant = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.000Z$/, 'Z');

/** What the download is: its file name and the stream of the archive. */
export interface ExportArchive {
  /** `inferlog-<since>-<until>.tar` */
  filename: string;
  rows: number;
  stream: Readable;
}

export interface ArchiveRequest {
  db: Database;
  schema: string;
  table: string;
  format: ExportFormat;
  filter: RecordFilter & { since: Date; until: Date };
  /** Aborts the export while it is written (the client went away). */
  signal?: AbortSignal;
}

/**
 * Writes the export into a fresh temporary directory and returns the archive to stream. If the export
 * fails the directory is removed before this rejects; otherwise when the returned stream closes.
 */
export async function exportArchive(request: ArchiveRequest): Promise<ExportArchive> {
  const name = `inferlog-${fileInstant(request.filter.since)}-${fileInstant(request.filter.until)}`;
  await sweepAbandoned();
  // The pid in the name lets a later console remove what this one leaves if it is killed.
  const dir = await mkdtemp(join(tmpdir(), `${EXPORT_TMP_PREFIX}${process.pid}-`));
  try {
    const result = await exportLog(request.db, request.schema, request.table, {
      format: request.format,
      out: join(dir, `${name}.${request.format}`),
      filter: request.filter,
      signal: request.signal,
    });
    // One folder in the archive, so that extracting it does not scatter files.
    const files = [result.file, result.eventsFile, result.manifestPath].map((path) => ({ path, name: `${name}/${basename(path)}` }));
    const stream = tarStream(files, () => rm(dir, { recursive: true, force: true }));
    return { filename: `${name}.tar`, rows: result.manifest.rows, stream };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Resolves when `entry` can take more. */
const drained = (entry: ReturnType<Pack['entry']>) => new Promise<void>((resolve) => entry.once('drain', () => resolve()));

/**
 * The files as a tar archive, read from disk as the client takes it (tar-stream's pack, a streamx stream,
 * is handed over through a Node PassThrough so the response's pipeline sees a Node stream). `cleanup` runs
 * once, when the stream closes for whatever reason.
 */
export function tarStream(files: { path: string; name: string }[], cleanup: () => Promise<void>): Readable {
  const out = new PassThrough();
  const archive: Pack = pack();
  let closed = false;
  const gone = new Promise<void>((resolve) => {
    out.once('close', () => {
      closed = true;
      archive.destroy();
      cleanup().catch(() => {});
      resolve();
    });
  });
  archive.on('error', (err: Error) => out.destroy(err));
  archive.pipe(out);
  const write = async () => {
    for (const file of files) {
      const { size, mtime } = await stat(file.path);
      if (closed) return;
      let settle!: (err?: Error | null) => void;
      const finished = new Promise<void>((done, fail) => {
        settle = (err) => (err ? fail(err) : done());
      });
      // Once the archive is destroyed the entry fails too; nothing waits for it then.
      finished.catch(() => {});
      const entry = archive.entry({ name: file.name, size, mtime, mode: 0o644, type: 'file' }, (err) => settle(err));
      // Its failure reaches the callback above (and the archive's own error): not a second, unhandled event.
      entry.on('error', () => {});
      for await (const chunk of createReadStream(file.path)) {
        if (closed) return;
        if (!entry.write(chunk as Buffer)) await Promise.race([drained(entry), gone]);
      }
      entry.end(null);
      await Promise.race([finished, gone]);
    }
    if (!closed) archive.finalize();
  };
  write().catch((err: Error) => out.destroy(err));
  return out;
}
