import { bsnValid, ibanValid, luhnValid } from '../src/redact/checksums';
import { detector, DETECTOR_NAMES, type DetectorName } from '../src/redact/detectors';
import { pseudonym } from '../src/redact/actions';
import { Redactor, type RecordParts } from '../src/redact/redactor';
import { compileRule, type RedactRule } from '../src/redact/rules';
import { resolveOptions } from '../src/options';
import { limitEachDepth } from '../src/record/sanitize';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const redactor = (...rules: RedactRule[]) => new Redactor(rules.map((rule, i) => compileRule(`redact[${i}]`, rule, KEY)));
const found = (name: DetectorName, text: string) =>
  detector(name)
    .find(text)
    .map((f) => text.slice(f.start, f.end));

describe('checksums', () => {
  test('BSN 11-proef: weights 9..2 and −1; all zeros rejected', () => {
    expect(['111222333', '123456782', '999999990'].map(bsnValid)).toEqual([true, true, true]);
    expect(['111222334', '123456789', '000000000', '12345678'].map(bsnValid)).toEqual([false, false, false, false]);
  });
  test('IBAN mod 97 and Luhn', () => {
    expect(['NL91ABNA0417164300', 'DE89370400440532013000', 'GB82WEST12345698765432'].map(ibanValid)).toEqual([true, true, true]);
    expect(ibanValid('NL91ABNA0417164301')).toBe(false);
    expect(['4111111111111111', '5500005555555559', '378282246310005'].map(luhnValid)).toEqual([true, true, true]);
    expect(luhnValid('4111111111111112')).toBe(false);
  });
});

describe('detectors', () => {
  test.each<[DetectorName, string, string[]]>([
    [
      'email',
      'write to Jan.de-Vries+ai@sub.example.nl, or ünïcode@bücher.de; not a@b or @x.nl',
      ['Jan.de-Vries+ai@sub.example.nl', 'ünïcode@bücher.de'],
    ],
    [
      'email',
      `email=jan@x.nl 'piet@x.nl' /users/kees@x.nl {anna@x.nl} ${'jürgen@x.de'.normalize('NFD')}`,
      ['jan@x.nl', 'piet@x.nl', 'kees@x.nl', 'anna@x.nl', 'jürgen@x.de'.normalize('NFD')],
    ],
    [
      'phone',
      'call +31 6 1234 5678, +1 (415) 555-0132, 06-12345678, 0031 20 123 4567 or 020 123 4567; not 12345 or 2024-01-15',
      ['+31 6 1234 5678', '+1 (415) 555-0132', '06-12345678', '0031 20 123 4567', '020 123 4567'],
    ],
    [
      'phone',
      'or (020) 123 4567, 06/12345678, 06\u00a012345678, +31 (0)6 1234 5678',
      ['(020) 123 4567', '06/12345678', '06\u00a012345678', '+31 (0)6 1234 5678'],
    ],
    [
      'iban',
      'pay NL91 ABNA 0417 1643 00 or DE89370400440532013000 but not NL91ABNA0417164301 or NL91ABNA04171643',
      ['NL91 ABNA 0417 1643 00', 'DE89370400440532013000'],
    ],
    [
      'iban',
      'nl91abna0417164300, NL91\u00a0ABNA\u00a00417\u00a01643\u00a000, NL91-ABNA-0417-1643-00',
      ['nl91abna0417164300', 'NL91\u00a0ABNA\u00a00417\u00a01643\u00a000', 'NL91-ABNA-0417-1643-00'],
    ],
    [
      'bsn',
      'BSN 111222333, 1234.56.782 and 123 456 782; not 111222334, not 1112223330, not 000000000',
      ['111222333', '1234.56.782', '123 456 782'],
    ],
    ['bsn', 'nr.111222333 but not 3.111222333 or ABC111222333', ['111222333']],
    [
      'creditcard',
      'cards 4111 1111 1111 1111, 5500-0055-5555-5559, 378282246310005; not 4111111111111112 or 1234567890123',
      ['4111 1111 1111 1111', '5500-0055-5555-5559', '378282246310005'],
    ],
    [
      'creditcard',
      'card 4111 1111 1111 1111 exp 12 25; qty 2 5500 0055 5555 5559; 4111.1111.1111.1111',
      ['4111 1111 1111 1111', '5500 0055 5555 5559', '4111.1111.1111.1111'],
    ],
    ['bsn', 'BSN-111222333, bsn_123456782, id:111222333; not 12-111222333 or 1_111222333', ['111222333', '123456782', '111222333']],
    ['creditcard', 'card-4111111111111111 card_5500005555555559; not 0000 0000 0000 0000', ['4111111111111111', '5500005555555559']],
    ['email', "first.o'neill@x.ie and name='piet@x.nl'", ["first.o'neill@x.ie", 'piet@x.nl']],
    ['phone', 'call 06 - 12345678 or +31 - 6 - 1234 5678', ['06 - 12345678', '+31 - 6 - 1234 5678']],
    ['ipv4', 'from 192.168.1.20 and 10.0.0.1; not 256.1.1.1 or 1.2.3', ['192.168.1.20', '10.0.0.1']],
    [
      'ipv6',
      'from 2001:db8::8a2e:370:7334, ::1 and fe80::1%eth0; not 12:30:45 or a::b::c',
      ['2001:db8::8a2e:370:7334', '::1', 'fe80::1%eth0'],
    ],
    ['ipv6', 'mapped ::ffff:192.168.1.20 whole', ['::ffff:192.168.1.20']],
    ['ipv6', 'ip:2001:db8::1 and "2001:db8::2: refused"', ['2001:db8::1', '2001:db8::2']],
    ['bsn', 'jan,111222333,NL and 123456782_old; not 1,111222333 or 111222333,50', ['111222333', '123456782']],
    ['creditcard', 'jan,4111111111111111,12/29', ['4111111111111111']],
    ['phone', 'dial 0044 20 7946 0958 or phone_0612345678; not 0012', ['0044 20 7946 0958', '0612345678']],
  ])('%s finds what it should and nothing else', (name, text, expected) => {
    expect(found(name, text)).toEqual(expected);
  });

  test('every detector has a test above', () => {
    expect([...DETECTOR_NAMES].sort()).toEqual(['bsn', 'creditcard', 'email', 'iban', 'ipv4', 'ipv6', 'phone']);
  });
});

describe('rules', () => {
  test.each<[unknown, RegExp]>([
    [{ path: '$.[', action: 'mask' }, /"redact\[0\].path": "\$\.\[" is not a valid JSONPath \(RFC 9535\): unexpected/],
    [
      { path: '$.user_email', action: 'mask' },
      /starts at "user_email", which is not a part of the record; paths start at one of \$\.path, \$\.request_id, \$\.inference_id, \$\.parameters/,
    ],
    [{ path: '$', action: 'remove' }, /"\$" selects the whole record/],
    [{ paths: ['$.parameters.a', '$.inputs[?@.x=1]'], action: 'mask' }, /"redact\[0\].paths\[1\]": .* is not a valid JSONPath/],
    [{ detect: 'passport', action: 'mask' }, /unknown detector "passport"; detectors are: email, phone, iban, bsn, creditcard, ipv4, ipv6/],
    [{ action: 'mask' }, /"redact\[0\]" selects nothing/],
    [{ path: '$.parameters.a', action: 'erase' }, /"redact\[0\].action" must be one of remove, mask, hash, truncate/],
    [{ path: '$.parameters.a', action: 'truncate' }, /"redact\[0\].keep" must be a whole number/],
    [{ path: '$.parameters.a', action: 'remove', keep: 3 }, /"redact\[0\].keep" only goes with action "truncate"/],
    [{ path: '$.parameters.a', action: 'mask', colour: 'red' }, /unknown option "redact\[0\].colour"/],
    [{ path: '$ .parametrs.email', action: 'mask' }, /starts at "parametrs", which is not a part of the record/],
    [{ path: "$['parameters','secrets'].x", action: 'mask' }, /starts at "secrets", which is not a part of the record/],
    [{ path: '$.request_headers.Authorization', action: 'mask' }, /header names are stored in lower case: write/],
  ])('%j is refused at start with a message naming it', (rule, message) => {
    expect(() => resolveOptions({ database: 'postgres://x@127.0.0.1/none', redact: [rule as RedactRule] })).toThrow(message);
  });

  test('hashing needs a key of 16 bytes or more, from the option or INFERLOG_HMAC_KEY', () => {
    const options = { database: 'postgres://x@127.0.0.1/none', redact: [{ input: 'ssn', action: 'hash' as const }] };
    expect(() => resolveOptions(options)).toThrow(/"redact\[0\]" hashes, which needs a key: set the "hmacKey" option or INFERLOG_HMAC_KEY/);
    expect(() => resolveOptions({ ...options, hmacKey: 'short' })).toThrow(/option "hmacKey" must be at least 16 bytes/);
    expect(() => resolveOptions({ ...options, hmacKey: KEY })).not.toThrow();
    expect(() => resolveOptions({ database: 'postgres://x@127.0.0.1/none', bodyDigest: 'hmac' })).toThrow(
      /"bodyDigest" is "hmac", which needs a key/,
    );
    expect(() =>
      resolveOptions({ database: 'postgres://x@127.0.0.1/none', routes: [{ path: '/x', redact: [{ path: '$.nope', action: 'mask' }] }] }),
    ).toThrow(/option "routes\[0\].redact\[0\].path"/);
  });
});

describe('the redactor', () => {
  const parts = (): RecordParts => ({
    path: '/v2/models/credit/infer',
    parameters: { user_email: 'jan@example.nl', temperature: 0.5, nested: { password: 'hunter2' } },
    inputs: [
      { name: 'ssn', datatype: 'BYTES', shape: [2], data: ['111222333', '123456782'] },
      { name: 'income', datatype: 'FP32', shape: [1], data: [52000] },
    ],
    outputs: [{ name: 'score', datatype: 'FP32', shape: [1], data: [0.82] }],
    request_headers: { 'user-agent': 'curl/8', 'x-user': 'jan' },
    request_body: { customer: { name: 'Jan', iban: 'NL91ABNA0417164300' }, note: 'call 06-12345678' },
  });

  test('paths, tensor shorthands and every action; ids that fired are recorded, never values', () => {
    const input = parts();
    const frozen = JSON.stringify(input);
    const { parts: out, fired } = redactor(
      { input: 'ssn', action: 'hash' },
      { path: '$.parameters.user_email', action: 'mask', censor: '[email]', id: 'email-param' },
      { path: '$..password', action: 'remove' },
      { path: "$.request_headers['x-user']", action: 'truncate', keep: 1 },
      { path: '$.request_body.customer', detect: 'iban', action: 'mask' },
      { output: 'nope', action: 'remove' },
    ).apply(input);
    expect(out.inputs).toEqual([
      { name: 'ssn', datatype: 'BYTES', shape: [2], data: [pseudonym(KEY, '111222333'), pseudonym(KEY, '123456782')] },
      { name: 'income', datatype: 'FP32', shape: [1], data: [52000] },
    ]);
    expect(out.parameters).toEqual({ user_email: '[email]', temperature: 0.5, nested: {} });
    expect(out.request_headers).toEqual({ 'user-agent': 'curl/8', 'x-user': 'j' });
    expect(out.request_body).toEqual({ customer: { name: 'Jan', iban: '[REDACTED]' }, note: 'call 06-12345678' });
    expect(fired).toEqual(['input:ssn', 'email-param', '$..password', "$.request_headers['x-user']", 'iban']);
    expect(JSON.stringify(input)).toBe(frozen); // nothing changed in place
    expect(out.outputs).toBe(input.outputs); // untouched parts are shared, not copied
  });

  test('detectors without a path search every text, key and integer of the record', () => {
    const { parts: out, fired } = redactor({ detect: ['bsn', 'phone', 'email'], action: 'mask' }).apply({
      ...parts(),
      annotations: { 'jan@example.nl': { bsn: 111222333, count: 123456789 } },
    });
    const text = JSON.stringify(out);
    for (const secret of ['jan@example.nl', '111222333', '123456782', '06-12345678']) expect(text).not.toContain(secret);
    expect(out.annotations).toEqual({ '[REDACTED]': { bsn: '[REDACTED]', count: 123456789 } });
    expect(fired.sort()).toEqual(['bsn', 'email', 'phone']);
  });

  test('hash pseudonyms of detected values use their normal form: 1234.56.782 and 123456782 are one person', () => {
    const { parts: out } = redactor({ detect: 'bsn', action: 'hash' }).apply({ parameters: { a: 'BSN 1234.56.782', b: 123456782 } });
    expect(out.parameters).toEqual({ a: `BSN ${pseudonym(KEY, '123456782')}`, b: pseudonym(KEY, '123456782') });
  });

  test('removing several array elements removes exactly those', () => {
    const { parts: out } = redactor({ path: '$.inputs[0].data[0,2,3]', action: 'remove' }).apply({
      inputs: [{ name: 'x', data: [0, 1, 2, 3, 4] }],
    });
    expect(out.inputs).toEqual([{ name: 'x', data: [1, 4] }]);
  });

  test('__proto__ keys are data: redacted like any key, and no prototype changes', () => {
    const hostile = JSON.parse('{"parameters":{"__proto__":{"polluted":"jan@example.nl"},"x":1}}') as RecordParts;
    const { parts: out } = redactor(
      { path: "$.parameters['__proto__'].polluted", action: 'mask' },
      { detect: 'email', action: 'mask' },
    ).apply(hostile);
    expect(JSON.stringify(out.parameters)).toBe('{"__proto__":{"polluted":"[REDACTED]"},"x":1}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('what nests deeper than records keep is cut before rules run, so a secret down there is not stored', () => {
    let deep: unknown = 'jan@example.nl';
    for (let i = 0; i < 5000; i++) deep = [deep];
    const { values, cut } = limitEachDepth({ annotations: deep, parameters: { a: 1 } });
    expect(cut).toEqual(['annotations']);
    const { parts: out } = redactor({ detect: 'email', action: 'mask' }).apply(values);
    expect(JSON.stringify(out)).not.toContain('jan@example.nl');
    expect(JSON.stringify(out)).toContain('nested deeper than 200 levels');
  });
});

test('$..name has a fast walk of its own that selects exactly what the RFC 9535 evaluator selects', async () => {
  const fc = (await import('fast-check')).default;
  const { JSONPathEnvironment } = await import('json-p3');
  const { descendantsNamed } = await import('../src/redact/rules');
  const { hostileJson } = await import('./support/payload-arbitraries');
  const reference = new JSONPathEnvironment();
  const sorted = (locations: readonly (readonly (string | number)[])[]) => locations.map((l) => JSON.stringify(l)).sort();
  fc.assert(
    fc.property(hostileJson, fc.constantFrom('data', 'name', '__proto__', 'inputs', 'x'), (document, name) => {
      expect(sorted(descendantsNamed(document, name))).toEqual(
        sorted(
          reference
            .compile(`$..['${name}']`)
            .query(document as never)
            .locations(),
        ),
      );
    }),
    { numRuns: 500 },
  );
});

describe('review findings', () => {
  test('every selector of a rule is found on the same document: removing [0] and [1] removes exactly those', () => {
    const { parts: out } = redactor({
      paths: ['$.parameters.tags[0]', '$.parameters.tags[1]', '$.parameters.tags[0]'],
      action: 'remove',
    }).apply({ parameters: { tags: ['s0', 's1', 'keep'] } });
    expect(out.parameters).toEqual({ tags: ['keep'] });
  });

  test('truncate shortens numbers and objects too; mask and hash replace keys, which can be personal data', () => {
    const { parts: out } = redactor(
      { path: '$.parameters.bsn', action: 'truncate', keep: 3 },
      { path: '$.parameters.contacts', action: 'mask' },
    ).apply({
      parameters: { bsn: 111222333, contacts: { 'a@x.nl': 1, 'b@x.nl': 2 } },
    });
    expect(out.parameters).toEqual({ bsn: '111', contacts: { '[REDACTED]': '[REDACTED]', '[REDACTED]#2': '[REDACTED]' } });
  });

  test('a path hash uses the normal form a detector would: one person, one pseudonym, and never the pseudonym of masked text', () => {
    const rules = redactor(
      { path: '$.parameters.email', action: 'hash' },
      { detect: ['email', 'bsn'], action: 'mask' },
      { path: '$.parameters.bsn', action: 'hash' },
    );
    const a = rules.apply({ parameters: { email: 'Jan@Example.NL', bsn: '1112.22.333' } }).parts.parameters;
    const b = rules.apply({ parameters: { email: 'jan@example.nl', bsn: '111222333' } }).parts.parameters;
    const c = rules.apply({ parameters: { email: 'piet@example.nl', bsn: '123456782' } }).parts.parameters;
    expect(a).toEqual(b);
    expect(a).toEqual({ email: pseudonym(KEY, 'jan@example.nl'), bsn: pseudonym(KEY, '111222333') });
    expect(c).not.toEqual(a);
  });

  test('keys that redaction makes equal stay distinct', () => {
    const { parts: out } = redactor({ detect: 'email', action: 'mask' }).apply({ annotations: { 'a@x.nl': 1, 'b@x.nl': 2 } });
    expect(out.annotations).toEqual({ '[REDACTED]': 1, '[REDACTED]#2': 2 });
  });

  test('integers are checked only as object members (a BSN whose leading zero a number lost included), never as list elements', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => 100_000_000 + i * 7919);
    const { parts: out } = redactor({ detect: ['bsn', 'creditcard'], action: 'mask' }).apply({
      inputs: [{ name: 'ids', data: ids }],
      parameters: { bsn: 12345672, card: 4111111111111111 },
    });
    expect((out.inputs as { data: number[] }[])[0].data).toEqual(ids);
    expect(out.parameters).toEqual({ bsn: '[REDACTED]', card: '[REDACTED]' });
  });

  test('many selections are applied in one pass: 50,000 members removed (copying per selection took minutes)', () => {
    const data = Array.from({ length: 50_000 }, (_, i) => ({ e: `v${i}`, keep: i }));
    const { parts: out } = redactor({ path: '$.inputs[0].data[*].e', action: 'remove' }).apply({ inputs: [{ name: 'x', data }] });
    expect((out.inputs as { data: unknown[] }[])[0].data).toEqual(data.map((_, i) => ({ keep: i })));
  });

  test('an app object that refers to itself is stored with the loop cut, not walked forever', () => {
    const user: Record<string, unknown> = { name: 'anna' };
    user.self = user;
    user.friends = [user, user];
    const { values, cut } = limitEachDepth({ annotations: { user } });
    expect(cut).toEqual(['annotations']);
    expect(values.annotations).toEqual({
      user: {
        name: 'anna',
        self: '[circular reference: not stored]',
        friends: ['[circular reference: not stored]', '[circular reference: not stored]'],
      },
    });
  });
});
