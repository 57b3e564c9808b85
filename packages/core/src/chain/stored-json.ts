// JSON text read exactly: a jsonb column's text as PostgreSQL prints it, or canonical JSON from an
// export. JSON.parse reads every number as a double (0.10000000000000000001 becomes 0.1), so its value
// is taken only when every number token is one the canonical form prints as that double; otherwise the
// text is parsed again with lossless-json, each number becoming what exact-number.ts says.
import { parse } from 'lossless-json';
import { numberFromStored } from './exact-number';

/** A string (skipped whole) or a number token. */
const TOKENS = /"[^"\\]*(?:\\.[^"\\]*)*"|-?\d[\d.eE+-]*/g;
const DIGIT = /\d/;

/** Whether every number token outside strings reads as the plain double JSON.parse gives it. */
function allPlain(text: string): boolean {
  if (!DIGIT.test(text)) return true;
  TOKENS.lastIndex = 0;
  for (let m = TOKENS.exec(text); m !== null; m = TOKENS.exec(text)) {
    const token = m[0];
    if (token.charCodeAt(0) !== 34 /* " */ && typeof numberFromStored(token) !== 'number') return false;
  }
  return true;
}

const lastWins = ({ newValue }: { newValue: unknown }) => newValue;

/**
 * A JSON value read exactly: from a jsonb column's stored text (`col::text`) or from canonical JSON (an
 * export's line or cell). Numbers as `numberFromStored` reads them; of a duplicate key, the last value
 * (as JSON.parse). Throws JSON.parse's error on text that is not JSON.
 */
export function parseStoredJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (allPlain(text)) return value;
  try {
    return parse(text, null, { parseNumber: numberFromStored, onDuplicateKey: lastWins });
  } catch {
    // Nested past lossless-json's stack (far deeper than a record holds): JSON.parse's reading stands.
    return value;
  }
}
