import { textIsBytes, type DecodedBody } from '../decode/body';
import { stringifyExact } from '../exact-json';
import { storedString } from '../stored-bytes';
import { withoutCutTail } from './cut-tail';
import type { Redactor } from './redactor';

/**
 * A form body (`application/x-www-form-urlencoded`) as text detectors can read: each name and value
 * percent-decoded (`jan%40example.nl` is an email), joined as `name=value&…`.
 */
function formText(text: string): string {
  const pairs: string[] = [];
  for (const [name, value] of new URLSearchParams(text)) pairs.push(`${name}=${value}`);
  return pairs.join('&');
}

/**
 * A raw body as the redaction rules see it: its parsed JSON, or its text. Path and tensor rules cannot
 * reach into a body that is not JSON (cut at the size cap, malformed): when the route has such rules, the
 * body is withheld rather than stored past them. Nor can rules for mapped fields (`$.parameters.email`,
 * `input: 'bsn'`) reach their values in a JSON body kept raw because it could not be mapped: on a route
 * with such rules it is withheld too. Detectors cannot read a body kept as base64 (not UTF-8 or of an
 * unknown charset): withheld. A form body is scanned, and stored, decoded. A text that is `cut` (at the
 * size cap, or short because the client went away) loses its tail when detectors run: it may be the
 * start of something they would have recognised whole.
 */
export function redactable(
  body: DecodedBody,
  contentType: string,
  redactor: Redactor | null,
  part: string,
  withheld: string[],
  cut: boolean,
): unknown {
  if (body.json !== undefined && redactor?.selectsPayloadFields) {
    withheld.push(`withheld:${part}`);
    return null;
  }
  if (body.json !== undefined) return body.json;
  if (body.text === null || !redactor) return body.text;
  if (redactor.selects || textIsBytes(body)) {
    withheld.push(`withheld:${part}`);
    return null;
  }
  const text = /^\s*application\/x-www-form-urlencoded\b/i.test(contentType) ? formText(body.text) : body.text;
  return redactor.detects && cut ? withoutCutTail(text) : text;
}

/**
 * The stored text of a raw body after redaction: the redacted value (as JSON when the body was JSON, so
 * a duplicate key the rules never saw is not stored either); the original text when no rules ran. In the
 * stored form of bytes (stored-bytes.ts): a body that is not text is `base64:` + base64 already; a text
 * that a text column cannot hold or that would read as bytes (control characters, U+0000, starting with
 * `base64:`) is stored as `base64:` + the base64 of its UTF-8.
 */
export function bodyText(body: DecodedBody, after: unknown, redacted: boolean): string | null {
  if (after === undefined || after === null) return null;
  if (body.json !== undefined) return storedString(redacted ? stringifyExact(after) : body.text!);
  if (typeof after !== 'string') return storedString(stringifyExact(after));
  return after === body.text && textIsBytes(body) ? after : storedString(after);
}

/**
 * The path as redaction sees it: percent-decoded, so `/users/jan%40example.nl` is searched as the email
 * it is. Each run of escapes is decoded on its own, so one malformed escape (`%ZZ`, a lone `%C3`) leaves
 * only itself encoded.
 */
export function decodedPath(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run.replace(/%([0-7][0-9A-Fa-f])/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    }
  });
}
