import type { CliIo } from './io';

/**
 * Characters a terminal acts on rather than shows: C0 and C1 controls (ESC starts the sequences that
 * move the cursor, rewrite the screen or set the window title) and the bidirectional overrides that
 * make text display in another order than it is. Logged values come from clients: printed raw, a
 * request path could hide or fake lines in what an auditor reads.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds, to keep them off the terminal
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Text with every character a terminal would act on shown as an escape (`\u001b`); newlines and tabs kept. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Writes human-readable text to stdout, made safe for a terminal. */
export function print(io: CliIo, text = ''): void {
  const safe = terminalSafe(text);
  io.stdout.write(safe.endsWith('\n') ? safe : `${safe}\n`);
}

/** Machine output: one JSON document, indented. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Machine output for streams of rows: one compact JSON document per line. */
export function printJsonLine(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`);
}

/** A message on stderr, prefixed `inferlog:`. */
export function note(io: CliIo, text: string): void {
  io.stderr.write(`inferlog: ${text}\n`);
}

/** Cuts text to `width` characters with an ellipsis; control characters (a newline in a value) shown as spaces. */
export function fit(text: string, width: number): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this replaces
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ');
  return flat.length <= width ? flat : `${flat.slice(0, Math.max(0, width - 1))}…`;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Right-aligned (numbers). */
  right?: boolean;
  /** Widest the column gets; longer values are cut. Default 40. */
  max?: number;
}

/** Rows as an aligned text table with a header line. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => fit(c.value(row), c.max ?? 40)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (columns[i]!.right ? v.padStart(widths[i]!) : i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/** A fixed-width line for rows that arrive one after another (tail -f), so they align without knowing the rest. */
export function fixedLine<T>(row: T, columns: readonly Column<T>[]): string {
  return columns
    .map((c, i) => {
      const width = c.max ?? 40;
      const v = fit(c.value(row), width);
      return c.right ? v.padStart(width) : i === columns.length - 1 ? v : v.padEnd(width);
    })
    .join('  ')
    .trimEnd();
}

/** The header line of `fixedLine` rows. */
export function fixedHeader<T>(columns: readonly Column<T>[]): string {
  return columns
    .map((c, i) => {
      const width = c.max ?? 40;
      return c.right ? c.header.padStart(width) : i === columns.length - 1 ? c.header : c.header.padEnd(width);
    })
    .join('  ')
    .trimEnd();
}

/** Milliseconds for people: `12.3 ms`, `1,234 ms`. */
export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  return value < 100 ? `${Number(value.toFixed(1))} ms` : `${Math.round(value).toLocaleString('en')} ms`;
}

/** A count for people: `12,345`. */
export function count(value: number): string {
  return value.toLocaleString('en');
}

/** Bytes for people: `1.4 MB`. */
export function bytes(value: number): string {
  if (value < 1000) return `${value} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = value;
  let unit = -1;
  do {
    v /= 1000;
    unit++;
  } while (v >= 1000 && unit < units.length - 1);
  return `${v.toFixed(1)} ${units[unit]}`;
}

/** JSON for people: compact when short, else indented; cut at `max` characters with a pointer to --json. */
export function pretty(value: unknown, max = 4000): string {
  const compact = JSON.stringify(value);
  if (compact === undefined) return String(value);
  const text = compact.length <= 100 ? compact : JSON.stringify(value, null, 2);
  return text.length <= max ? text : `${text.slice(0, max)}… (${count(text.length - max)} more characters; --json shows all)`;
}

/** Text indented by `spaces`, every line. */
export function indent(text: string, spaces = 2): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((l) => (l ? pad + l : l))
    .join('\n');
}
