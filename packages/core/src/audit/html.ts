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
 * Characters a reader would not see, or that change how text around them reads: C0 and C1 controls and
 * the bidirectional overrides and isolates (a model name could reverse the text after it). Shown as
 * `\uXXXX`, as the CLI shows them on a terminal.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds, to show them
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Text as HTML: invisible characters shown as escapes, then `& < > " '` as entities. */
export function escapeText(text: string): string {
  return text.replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
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
