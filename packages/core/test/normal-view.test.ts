// Detectors read a normalised view of each text (NFKC, invisible characters out, every Unicode space a
// separator) and the action replaces the original characters: the same data written with other
// characters is still found, and nothing around it changes.
import { pseudonym } from '../src/redact/actions';
import { normalFormOf } from '../src/redact/detectors';
import { normalView, originalEnd, originalStart } from '../src/redact/normal-view';
import { Redactor } from '../src/redact/redactor';
import { compileRule, type RedactRule } from '../src/redact/rules';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const redactor = (...rules: RedactRule[]) => new Redactor(rules.map((rule, i) => compileRule(`redact[${i}]`, rule, KEY)));
const ALL: RedactRule = { detect: ['email', 'phone', 'iban', 'bsn', 'creditcard'], action: 'mask' };
const masked = (text: string) => redactor(ALL).apply({ parameters: { text } }).parts.parameters as { text: string };
const fullWidth = (digits: string) => digits.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));

test.each([
  ['full-width digits', `bsn ${fullWidth('111222333')} ok`, 'bsn [REDACTED] ok'],
  ['full-width card digits in groups', `card ${fullWidth('4111 1111 1111 1111')}.`, 'card [REDACTED].'],
  ['Arabic-Indic digits', 'bsn ١١١٢٢٢٣٣٣ ok', 'bsn [REDACTED] ok'],
  ['a zero-width space inside an email', 'mail jan\u200b@example.nl now', 'mail [REDACTED] now'],
  ['a zero-width joiner and a soft hyphen inside an email', 'mail ja\u200dn@exam\u00adple.nl', 'mail [REDACTED]'],
  ['a full-width @', 'mail jan\uff20example.nl', 'mail [REDACTED]'],
  ['a small @ and a full-width dot', 'mail jan\ufe6bexample\uff0enl', 'mail [REDACTED]'],
  ['tabs between card groups', 'card 4111\t1111\t1111\t1111 ok', 'card [REDACTED] ok'],
  ['narrow no-break spaces between card groups', 'card 4111\u202f1111\u202f1111\u202f1111', 'card [REDACTED]'],
  ['thin and ideographic spaces in an IBAN', 'iban NL91\u2009ABNA\u30000417\u20091643\u200900!', 'iban [REDACTED]!'],
  ['en dashes in an IBAN', 'iban NL91–ABNA–0417–1643–00', 'iban [REDACTED]'],
  ['a line break inside a phone number', 'tel 06\n12345678', 'tel [REDACTED]'],
  ['full-width letters in an IBAN', 'iban \uff2e\uff2c91ABNA0417164300', 'iban [REDACTED]'],
])('%s is found, and only the original span is replaced', (_name, text, expected) => {
  expect(masked(`café ${text} ☕`).text).toBe(`café ${expected} ☕`);
});

test('hash pseudonyms are of the normal form: a full-width or zero-width variant is the same person', () => {
  const hashed = redactor({ detect: ['email', 'bsn'], action: 'hash' }).apply({
    parameters: { a: 'Jan\uff20Example.nl', b: 'jan\u200b@example.nl', c: fullWidth('111222333') },
  }).parts.parameters;
  expect(hashed).toEqual({ a: pseudonym(KEY, 'jan@example.nl'), b: pseudonym(KEY, 'jan@example.nl'), c: pseudonym(KEY, '111222333') });
  expect(normalFormOf(fullWidth('1234.56.782'))).toBe('123456782');
});

test('values found where they overlap are replaced whole: no digits of a card after a phone number are left', () => {
  expect(masked('call +31 6 4817 2935 4539 5786 2391 4709 today').text).toBe('call [REDACTED] today');
  const hashed = redactor({ detect: ['phone', 'creditcard'], action: 'hash' }).apply({
    parameters: { t: '+31 6 4817 2935 4539 5786 2391 4709' },
  });
  // A pseudonym for each value found, so the card still joins; nothing else is left.
  const { t } = hashed.parts.parameters as { t: string };
  expect(t).toContain(pseudonym(KEY, '4539578623914709'));
  expect(t).toMatch(/^hmac:[0-9a-f]{32}(?: hmac:[0-9a-f]{32})+$/);
});

test('numbers inside JSON lists stay out of the detectors', () => {
  const out = redactor(ALL).apply({ inputs: [{ name: 'x', data: [111222333, 4111111111111111] }] }).parts;
  expect(out.inputs).toEqual([{ name: 'x', data: [111222333, 4111111111111111] }]);
});

test('the view maps each of its characters back to the original', () => {
  const text = 'a\u200bb\uff11\tc𝟐';
  const view = normalView(text);
  expect(view.text).toBe('ab1 c2');
  expect([...view.text].map((_, i) => text.slice(originalStart(view, i), originalEnd(view, i + 1)))).toEqual([
    'a',
    'b',
    '\uff11',
    '\t',
    'c',
    '𝟐',
  ]);
  expect(originalStart(view, view.text.length)).toBe(text.length);
  expect(normalView('plain ascii').segments).toBeNull();
  expect(normalView('café 東京').segments).toBeNull();
});

test('a lone surrogate seen first does not hide a character its pair makes later (mathematical digits)', () => {
  expect(normalView('x\ud835 y').text).toBe('x\ud835 y');
  expect(normalView('bsn 𝟏𝟏𝟏𝟐𝟐𝟐𝟑𝟑𝟑').text).toBe('bsn 111222333');
  expect(masked('bsn 𝟏𝟏𝟏𝟐𝟐𝟐𝟑𝟑𝟑.').text).toBe('bsn [REDACTED].');
});
