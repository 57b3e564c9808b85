// A record's canonical text (canonical.ts), made once per record: the write-ahead journal writes it, the
// seal hashes it with the chain fields put in, and COPY sends its jsonb columns' text. So each value is
// serialised once, not once for the journal, once for the hash and once for COPY.
//
// Records are never changed in place after they are built (a stripped record is a new object); only
// the chain fields change, and they are left out of the text and put in when it is used.
import { CHAIN_COLUMNS } from '../columns';
import { canonicalJson, keepJsonTexts, normalize, RECORD_HASH_COLUMNS, sortedEntries } from './canonical';

interface RecordText {
  /** The record it was made for: a copy of the record (spread) carries the property but is not its owner. */
  readonly owner: object;
  /** The canonical members around the chain fields: before the first, between each two, after the last (commas included). */
  readonly parts: readonly string[];
  /** The text of each non-null jsonb column. */
  readonly json: Record<string, string>;
}

/**
 * Where a record keeps its text: a symbol, which JSON and the column lists do not see. Spreading copies
 * it, so a text is used only by the record it was made for. Not a WeakMap: an entry per record makes
 * every garbage collection dearer, and not a non-enumerable property, which is slow to define.
 */
const TEXT = Symbol('inferlog.recordText');

const ORDER = sortedEntries(RECORD_HASH_COLUMNS).map(([name, kind, quoted], i) => ({
  name,
  kind,
  /** `"name":`, after a comma unless it is the first member. */
  prefix: `${i === 0 ? '' : ','}${quoted}:`,
  chain: name in CHAIN_COLUMNS,
}));
const CHAIN = ORDER.filter((column) => column.chain);
/** Most strings of one part: a name and a value per column. */
const MEMBERS = 2 * ORDER.length;

function make(row: Readonly<Record<string, unknown>>): RecordText {
  const parts: string[] = [];
  const json: Record<string, string> = {};
  // Joined, not concatenated: a long chain of concatenations is flattened again by every hash and write.
  // One array of the right size, emptied for each part: growing one by pushing is garbage too.
  const members = new Array<string>(MEMBERS);
  let count = 0;
  for (const { name, kind, prefix, chain } of ORDER) {
    if (chain) {
      members.length = count;
      parts.push(members.join(''));
      count = 0;
      continue;
    }
    const value = normalize(kind, row[name]);
    const text = canonicalJson(value);
    if (kind === 'json' && value !== null) json[name] = text;
    members[count++] = prefix;
    members[count++] = text;
  }
  members.length = count;
  parts.push(members.join(''));
  return { owner: row, parts, json };
}

/** The record's text, made on first use. */
function textOf(row: Readonly<Record<string, unknown>>): RecordText {
  const held = row as { [TEXT]?: RecordText };
  let text = held[TEXT];
  if (text?.owner !== row) {
    text = make(row);
    held[TEXT] = text;
  }
  return text;
}

/** The record's canonical members with its chain fields as they are now (null before it is sealed). */
function members(row: Readonly<Record<string, unknown>>, text: RecordText): string {
  const { parts } = text;
  let out = parts[0]!;
  for (let i = 0; i < CHAIN.length; i++) {
    const { name, kind, prefix } = CHAIN[i]!;
    out += prefix + canonicalJson(normalize(kind, row[name])) + parts[i + 1]!;
  }
  return out;
}

/**
 * The record's canonical JSON (what its record_hash is the SHA-256 of), from the text made once; the
 * jsonb columns' text is remembered (`keepJsonTexts`) for COPY and INSERT.
 */
export function sealedCanonical(row: Readonly<Record<string, unknown>>): string {
  const text = textOf(row);
  keepJsonTexts(row, text.json);
  return `{${members(row, text)}}`;
}

/**
 * The record as one JSON object for a journal: every column in its canonical text (what PostgreSQL
 * stores for it, so it hashes and writes the same once read back), record_hash included once sealed.
 */
export function journalJson(row: Readonly<Record<string, unknown>>): string {
  const hash = row.record_hash;
  const sealed = typeof hash === 'string' ? `,"record_hash":${canonicalJson(normalize('text', hash))}` : '';
  return `{${members(row, textOf(row))}${sealed}}`;
}
