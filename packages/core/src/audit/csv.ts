// RFC 4180 CSV: fields separated by commas, records by CRLF, a field quoted (with "" for a quote) when it
// holds a comma, quote, CR or LF. One extension, as in PostgreSQL's CSV: an empty unquoted field is NULL
// and an empty string is written "", so NULL and '' stay apart.

/** A field as written: null is NULL. */
export function csvField(text: string | null): string {
  if (text === null) return '';
  if (text === '' || /[",\r\n]/.test(text)) return `"${text.replaceAll('"', '""')}"`;
  return text;
}

/** A record as written, CRLF included. */
export function csvRecord(fields: readonly (string | null)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

/** A parsed record: its fields (null for NULL) and the line it starts on (1-based). */
export interface CsvRow {
  fields: (string | null)[];
  line: number;
}

/**
 * A streaming CSV reader: `push` text as it arrives (records may span chunks and, inside quotes, lines),
 * get the records completed so far; `end` returns the last one. Throws on a quote inside an unquoted
 * field or text after a closing quote, naming the line.
 */
export class CsvReader {
  private fields: (string | null)[] = [];
  private field = '';
  private quoted = false;
  /** Inside a quoted field. */
  private inQuotes = false;
  /** A quote seen inside quotes: either the end of the field or the first half of "". */
  private quotePending = false;
  /** Line of the current character, and where the current record started. */
  private line = 1;
  private recordLine = 1;
  private started = false;
  private pendingCr = false;

  push(text: string): CsvRow[] {
    const out: CsvRow[] = [];
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (this.pendingCr) {
        this.pendingCr = false;
        if (c === '\n') continue; // CRLF: the record ended at the CR
      }
      if (this.inQuotes) {
        if (this.quotePending) {
          this.quotePending = false;
          if (c === '"') {
            this.field += '"';
            continue;
          }
          this.inQuotes = false; // the quote closed the field; c is handled below
        } else if (c === '"') {
          this.quotePending = true;
          continue;
        } else {
          // Copy a run of plain characters at once.
          const next = text.indexOf('"', i);
          const end = next === -1 ? text.length : next;
          const run = text.slice(i, end);
          for (let k = run.indexOf('\n'); k !== -1; k = run.indexOf('\n', k + 1)) this.line++;
          this.field += run;
          i = end - 1;
          continue;
        }
      }
      this.started = true;
      if (c === ',') {
        this.endField();
      } else if (c === '\n' || c === '\r') {
        this.endField();
        out.push({ fields: this.fields, line: this.recordLine });
        this.fields = [];
        this.started = false;
        this.line++;
        this.recordLine = this.line;
        this.pendingCr = c === '\r';
      } else if (c === '"') {
        if (this.field !== '' || this.quoted)
          throw new Error(`line ${this.line}: a quote inside an unquoted field, or text after a closing quote`);
        this.inQuotes = true;
        this.quoted = true;
      } else {
        if (this.quoted) throw new Error(`line ${this.line}: text after a closing quote`);
        this.field += c;
      }
    }
    return out;
  }

  /** The last record when the text does not end with a line break; throws inside an open quote. */
  end(): CsvRow[] {
    if (this.inQuotes && !this.quotePending) throw new Error(`line ${this.recordLine}: the file ends inside a quoted field`);
    if (this.quotePending) this.inQuotes = false;
    if (!this.started && this.fields.length === 0 && this.field === '' && !this.quoted) return [];
    this.endField();
    const row = { fields: this.fields, line: this.recordLine };
    this.fields = [];
    return [row];
  }

  private endField(): void {
    this.fields.push(this.field === '' && !this.quoted ? null : this.field);
    this.field = '';
    this.quoted = false;
  }
}
