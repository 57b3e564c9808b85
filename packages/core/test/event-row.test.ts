// An oversight event is redacted by the global rules before it is stored: its request-id subject, actor,
// data and type (a free name: `incident: <what happened>` can hold anything).
import { eventRow } from '../src/events/event';
import { Redactor } from '../src/redact/redactor';
import { compileRule, type RedactRule } from '../src/redact/rules';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const redactor = (...rules: RedactRule[]) => new Redactor(rules.map((rule, i) => compileRule(`redact[${i}]`, rule, KEY)));
const DETECT = redactor({ detect: ['email', 'iban'], action: 'mask' });

test('the type is searched like the other fields', () => {
  const row = eventRow('req-1', { type: 'incident: jan@example.nl NL91 ABNA 0417 1643 00', actor: 'anna@example.org' }, DETECT);
  expect(row).toMatchObject({ type: 'incident: [REDACTED] [REDACTED]', actor: '[REDACTED]', redactions: ['email', 'iban'] });
});

test('a type a rule removes whole is stored as [withheld] (the column is required); $.type selects it', () => {
  const row = eventRow('req-1', { type: 'jan@example.nl' }, redactor({ detect: 'email', action: 'remove' }));
  expect(row.type).toBe('[withheld]');
  expect(eventRow('req-1', { type: 'override' }, redactor({ path: '$.type', action: 'hash' })).type).toMatch(/^hmac:/);
});
