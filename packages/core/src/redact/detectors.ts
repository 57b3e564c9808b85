import { isIPv4, isIPv6 } from 'node:net';
import { bsnValid, IBAN_LENGTHS, ibanValid, luhnValid } from './checksums';

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

// RFC 5322 "dot-atom" local part and a domain of letter/digit labels, Unicode letters included.
const EMAIL = /(?<![\p{L}\p{N}!#$%&'*+/=?^_`{|}~.-])[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+\p{L}[\p{L}\p{N}-]*[\p{L}\p{N}]/gu;
// International: + country code and 7–14 more digits, in groups separated by space, dot, dash or (…).
const PHONE_INTERNATIONAL = /(?<![\w+])\+[1-9](?:[ .-]?\(?\d\)?){7,14}(?![\w])/g;
// Dutch: 0 (or 0031) and nine digits, e.g. 06-12345678, 020 123 4567, 0031 6 1234 5678.
const PHONE_DUTCH = /(?<![\w+])(?:0031[ .-]?|0)[1-9](?:[ .-]?\d){8}(?![\w])/g;
const IBAN_START = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?=[ ]?[A-Z0-9])/g;
// Nine digits, bare or grouped 4.2.3 / 3-3-3 / 3 3 3 as they are written; not glued to letters or other
// digits (then they are part of another token: an account number, a product code).
const BSN = /(?<![\w.,-])(?:\d{9}|\d{4}[.\s]\d{2}[.\s]\d{3}|\d{3}[.\s-]\d{3}[.\s-]\d{3})(?!\w|[.,-]\d)/g;
// 13–19 digits, bare or in groups separated by spaces or dashes; not glued to letters or other digits.
const CARD = /(?<![\w.,-])(?:\d[ -]?){12,18}\d(?!\w|[.,-]\d)/g;
const IPV4 = /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\.?\d)/g;
const IPV6_CANDIDATE = /(?<![0-9A-Fa-f:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?:%[0-9A-Za-z]+)?(?![0-9A-Za-z:])/g;

/** IBANs: country code, check digits and the country's BBAN length (spaces allowed in groups), mod 97 checked. */
function findIbans(text: string): Found[] {
  const found: Found[] = [];
  IBAN_START.lastIndex = 0;
  for (let m = IBAN_START.exec(text); m; m = IBAN_START.exec(text)) {
    const length = IBAN_LENGTHS[m[0].slice(0, 2)];
    if (!length) continue;
    let iban = m[0];
    let end = m.index + 4;
    while (iban.length < length && end < text.length) {
      const ch = text[end];
      if (ch === ' ' && /[A-Z0-9]/.test(text[end + 1] ?? '')) {
        end++;
        continue;
      }
      if (!/[A-Z0-9]/.test(ch)) break;
      iban += ch;
      end++;
    }
    if (iban.length === length && !/[A-Za-z0-9]/.test(text[end] ?? '') && ibanValid(iban)) {
      found.push({ start: m.index, end, normal: iban });
      IBAN_START.lastIndex = end;
    }
  }
  return found;
}

const DETECTORS: Record<DetectorName, Detector> = {
  email: { name: 'email', numeric: false, hint: '@', find: (t) => (t.includes('@') ? matches(t, EMAIL, (m) => m.toLowerCase()) : []) },
  phone: {
    name: 'phone',
    numeric: false,
    hint: '\\d',
    find: (t) => {
      if (!DIGIT.test(t)) return [];
      const international = matches(t, PHONE_INTERNATIONAL, (m) => {
        const digits = digitsOf(m);
        return digits.length >= 8 && digits.length <= 15 ? `+${digits}` : null;
      });
      return international.concat(matches(t, PHONE_DUTCH, (m) => `+31${digitsOf(m).replace(/^(0031|0)/, '')}`));
    },
  },
  iban: { name: 'iban', numeric: false, hint: '\\d', find: (t) => (DIGIT.test(t) ? findIbans(t) : []) },
  bsn: { name: 'bsn', numeric: true, hint: '\\d', find: (t) => (DIGIT.test(t) ? matches(t, BSN, (m) => (bsnValid(digitsOf(m)) ? digitsOf(m) : null)) : []) },
  creditcard: {
    name: 'creditcard',
    numeric: true,
    hint: '\\d',
    find: (t) =>
      DIGIT.test(t)
        ? matches(t, CARD, (m) => {
            const digits = digitsOf(m);
            return digits.length >= 13 && digits.length <= 19 && luhnValid(digits) ? digits : null;
          })
        : [],
  },
  ipv4: { name: 'ipv4', numeric: false, hint: '\\d', find: (t) => (t.includes('.') ? matches(t, IPV4, (m) => (isIPv4(m) ? m : null)) : []) },
  ipv6: { name: 'ipv6', numeric: false, hint: ':', find: (t) => (t.includes(':') ? matches(t, IPV6_CANDIDATE, (m) => (isIPv6(m) ? m.toLowerCase() : null)) : []) },
};

export function detector(name: DetectorName): Detector {
  return DETECTORS[name];
}
