import { StringDecoder } from 'node:string_decoder';
import { NotCanonicalError } from './canonical-lines';
import { CsvReader, type CsvRow } from './csv';
import { csvHeader, csvLine, EXPORT_COLUMNS, rowFromCsv, rowFromJsonl, type ExportedTable, type ExportFormat } from './export-format';

/**
 * A row of an export file with where it is (`canonical`: whether its line or record is byte-equal to
 * the row's canonical form), or why a part of the file cannot be read as one.
 */
export type FileItem =
  | { row: Record<string, unknown>; line: number; n: number; canonical: boolean; error?: undefined }
  | { error: string; line: number | null; n: number | null; id: string | null };

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
 * The rows of an export file, streaming: each with its line (where it starts; a CSV's header is line 1)
 * and its number in the file (header not counted), or the reason a line or record is not a row of
 * `table`. `label` goes before "line N" in the reasons (to name a file). CSV is the records file only.
 */
export async function* exportRows(
  chunks: AsyncIterable<Buffer>,
  format: ExportFormat,
  table: ExportedTable,
  label = '',
): AsyncGenerator<FileItem> {
  let n = 0;
  if (format === 'csv') {
    for await (const item of csvRows(chunks)) {
      if (item.error !== undefined) {
        yield { error: `${label}${item.error}`, line: item.line, n: null, id: null };
        continue;
      }
      const { fields, line } = item;
      const k = ++n;
      let row: Record<string, unknown>;
      try {
        row = rowFromCsv(fields);
      } catch (err) {
        yield { error: `${label}line ${line} (row ${k}): ${(err as Error).message}`, line, n: k, id: fields[0] ?? null };
        continue;
      }
      yield { row, line, n: k, canonical: item.text === csvLine(row) };
    }
    return;
  }
  for await (const { text, line } of jsonlLines(chunks)) {
    const k = ++n;
    let row: Record<string, unknown>;
    let canonical = true;
    try {
      row = rowFromJsonl(text, table);
    } catch (err) {
      if (!(err instanceof NotCanonicalError)) {
        yield { error: `${label}line ${line} (row ${k}) ${(err as Error).message}`, line, n: k, id: null };
        continue;
      }
      row = err.row;
      canonical = false;
    }
    yield { row, line, n: k, canonical };
  }
}
