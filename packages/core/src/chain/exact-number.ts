// Numbers in the canonical form exactly as PostgreSQL stores them. A jsonb number is a `numeric`, which
// PostgreSQL prints (`::text`) in plain decimal, without exponent and with the scale it was given
// (`1.0`, `0.10000000000000000001`, `1e21` → `1000000000000000000000`); a bigint prints its digits.
// The canonical text of a stored number text N:
//
//   let s = the ECMAScript (RFC 8785) form of the double nearest N;
//   if PostgreSQL would store s as exactly N (pgNumericText(s) === N), the canonical text is s,
//   otherwise it is N itself, verbatim.
//
// Whatever a writer writes is a double printed as ECMAScript prints it, which PostgreSQL stores as
// pgNumericText(s): its canonical text is s again, so existing hashes stand. Every other stored number
// keeps all its digits, so changing a digit past double precision changes the hash.
// Injective: two texts N1 ≠ N2 cannot print alike. Both as s: then N1 = pgNumericText(s) = N2. Both
// verbatim: N1 = N2. N1 as s and N2 verbatim, so s = N2: N2 is stored text, which has no exponent, so
// s is plain decimal and pgNumericText(s) = s = N2; Number(N2) = Number(s) gives s back, so N2 would
// print as s, not verbatim — a contradiction.

/** A number that a double cannot hold as stored (more digits, trailing zeros, beyond 1e308): printed verbatim. */
export class ExactNumber {
  constructor(
    /** The stored text: PostgreSQL's plain decimal (`-`, digits, optionally `.` and digits). */
    readonly text: string,
  ) {}

  /** For display (JSON.stringify): the nearest double, as JSON.parse would give. The canonical form prints `text`. */
  toJSON(): number {
    return Number(this.text);
  }
}

/** How PostgreSQL prints a numeric: plain decimal, no exponent, no leading zeros. */
const STORED_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;

/**
 * The text PostgreSQL stores for a number printed by ECMAScript (`String(d)` of a finite double):
 * numeric_in keeps max(0, fraction digits − exponent) decimals, numeric_out prints them without exponent.
 * Only ECMAScript's exponent forms (|d| ≥ 1e21 or < 1e-6) differ from what they stand for.
 */
export function pgNumericText(s: string): string {
  const e = s.indexOf('e');
  if (e === -1) return s;
  const negative = s.startsWith('-');
  const mantissa = s.slice(negative ? 1 : 0, e);
  const exponent = Number(s.slice(e + 1));
  const point = mantissa.indexOf('.');
  const digits = point === -1 ? mantissa : mantissa.slice(0, point) + mantissa.slice(point + 1);
  // The decimal point goes after (1 + exponent) digits of `digits` (mantissa is d or d.ddd).
  const at = 1 + exponent;
  let out: string;
  if (at >= digits.length) out = digits + '0'.repeat(at - digits.length);
  else if (at <= 0) out = `0.${'0'.repeat(-at)}${digits}`;
  else out = `${digits.slice(0, at)}.${digits.slice(at)}`;
  return negative ? `-${out}` : out;
}

/**
 * The canonical value of a number stored as `text` (a jsonb number's or a bigint's text): a double when
 * it prints back as stored, else an ExactNumber. Reads a token of canonical JSON (an export's) too: its
 * value is the one it was printed from, or — for a token the canonical form never prints (`1E5`,
 * `1000000000000000000000` for 1e21) — one that prints otherwise, so a line holding it is not in canonical form.
 */
export function numberFromStored(text: string): number | ExactNumber {
  const d = Number(text);
  if (Number.isFinite(d)) {
    const s = String(d);
    if (s === text || pgNumericText(s) === text) return d;
  }
  // Text PostgreSQL would not print (a string where a number belongs): its double, which prints otherwise.
  return STORED_NUMBER.test(text) ? new ExactNumber(text) : d;
}
