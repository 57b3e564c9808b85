// The text detectors read, so that a value written with other characters for the same thing is still
// found: full-width digits and ＠, a zero-width space inside an address, a tab or a narrow no-break space
// between card groups. Each character of the view maps back to the span of the original it came from,
// so that an action replaces the original text.

/**
 * A stretch of the view: from `viewStart` on, either the original's characters from `start` on, one for
 * one (`same`), or what the one original character [start, end) became.
 */
interface Segment {
  viewStart: number;
  start: number;
  end: number;
  same: boolean;
}

/** A text as detectors read it, and where each of its characters came from. */
export interface NormalView {
  readonly text: string;
  /** How the view maps back to the original; null when every character is where it was (the common case). */
  readonly segments: readonly Segment[] | null;
  /** The original's length. */
  readonly originalLength: number;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const ABOVE_ASCII = /[\u0080-\uffff]/;
const ASCII_SPACES = /[\t\n\v\f\r]/g;
const IGNORABLE = /^\p{Default_Ignorable_Code_Point}$/u;
const SPACE = /^[\s\p{Z}]$/u;
const DASH = /^\p{Pd}$/u;
const DECIMAL = /^\p{Nd}$/u;

/** The value of a decimal digit of any script: Unicode encodes each script's digits as a run of ten, 0 to 9, in order. */
function digitValue(codePoint: number): number {
  let offset = 0;
  while (DECIMAL.test(String.fromCodePoint(codePoint - offset - 1))) offset++;
  return offset % 10;
}

/** What one character becomes in the view. */
function viewChar(ch: string): string {
  if (IGNORABLE.test(ch)) return '';
  if (SPACE.test(ch)) return ' ';
  if (DASH.test(ch)) return '-';
  const code = ch.codePointAt(0)!;
  if (code >= 0x80 && DECIMAL.test(ch)) return String(digitValue(code));
  return ch;
}

/** Whether a code point of the Basic Multilingual Plane changes in the view: 0 not known yet, 1 it stays, 2 it changes. */
const bmpChanges = new Uint8Array(0x10000);
const viewOfCodePoint = new Map<number, string | null>();
const MAX_REMEMBERED = 65_536;

/** What a code point above ASCII becomes (its NFKC form, each character as `viewChar` says); null when it stays as it is. */
function viewOf(codePoint: number): string | null {
  if (codePoint <= 0xffff && bmpChanges[codePoint] === 1) return null;
  const known = viewOfCodePoint.get(codePoint);
  if (known !== undefined) return known;
  const ch = String.fromCodePoint(codePoint);
  const view = IGNORABLE.test(ch) || SPACE.test(ch) ? viewChar(ch) : [...ch.normalize('NFKC')].map(viewChar).join('');
  const result = view === ch ? null : view;
  // Not for surrogates: a lone one stays, but one that starts a pair must be read with its pair.
  if (codePoint < 0xd800 || (codePoint > 0xdfff && codePoint <= 0xffff)) bmpChanges[codePoint] = result === null ? 1 : 2;
  if ((result !== null || codePoint > 0xffff) && viewOfCodePoint.size < MAX_REMEMBERED) viewOfCodePoint.set(codePoint, result);
  return result;
}

/**
 * The view of `text` detectors search: NFKC (full-width digits and letters, ＠, compatibility spaces),
 * decimal digits of every script as 0–9, every dash as `-`, every Unicode space (tabs and line breaks
 * too) as a plain space, and invisible characters (zero-width spaces and joiners, soft hyphens,
 * direction marks: Default_Ignorable_Code_Point) left out. Plain ASCII costs one test; other text one
 * look at each character above ASCII (remembered per code point), and a map back only where one changes.
 */
export function normalView(text: string): NormalView {
  if (PRINTABLE_ASCII.test(text)) return { text, segments: null, originalLength: text.length };
  const ascii = !ABOVE_ASCII.test(text);
  let view = '';
  let segments: Segment[] | null = null;
  let same = 0; // where the run of unchanged characters being passed started
  for (let i = 0; !ascii && i < text.length; ) {
    const unit = text.charCodeAt(i);
    // ASCII, and characters already known to stay (most of a text above ASCII), cost one look each.
    if (unit < 0x80 || bmpChanges[unit] === 1) {
      i++;
      continue;
    }
    const code = unit >= 0xd800 && unit <= 0xdbff ? text.codePointAt(i)! : unit;
    const size = code > 0xffff ? 2 : 1;
    const mapped = viewOf(code);
    if (mapped !== null) {
      segments ??= [];
      if (i > same) {
        segments.push({ viewStart: view.length, start: same, end: i, same: true });
        view += text.slice(same, i);
      }
      if (mapped !== '') segments.push({ viewStart: view.length, start: i, end: i + size, same: false });
      view += mapped;
      same = i + size;
    }
    i += size;
  }
  if (!segments) return { text: text.replace(ASCII_SPACES, ' '), segments: null, originalLength: text.length };
  if (same < text.length) {
    segments.push({ viewStart: view.length, start: same, end: text.length, same: true });
    view += text.slice(same);
  }
  return { text: view.replace(ASCII_SPACES, ' '), segments, originalLength: text.length };
}

/** The segment holding the view's character at `at` (binary search: segments are in view order). */
function segmentAt(segments: readonly Segment[], at: number): Segment {
  let low = 0;
  let high = segments.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (segments[middle]!.viewStart <= at) low = middle;
    else high = middle - 1;
  }
  return segments[low]!;
}

/** Where in the original the view's character at `at` starts (the original's length for the view's end). */
export function originalStart(view: NormalView, at: number): number {
  if (!view.segments) return at;
  if (at >= view.text.length) return view.originalLength;
  const segment = segmentAt(view.segments, at);
  return segment.same ? segment.start + (at - segment.viewStart) : segment.start;
}

/** Where in the original the view's character before `at` ends. */
export function originalEnd(view: NormalView, at: number): number {
  if (!view.segments) return at;
  if (at <= 0) return 0;
  const segment = segmentAt(view.segments, at - 1);
  return segment.same ? segment.start + (at - segment.viewStart) : segment.end;
}
