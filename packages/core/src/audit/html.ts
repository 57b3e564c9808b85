// HTML built from template literals in which every interpolated value is text: escaped, unless it is
// Html made here. Values from the log come from strangers (model names, routes, actors, event types):
// nothing they contain can become markup.
import { createHash } from 'node:crypto';

/** Markup made by this module (or by `html` from escaped parts): inserted as it is. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Characters a reader would not see, or that change how text around them reads: C0 and C1 controls, the
 * bidirectional marks, overrides and isolates (a model name could reverse the text after it), zero-width
 * and joining characters, invisible operators, fillers that render blank, variation selectors, tag
 * characters, line and paragraph separators, interlinear annotation marks and the byte order mark. So
 * `credit` and `credit` with a zero-width space never look alike. Shown as `\uXXXX` (`\u{XXXXX}` beyond
 * the BMP), as the CLI shows them on a terminal.
 */
const INVISIBLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex lint/suspicious/noMisleadingCharacterClass: controls and combining marks are what this finds, one at a time (the u flag), to show them
  /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\u{1bca0}-\u{1bca3}\u{1d173}-\u{1d17a}\u{e0000}-\u{e0fff}]/gu;

/** Text with every invisible character (above) shown as an escape: for places that take text, not markup (chart labels). */
export function revealInvisible(text: string): string {
  return text.replace(INVISIBLE, (c) => {
    const code = c.codePointAt(0)!;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Text as an HTML attribute value or element text, every character kept: `& < > " '` as entities (a form field's value). */
export function escapeMarkup(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** Text as HTML: invisible characters shown as escapes, then `& < > " '` as entities. */
export function escapeText(text: string): string {
  return escapeMarkup(revealInvisible(text));
}

function part(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(part).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeText(String(value));
}

/** A template literal as Html: strings interpolated are escaped; Html and arrays of it are inserted. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += part(value) + strings[i + 1]!;
  });
  return new Html(out);
}

/** Text cut to `max` characters (a value a client chose can be long), saying how much was left out. */
export function cut(text: string, max = 200): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max).join('')}… (${integer(chars.length - max)} more characters)`;
}

/** A whole number, from five digits on grouped by three with a narrow no-break space (SI style): the same on every machine. */
export function integer(n: number): string {
  const digits = Math.trunc(Math.abs(n)).toString();
  const grouped = digits.length <= 4 ? digits : digits.replace(/\B(?=(\d{3})+$)/g, '\u202f');
  return n < 0 ? `−${grouped}` : grouped;
}

/** A number with `digits` decimals (toFixed: no locale), or an en dash for none. */
export function decimal(n: number | null | undefined, digits = 1): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits);
}

/** A rate (0..1) as a percentage with two decimals. */
export function percent(rate: number): string {
  return (rate * 100).toFixed(2);
}

/** A document's Content-Security-Policy: nothing may load or run; only its own style sheet `css` applies, by its hash. */
export function contentSecurityPolicy(css: string): string {
  const hash = createHash('sha256').update(css, 'utf8').digest('base64');
  return `default-src 'none'; style-src 'sha256-${hash}'; img-src 'none'; base-uri 'none'; form-action 'none'`;
}
