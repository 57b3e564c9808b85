import fc from 'fast-check';
import { csvRecord, CsvReader } from '../src/audit/csv';

const readAll = (text: string, cuts: number[] = []) => {
  const reader = new CsvReader();
  const rows = [];
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    rows.push(...reader.push(text.slice(from, cut)));
    from = cut;
  }
  rows.push(...reader.push(text.slice(from)), ...reader.end());
  return rows;
};

test('RFC 4180 quoting: commas, quotes and line breaks are quoted; NULL is empty, an empty string is ""', () => {
  expect(csvRecord(['a', 'b,c', 'say "hi"', 'line\r\nbreak', '', null])).toBe('a,"b,c","say ""hi""","line\r\nbreak","",\r\n');
  expect(readAll('a,"b,c","say ""hi""","line\r\nbreak","",\r\nx,y,,,,z\r\n')).toEqual([
    { fields: ['a', 'b,c', 'say "hi"', 'line\r\nbreak', '', null], line: 1 },
    { fields: ['x', 'y', null, null, null, 'z'], line: 3 },
  ]);
});

test('a last record without a line break, LF line ends, and errors that name the line', () => {
  expect(readAll('a,b\nc,"d\ne"')).toEqual([
    { fields: ['a', 'b'], line: 1 },
    { fields: ['c', 'd\ne'], line: 2 },
  ]);
  expect(() => readAll('a,b\r\nc,d"e\r\n')).toThrow('line 2: a quote inside an unquoted field');
  expect(() => readAll('a,"b"c\r\n')).toThrow('line 1: text after a closing quote');
  expect(() => readAll('a\r\n"open,\r\nstill open')).toThrow('line 2: the file ends inside a quoted field');
});

test('any fields survive writing and reading back, however the text is cut into chunks', () => {
  const field = fc.option(fc.string({ unit: fc.constantFrom('a', ',', '"', '\r', '\n', ' ', 'é', '✓') }), { nil: null });
  fc.assert(
    fc.property(
      fc.array(fc.array(field, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }),
      fc.array(fc.nat()),
      (records, cuts) => {
        // A record of one NULL field is an empty line, which reads back as one NULL: the same.
        const text = records.map(csvRecord).join('');
        const read = readAll(
          text,
          cuts.map((c) => c % (text.length + 1)),
        );
        expect(read.map((r) => r.fields)).toEqual(records);
      },
    ),
  );
});

test('with keepText, each record carries its text as read: quotes and line breaks as they were, however the text is cut', () => {
  const text = 'a,"b",,""\r\n"x""y",z\nlast,"q"\rend';
  const records = ['a,"b",,""\r\n', '"x""y",z\n', 'last,"q"\r', 'end'];
  for (let cut = 0; cut <= text.length; cut++) {
    const reader = new CsvReader(true);
    const rows = [...reader.push(text.slice(0, cut)), ...reader.push(text.slice(cut)), ...reader.end()];
    expect(rows.map((r) => r.text)).toEqual(records);
  }
  fc.assert(
    fc.property(
      fc.array(
        fc.array(fc.option(fc.string({ unit: fc.constantFrom('a', ',', '"', '\r', '\n') }), { nil: null }), { minLength: 2, maxLength: 4 }),
        { minLength: 1, maxLength: 4 },
      ),
      fc.nat(),
      (records, cut) => {
        const written = records.map(csvRecord);
        const all = written.join('');
        const reader = new CsvReader(true);
        const at = cut % (all.length + 1);
        const rows = [...reader.push(all.slice(0, at)), ...reader.push(all.slice(at)), ...reader.end()];
        expect(rows.map((r) => r.text)).toEqual(written);
      },
    ),
  );
});
