// The personal data the planted-secret test sends, and the search for it in what inferlog writes. A value
// counts as leaked when its normal form, or a prefix or suffix long enough to recover it, is found in a
// normalised view of the output (NFKC, invisible characters and separators dropped, lower case), also read
// back through the encodings a stored text can hide it in (UTF-16 of a mislabelled charset, base64).
import { bsnValid, ibanValid, luhnValid } from '../../packages/core/src/redact/checksums';

/** Adds the check digit Luhn asks for. */
function withLuhn(partial: string): string {
  const check = [...'0123456789'].find((d) => luhnValid(partial + d))!;
  return partial + check;
}

/** An IBAN with its mod-97 check digits, in groups of four. */
function ibanOf(country: string, bban: string): string {
  for (let check = 2; check < 99; check++) {
    const value = `${country}${String(check).padStart(2, '0')}${bban}`;
    if (ibanValid(value)) return value.replace(/(.{4})(?!$)/g, '$1 ');
  }
  throw new Error(`no check digits for ${country}${bban}`);
}

function bsnOf(first8: string): string {
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += Number(first8[i]) * (9 - i);
  const value = `${first8}${sum % 11}`;
  if (!bsnValid(value)) throw new Error(`${first8} has no BSN check digit`);
  return value;
}

const grouped = (digits: string) => digits.replace(/(\d{4})(?!$)/g, '$1 ');

/** The values planted; each one, whole or as a recoverable part, must never come out of inferlog. */
export const SECRETS = {
  email: 'marit.de.boer@planted-mail.nl',
  email2: 'ruud.planted@voorbeeld-bank.nl',
  iban: ibanOf('NL', 'RABO3141592653'),
  iban2: ibanOf('NL', 'ABNA2718281828'),
  iban3: ibanOf('DE', '370400440532017777'),
  card: grouped(withLuhn('453957862391470')),
  card2: grouped(withLuhn('552061948273645')),
  bsn: bsnOf('73052846'),
  phone: '+31 6 4817 2935',
  password: 'Wachtwoord-Planted-93xq',
  ssn: 'ssn-planted-5501-77',
} as const;

export type SecretName = keyof typeof SECRETS;

const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;
const SEPARATORS = /[\s\p{Z}\p{Pd}.\-/()+_]/gu;

/** The view the search compares in: NFKC, invisible characters and separators dropped, lower case. */
export function searchView(text: string): string {
  return text.normalize('NFKC').replace(INVISIBLE, '').replace(SEPARATORS, '').toLowerCase();
}

/** What of a value must not be found: its whole normal form, and its first and last 60% (at least 8 characters). */
function probes(value: string): string[] {
  const whole = searchView(value);
  const part = Math.max(8, Math.ceil(whole.length * 0.6));
  return [...new Set([whole, whole.slice(0, part), whole.slice(-part)])];
}

const PROBES: [SecretName, string][] = Object.entries(SECRETS).flatMap(([name, value]) =>
  probes(value).map((probe): [SecretName, string] => [name as SecretName, probe]),
);

// What inferlog makes itself (ids, hashes, pseudonyms, times) is left out of the search: its hex and decimal
// digits hold a short run of any secret's digits by chance.
const GENERATED = [
  /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi,
  /\b(?=[0-9a-f]*[a-f])[0-9a-f]{32,}\b/gi,
  /\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}(?::?\d{2})?)?/g,
  /"latency_ms":\s*[\d.e+-]+/g,
];

/** `text` with its percent-escapes decoded (a path or route keeps `@` as `%40`). */
function percentDecoded(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** `text` with JSON string escapes undone, as often as they were applied (JSON text inside a JSON string). */
function jsonUnescaped(text: string): string {
  let out = text;
  for (let round = 0; round < 3 && out.includes('\\'); round++) {
    out = out.replace(/\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))/g, (_, hex: string | undefined, ch: string) =>
      hex ? String.fromCharCode(Number.parseInt(hex, 16)) : (ESCAPES[ch] ?? ch),
    );
  }
  return out;
}

/**
 * The readings of a text a secret could hide in: as it is (JSON escapes undone: a tab is `\t` in JSON),
 * percent-decoded, its base64 runs decoded, and re-encoded from a mislabelled charset (UTF-16 text that
 * is ASCII bytes, either way round; Latin-1 text that is UTF-8 bytes).
 */
function readings(raw: string): string[] {
  const text = jsonUnescaped(raw);
  const decoded = [...text.matchAll(/base64:([A-Za-z0-9+/=]{8,})/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('latin1'));
  return [
    raw,
    text,
    percentDecoded(text),
    ...decoded,
    Buffer.from(text, 'utf16le').toString('latin1'),
    Buffer.from(text.length % 2 === 0 ? text : `${text} `, 'utf16le')
      .swap16()
      .toString('latin1'),
    Buffer.from(text, 'latin1').toString('utf8'),
  ];
}

/** Where one planted value was found. */
export interface Leak {
  where: string;
  secret: SecretName;
  probe: string;
  context: string;
}

/** Every planted value found in `text`, which came from `where`. */
export function leaksIn(where: string, text: string): Leak[] {
  let cleaned = text;
  for (const pattern of GENERATED) cleaned = cleaned.replace(pattern, ' ');
  const leaks: Leak[] = [];
  for (const reading of readings(cleaned)) {
    const view = searchView(reading);
    for (const [secret, probe] of PROBES) {
      const at = view.indexOf(probe);
      if (at === -1 || leaks.some((l) => l.secret === secret)) continue;
      leaks.push({ where, secret, probe, context: view.slice(Math.max(0, at - 40), at + probe.length + 20) });
    }
  }
  return leaks;
}
