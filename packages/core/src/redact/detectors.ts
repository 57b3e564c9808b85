import { isIPv4, isIPv6 } from 'node:net';
import { bsnValid, IBAN_LENGTHS, ibanValid, luhnValid } from './checksums';
import { normalView } from './normal-view';

/** The personal-data detectors for free text; each is opt-in by name. */
export type DetectorName = 'email' | 'phone' | 'iban' | 'bsn' | 'creditcard' | 'ipv4' | 'ipv6';
export const DETECTOR_NAMES: readonly DetectorName[] = ['email', 'phone', 'iban', 'bsn', 'creditcard', 'ipv4', 'ipv6'];

/** Where a detector found something in a text, and the found value in a normal form (for stable pseudonyms). */
export interface Found {
  start: number;
  end: number;
  normal: string;
}

export interface Detector {
  readonly name: DetectorName;
  /** Finds the detector's values in a text. */
  find(text: string): Found[];
  /** Whether a JSON integer can be one of the values (a BSN or card number sent as a number). */
  readonly numeric: boolean;
  /** Characters (a RegExp character-class body) of which every value has at least one: texts without any are skipped. */
  readonly hint: string;
}

/** Every match of `pattern` that `check` accepts (check returns the normal form, or null to reject). */
function matches(text: string, pattern: RegExp, check: (match: string) => string | null): Found[] {
  const found: Found[] = [];
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    const normal = check(m[0]);
    if (normal !== null) found.push({ start: m.index, end: m.index + m[0].length, normal });
  }
  return found;
}

const digitsOf = (text: string) => text.replace(/\D/g, '');
const DIGIT = /\d/;

// An email: an RFC 5322 dot-atom local part (letters of any script with combining marks, digits and
// ! # $ % & ' * + / = ? ^ _ ` { | } ~ -) and a domain of letter/digit labels. The characters ' = / ? { | }
// mostly surround addresses in real text (quotes, key=value, URL paths, JSON): a match is trimmed after
// the last of them, so "email=jan@x.nl" is found as jan@x.nl, unless nothing would be left of the local part.
const EMAIL =
  /(?<![\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~.-])[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+)*@(?:[\p{L}\p{M}\p{N}](?:[\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?\.)+\p{L}[\p{L}\p{M}\p{N}-]*[\p{L}\p{M}\p{N}]/gu;
// An apostrophe between letters is part of a name (o'neill@x.ie), not a quote around the address.
const EMAIL_SURROUNDING = /^.*(?:[=/?{|}]|(?<!\p{L})'|'(?!\p{L}))[.]*/u;

function findEmails(text: string): Found[] {
  return matches(text, EMAIL, (m) => m).map((f) => {
    const found = text.slice(f.start, f.end);
    const at = found.lastIndexOf('@');
    const surrounding = EMAIL_SURROUNDING.exec(found.slice(0, at));
    const skip = surrounding && surrounding[0].length < at ? surrounding[0].length : 0;
    return { start: f.start + skip, end: f.end, normal: found.slice(skip).normalize('NFC').toLowerCase() };
  });
}

// Separators people put in numbers: space, no-break space, dot, dash, slash.
const SEP = '[ \\u00a0.\\-/]';
// International: + (or 00; 0031 is Dutch, below) country code and 7–14 more digits, in groups (an area code in parentheses, a (0) included).
// A label joined by an underscore (phone_+31…, tel_0612345678) does not hide a number.
const PHONE_INTERNATIONAL = new RegExp(
  `(?<![A-Za-z\\d+]|\\d_)(?:\\+|00(?!31))[1-9](?:${SEP}{0,3}\\(?\\d\\)?){7,15}(?![A-Za-z\\d]|_\\d)`,
  'g',
);
// Dutch: 0 (or 0031) and nine digits: 06-12345678, 06/12345678, (020) 123 4567, 0031 6 1234 5678.
const PHONE_DUTCH = new RegExp(
  `(?<![A-Za-z\\d+(]|\\d_)(?:\\(0\\d{1,3}\\)|0031${SEP}?\\d|0[1-9])(?:${SEP}{0,3}\\d){7,9}(?![A-Za-z\\d]|_\\d)`,
  'g',
);
const IBAN_START = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?=[\s\u00a0-]{0,2}[A-Za-z0-9])/g;
// Nine digits, bare or grouped (4.2.3, 3-3-3, 3 3 3); not glued to letters or other digits (then they
// are part of another token: an account number, a product code, a decimal). After or before a label
// joined by a dash or underscore (BSN-111222333, bsn_111222333, 111222333_old) and between commas of a
// text list (jan,111222333,NL) they are found: a leak costs more than a product code masked by chance.
// Digits joined to other digits by a comma or dot (1,111222333 or 111222333,50) read as one decimal number.
const BSN =
  /(?<![A-Za-z\d]|[\d,][-_]|\d[.,])(?:\d{9}|\d{4}[.\s\u00a0]\d{2}[.\s\u00a0]\d{3}|\d{3}[.\s\u00a0-]\d{3}[.\s\u00a0-]\d{3})(?![A-Za-z\d]|[.,\-_]\d)/g;
// A run of digits in groups (separators as in SEP); card numbers (13–19 digits) are looked for inside it.
// A comma always ends a run: no decimal has 13 digits before its comma, and CSV puts cards between commas.
const CARD_RUN = new RegExp(`(?<![A-Za-z\\d]|\\d[-_]|\\d\\.)\\d+(?:${SEP}{1,3}\\d+)*(?![A-Za-z\\d]|[.\\-_]\\d)`, 'g');
const IPV4 = /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\.?\d)/g;
// The dotted-quad ending first, so ::ffff:192.168.1.20 is one address, not ::ffff:192 and the rest.
// A candidate may follow a label's colon (ip:2001:db8::1) and be followed by a sentence's (…::1: refused);
// see findIpv6.
const IPV6_CANDIDATE =
  /(?<![0-9A-Fa-f.]|[0-9A-Fa-f.:]:)(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?:%[0-9A-Za-z]+)?(?![0-9A-Za-z]|:[0-9A-Za-z:]|\.\d)/g;

/** The normal form of a phone number: + and its digits, the Dutch trunk 0 and an international "(0)" left out. */
function phoneNormal(found: string): string | null {
  if (found.startsWith('+') || (found.startsWith('00') && !found.startsWith('0031'))) {
    const digits = digitsOf(found.replace(/\(0\)/, '')).replace(/^00/, '');
    return digits.length >= 8 && digits.length <= 15 ? `+${digits}` : null;
  }
  const digits = digitsOf(found);
  const national = digits.startsWith('0031') ? digits.slice(4) : digits.slice(1);
  return national.length === 9 && national[0] !== '0' ? `+31${national}` : null;
}

/** The canonical text of an IPv6 address (lower case, zeros compressed), as the WHATWG URL parser writes it. */
function ipv6Normal(found: string): string | null {
  const [address, zone] = found.split('%');
  if (address === undefined || !isIPv6(address)) return null;
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1) + (zone ? `%${zone}` : '');
  } catch {
    return address.toLowerCase();
  }
}

/**
 * IPv6 addresses. A candidate that does not parse is tried without a last lone colon (`2001:db8::1:` of
 * "…::1: refused"), then again a character later (a label's colon may have started it: `ip:2001:db8::1`).
 */
function findIpv6(text: string): Found[] {
  const found: Found[] = [];
  IPV6_CANDIDATE.lastIndex = 0;
  for (let m = IPV6_CANDIDATE.exec(text); m; m = IPV6_CANDIDATE.exec(text)) {
    let candidate = m[0];
    let normal = ipv6Normal(candidate);
    if (normal === null && /[^:]:$/.test(candidate)) {
      candidate = candidate.slice(0, -1);
      normal = ipv6Normal(candidate);
    }
    if (normal !== null) found.push({ start: m.index, end: m.index + candidate.length, normal });
    else IPV6_CANDIDATE.lastIndex = m.index + 1;
  }
  return found;
}

/** IBANs: country code, check digits and the country's BBAN length (separators allowed between groups), mod 97 checked. */
function findIbans(text: string): Found[] {
  const found: Found[] = [];
  IBAN_START.lastIndex = 0;
  for (let m = IBAN_START.exec(text); m; m = IBAN_START.exec(text)) {
    const length = IBAN_LENGTHS[m[0].slice(0, 2).toUpperCase()];
    if (!length) continue;
    let iban = m[0].toUpperCase();
    let end = m.index + 4;
    while (iban.length < length && end < text.length) {
      const separators = /^[\s\u00a0-]{1,2}(?=[A-Za-z0-9])/.exec(text.slice(end, end + 3));
      if (separators) end += separators[0].length;
      const ch = text[end];
      if (ch === undefined || !/[A-Za-z0-9]/.test(ch)) break;
      iban += ch.toUpperCase();
      end++;
    }
    if (iban.length === length && !/[A-Za-z0-9]/.test(text[end] ?? '') && ibanValid(iban)) {
      found.push({ start: m.index, end, normal: iban });
      IBAN_START.lastIndex = end;
    }
  }
  return found;
}

/**
 * Card numbers: inside each run of digit groups, from each group on, the longest stretch of whole groups
 * with 13–19 digits that passes Luhn. Stretches from every group are reported, overlapping or not (the
 * redactor replaces overlapping finds whole), so a card after other numbers (a phone number, an amount)
 * is found even when a stretch starting earlier passes Luhn by chance.
 */
function findCards(text: string): Found[] {
  const found: Found[] = [];
  CARD_RUN.lastIndex = 0;
  for (let m = CARD_RUN.exec(text); m; m = CARD_RUN.exec(text)) {
    const groups = [...m[0].matchAll(/\d+/g)].map((g) => ({
      start: m.index + g.index!,
      end: m.index + g.index! + g[0].length,
      digits: g[0],
    }));
    let coveredTo = -1;
    for (let first = 0; first < groups.length; first++) {
      let digits = '';
      const candidates: { end: number; digits: string }[] = [];
      for (let last = first; last < groups.length && digits.length < 19; last++) {
        digits += groups[last]!.digits;
        if (digits.length >= 13 && digits.length <= 19) candidates.push({ end: groups[last]!.end, digits });
      }
      // all zeros passes Luhn but is no card
      const hit = candidates.reverse().find((c) => luhnValid(c.digits) && /[1-9]/.test(c.digits));
      // A stretch inside one already found adds nothing.
      if (hit && hit.end > coveredTo) {
        found.push({ start: groups[first]!.start, end: hit.end, normal: hit.digits });
        coveredTo = hit.end;
      }
    }
  }
  return found;
}

const DETECTORS: Record<DetectorName, Detector> = {
  email: { name: 'email', numeric: false, hint: '@', find: (t) => (t.includes('@') ? findEmails(t) : []) },
  phone: {
    name: 'phone',
    numeric: false,
    hint: '\\d',
    find: (t) =>
      DIGIT.test(t)
        ? [...matches(t, PHONE_INTERNATIONAL, phoneNormal), ...matches(t, PHONE_DUTCH, phoneNormal)].sort((a, b) => a.start - b.start)
        : [],
  },
  iban: { name: 'iban', numeric: false, hint: '\\d', find: (t) => (DIGIT.test(t) ? findIbans(t) : []) },
  bsn: {
    name: 'bsn',
    numeric: true,
    hint: '\\d',
    find: (t) => (DIGIT.test(t) ? matches(t, BSN, (m) => (bsnValid(digitsOf(m)) ? digitsOf(m) : null)) : []),
  },
  creditcard: { name: 'creditcard', numeric: true, hint: '\\d', find: (t) => (DIGIT.test(t) ? findCards(t) : []) },
  ipv4: {
    name: 'ipv4',
    numeric: false,
    hint: '\\d',
    find: (t) => (t.includes('.') ? matches(t, IPV4, (m) => (isIPv4(m) ? m : null)) : []),
  },
  ipv6: { name: 'ipv6', numeric: false, hint: ':', find: (t) => (t.includes(':') ? findIpv6(t) : []) },
};

export function detector(name: DetectorName): Detector {
  return DETECTORS[name];
}

/**
 * The normal form of a value that is, as a whole, one piece of personal data some detector knows (an
 * email, a BSN written with dots, a card number in full-width digits, …); null otherwise. A path rule's
 * `hash` uses it, so a value gives the same pseudonym whether a path selected it or a detector found it.
 * Detectors read the value's normal view (normal-view.ts).
 */
export function normalFormOf(value: string): string | null {
  const text = normalView(value).text.trim();
  // Every detected value has an @, a colon, three dots or at least eight digits: most values have none.
  if (!text.includes('@') && !text.includes(':') && text.split('.').length < 4 && digitsOf(text).length < 8) return null;
  for (const name of DETECTOR_NAMES) {
    const found = DETECTORS[name].find(text);
    if (found.length === 1 && found[0]!.start === 0 && found[0]!.end === text.length) return found[0]!.normal;
  }
  return null;
}
