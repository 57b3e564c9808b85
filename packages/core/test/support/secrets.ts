// fast-check generators of personal data that passes its checksums (what redaction must catch) and of
// look-alikes that fail them (what redaction must leave alone).
import fc from 'fast-check';
import { bsnValid, IBAN_LENGTHS, ibanValid, luhnValid } from '../../src/redact/checksums';

const digits = (length: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: length, maxLength: length }).map((d) => d.join(''));

/** A valid BSN: eight digits and the check digit the 11-proef asks for (those needing a 10 are skipped). */
export const bsn = digits(8)
  .map((first) => {
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += Number(first[i]) * (9 - i);
    return `${first}${sum % 11}`;
  })
  .filter((candidate) => candidate.length === 9 && bsnValid(candidate));

/** Nine digits that fail the 11-proef. */
export const notBsn = digits(9).filter((candidate) => !bsnValid(candidate) && !/^0/.test(candidate));

function mod97(text: string): number {
  let remainder = 0;
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? code - 55 : code - 48;
    remainder = (value > 9 ? remainder * 100 + value : remainder * 10 + value) % 97;
  }
  return remainder;
}

const COUNTRIES = ['NL', 'DE', 'BE', 'FR', 'GB', 'ES', 'IT', 'NO'];
/** A valid IBAN of one of the common countries, check digits computed, sometimes written in groups of four. */
export const iban = fc.tuple(fc.constantFrom(...COUNTRIES), fc.nat(), fc.boolean()).chain(([country, seed, grouped]) =>
  digits(IBAN_LENGTHS[country] - 4).map((bban) => {
    const check = String(98 - mod97(`${bban}${country}00`)).padStart(2, '0');
    const value = `${country}${check}${bban}`;
    void seed;
    return grouped ? value.replace(/(.{4})(?!$)/g, '$1 ') : value;
  }),
);

/** An IBAN-shaped string whose check digits are wrong. */
export const notIban = iban
  .map((value) => value.replace(/\s/g, ''))
  .map((value) => `${value.slice(0, 2)}${value[2] === '9' ? '1' : '9'}${value.slice(3)}`)
  .filter((value) => !ibanValid(value));

/** A valid 16-digit card number (Visa or Mastercard prefix, Luhn check digit), bare or in groups of four. */
export const card = fc.tuple(fc.constantFrom('4', '51', '55'), fc.boolean()).chain(([prefix, grouped]) =>
  digits(15 - prefix.length).map((body) => {
    const partial = prefix + body;
    const check = [...'0123456789'].find((d) => luhnValid(partial + d))!;
    const value = partial + check;
    return grouped ? value.replace(/(\d{4})(?!$)/g, '$1 ') : value;
  }),
);

/** Sixteen digits failing Luhn. */
export const notCard = digits(16).filter((candidate) => !luhnValid(candidate) && !/^0/.test(candidate));

/** An email address (fast-check's RFC-shaped generator). */
export const email = fc.emailAddress();

/** A Dutch mobile number as people write it. */
export const dutchMobile = fc
  .tuple(digits(8), fc.constantFrom('06-', '06 ', '+31 6 ', '+316'))
  .map(([number, prefix]) => `${prefix}${number}`);

/** An API key as providers issue them. */
export const apiKey = fc.stringMatching(/^[A-Za-z0-9]{32}$/).map((s) => `sk-${s}`);

/** Digits only: the form a secret may take after normalisation (what must not be stored either). */
export const digitsOnly = (value: string) => value.replace(/\D/g, '');
