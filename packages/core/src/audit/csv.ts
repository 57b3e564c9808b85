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
  /** With `keepText`: the record's text as it was, line break included (none for a last record without one). */
  text?: string;
}

/** A record's text from its fields, which of them were quoted, and its line break: what the reader read. */
function recordText(fields: readonly (string | null)[], quoted: readonly boolean[], end: string): string {
  let out = '';
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] ?? '';
    out += `${i === 0 ? '' : ','}${quoted[i] ? `"${f.replaceAll('"', '""')}"` : f}`;
  }
  return out + end;
}

/**
 * A streaming CSV reader: `push` text as it arrives (records may span chunks and, inside quotes, lines),
 * get the records completed so far; `end` returns the last one. Throws on a quote inside an unquoted
 * field or text after a closing quote, naming the line.
 */
export class CsvReader {
  /** `keepText`: each record also carries its text as read (`text`), so a reader can check its form. */
  constructor(private readonly keepText = false) {}

  private fields: (string | null)[] = [];
  private quotedFields: boolean[] = [];
  /** With keepText: a record that ended at a CR at the end of a chunk, waiting to see whether an LF follows. */
  private held: { row: CsvRow; quoted: boolean[] } | null = null;
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
    if (this.held && text.length > 0) out.push(this.release(text[0] === '\n' ? '\r\n' : '\r'));
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
        const row: CsvRow = { fields: this.fields, line: this.recordLine };
        if (!this.keepText) out.push(row);
        else if (c === '\n') out.push(this.withText(row, this.quotedFields, '\n'));
        else if (i + 1 < text.length) out.push(this.withText(row, this.quotedFields, text[i + 1] === '\n' ? '\r\n' : '\r'));
        else this.held = { row, quoted: this.quotedFields };
        this.fields = [];
        this.quotedFields = [];
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
    const held = this.held ? [this.release('\r')] : [];
    if (!this.started && this.fields.length === 0 && this.field === '' && !this.quoted) return held;
    this.endField();
    const row = { fields: this.fields, line: this.recordLine };
    const quoted = this.quotedFields;
    this.fields = [];
    this.quotedFields = [];
    return [...held, this.keepText ? this.withText(row, quoted, '') : row];
  }

  private withText(row: CsvRow, quoted: boolean[], end: string): CsvRow {
    row.text = recordText(row.fields, quoted, end);
    return row;
  }

  private release(end: string): CsvRow {
    const { row, quoted } = this.held!;
    this.held = null;
    return this.withText(row, quoted, end);
  }

  private endField(): void {
    this.quotedFields.push(this.quoted);
    this.fields.push(this.field === '' && !this.quoted ? null : this.field);
    this.field = '';
    this.quoted = false;
  }
}
