import { normalView, originalStart } from './normal-view';

/**
 * The longest value detectors know that may hold a space, in characters of the normal view: a phone
 * number of 15 digits, each with up to three separators and a parenthesis on either side (93); an IBAN of
 * 33 characters with two separators before each after the first four (91); a card of 19 digits with three
 * separators between groups (73). A value that runs past a cut started at most this far before it.
 */
const LONGEST_SPACED_VALUE = 96;
/** What such a value is made of, in the view: letters, marks, digits, spaces and the separators detectors allow. */
const VALUE_CHARACTER = /[\p{L}\p{M}\p{N} .\-/()+_]/u;

/**
 * A text cut short (at the size cap, at an error message's length, where a stream or a request body
 * stopped), without the tail that may be the start of a value detectors would have recognised whole.
 * Read on the normal view (normal-view.ts), so no separator keeps it: the last word goes (an email or
 * address holds no space, however long), then the run of letters, digits, spaces and number separators
 * before it, at most LONGEST_SPACED_VALUE characters (`4111 1111 1111` of a card cut after its third
 * group, `NL91⇥ABNA⇥0417⇥1643⇥0` of a tab-separated IBAN). What stays ends where no value reaching the
 * cut could have started.
 */
export function withoutCutTail(text: string): string {
  const view = normalView(text);
  const v = view.text;
  let end = v.length;
  while (end > 0 && v[end - 1] !== ' ') end--;
  const floor = Math.max(0, end - LONGEST_SPACED_VALUE);
  while (end > floor && VALUE_CHARACTER.test(v[end - 1]!)) end--;
  return text.slice(0, originalStart(view, end));
}
