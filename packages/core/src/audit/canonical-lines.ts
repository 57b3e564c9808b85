// An export's line must be the canonical form of the row it reads as, byte for byte. A line that merely
// parses to the right row could read differently elsewhere: JSON.parse keeps a duplicate key's last
// value, other parsers its first; whitespace or a number's spelling would not be what was hashed. So a
// line is parsed exactly, written again, and the two compared.
import { canonicalObject, type ColumnKind } from '../chain/canonical';
import { parseStoredJson } from '../chain/stored-json';

/** A line that reads as a row but is not that row's canonical form. The row is kept, so its chain can still be followed. */
export class NotCanonicalError extends Error {
  constructor(
    message: string,
    readonly row: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** What a line that is not canonical is told. */
export const NOT_CANONICAL =
  'is not in canonical form (extra whitespace, a duplicate key, a key out of order or a number not as stored): it is not the line that was exported';

/** A row as a JSONL line: the canonical JSON (RFC 8785) of each of `kinds`' columns, normalised, and a LF. */
export function canonicalLine(row: Readonly<Record<string, unknown>>, kinds: Readonly<Record<string, ColumnKind>>): string {
  return `${canonicalObject(row, kinds)}\n`;
}

/**
 * A JSONL line (without its LF) back as a row of `kinds`' columns, read exactly. Throws when it is not
 * a JSON object with exactly those columns, and a NotCanonicalError (with the row) when it is one but
 * not byte-equal to the row's canonical line.
 */
export function rowFromLine(line: string, kinds: Readonly<Record<string, ColumnKind>>): Record<string, unknown> {
  let row: unknown;
  try {
    row = parseStoredJson(line);
  } catch (err) {
    throw new Error(`is not JSON: ${(err as Error).message}`);
  }
  if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new Error('is not a JSON object');
  const keys = Object.keys(row);
  const unknown = keys.find((k) => !Object.hasOwn(kinds, k));
  if (unknown !== undefined) throw new Error(`has a field "${unknown.slice(0, 60)}" that is no column of the table`);
  const columns = Object.keys(kinds);
  if (keys.length !== columns.length) throw new Error(`lacks the column "${columns.find((c) => !(c in row))}"`);
  const values = row as Record<string, unknown>;
  if (canonicalLine(values, kinds) !== `${line}\n`) throw new NotCanonicalError(NOT_CANONICAL, values);
  return values;
}
