import { isUtf8 } from 'node:buffer';
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

/** A line of an export file: its text, whether its bytes were valid UTF-8 (else decoded with U+FFFD), whether it ends with a LF. */
interface ByteLine {
  text: string;
  line: number;
  utf8: boolean;
  terminated: boolean;
}

/**
 * Splits bytes into LF-terminated lines (UTF-8 never has 0x0A inside a character), across chunks, and
 * checks that each is valid UTF-8: a decoder that silently replaces a bad byte with U+FFFD would let
 * a line whose U+FFFD was swapped for a single invalid byte read (and hash) as the one exported. The
 * complete lines of a chunk are checked at once; line by line only when they fail.
 */
async function* byteLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<ByteLine> {
  let rest: Buffer | null = null;
  let line = 0;
  for await (const chunk of chunks) {
    const data: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
    const end = data.lastIndexOf(10) + 1;
    const allValid = end > 0 && isUtf8(data.subarray(0, end));
    let from = 0;
    for (let at = data.indexOf(10, from); at !== -1 && at < end; at = data.indexOf(10, from)) {
      const utf8 = allValid || isUtf8(data.subarray(from, at));
      yield { text: data.toString('utf8', from, at), line: ++line, utf8, terminated: true };
      from = at + 1;
    }
    rest = from < data.length ? data.subarray(from) : null;
  }
  if (rest && rest.length > 0) yield { text: rest.toString('utf8'), line: ++line, utf8: isUtf8(rest), terminated: false };
}

/** What a line that is not valid UTF-8 is told. */
const NOT_UTF8 = 'is not valid UTF-8: a byte was changed (read with U+FFFD in its place, it could pass for the line exported)';

type CsvItem = (CsvRow & { error?: undefined }) | { error: string; line: number | null };

/** CSV records with the line each starts on; the header is checked and not yielded. After a record that cannot be read, one error and nothing more (the rest is still consumed, so the whole file is hashed). */
async function* csvRows(chunks: AsyncIterable<Buffer>): AsyncGenerator<CsvItem> {
  const reader = new CsvReader(true);
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
  // Fed line by line (LF included) as byteLines checked them; a line that is not UTF-8 is named and still
  // read (with U+FFFD), so the records after it are checked too.
  for await (const { text, line, utf8, terminated } of byteLines(chunks)) {
    if (!utf8 && !broken) yield { error: `line ${line} ${NOT_UTF8}`, line };
    yield* take(() => reader.push(terminated ? `${text}\n` : text));
  }
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
  for await (const { text, line, utf8, terminated } of byteLines(chunks)) {
    const k = ++n;
    // Named, and the row still read (and its chain followed), so this is the only problem the change makes.
    if (!utf8) yield { error: `${label}line ${line} (row ${k}) ${NOT_UTF8}`, line, n: k, id: null };
    if (!terminated)
      yield {
        error: `${label}line ${line} (row ${k}) does not end with a line feed, as every exported line does: the file was cut or edited`,
        line,
        n: k,
        id: null,
      };
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
