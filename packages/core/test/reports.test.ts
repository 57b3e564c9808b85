// What inferlog writes outside the database carries no more than the rows may: reports name a record by
// its id and its stored (redacted) request id, quote failures as the record stores them, and every
// message passes the detectors of every route before it reaches onError, stderr, stats or a 503 body.
import type { IncomingMessage } from 'node:http';
import { Exchange } from '../src/capture/exchange';
import { Reporter } from '../src/delivery/reporter';
import type { InferlogError } from '../src/errors';
import { eventRow } from '../src/events/event';
import { resolveOptions } from '../src/options';
import type { MapperInput } from '../src/protocols/mapper';
import { buildRecord, recordOf } from '../src/record/build';

const EMAIL = 'jan@example.nl';
const IBAN = 'NL91ABNA0417164300';
const base = { database: 'postgres://unused@127.0.0.1:1/none', spillDir: false as const };

test('the report redactor has the detectors of every route, global or its own', () => {
  const o = resolveOptions({
    ...base,
    redact: [{ detect: 'email', action: 'mask' }],
    routes: [
      {
        path: '/a',
        redact: [
          { detect: 'iban', action: 'mask' },
          { path: '$..password', action: 'remove' },
        ],
      },
    ],
  });
  expect(o.reportRedactor!.scrub(`failed for ${EMAIL} and ${IBAN}; password kept`)).toBe(
    'failed for [REDACTED] and [REDACTED]; password kept',
  );
  expect(resolveOptions(base).reportRedactor).toBeNull();
});

test('reports, lastError and errors made from them are scrubbed', () => {
  const o = resolveOptions({ ...base, redact: [{ detect: ['email', 'iban'], action: 'mask' }] });
  const seen: InferlogError[] = [];
  const reporter = new Reporter({ ...o, onError: (e) => seen.push(e) });
  const error = reporter.report('E_WRITE', `row refused: ${EMAIL}`, new Error('x'));
  expect(error.message).toBe('inferlog: row refused: [REDACTED]');
  expect(seen.map((e) => e.message)).toEqual(['inferlog: row refused: [REDACTED]']);
  expect(reporter.lastError).toBe('row refused: [REDACTED]');
  expect(reporter.describe(new Error(`quoting ${IBAN}`))).toBe('quoting [REDACTED]');
});

function exchangeOn(o: ReturnType<typeof resolveOptions>, path: string, requestId: string, body: string) {
  const headers = { 'content-type': 'text/plain', 'x-request-id': requestId };
  const route = o.selector.select('POST', path, headers)!;
  const x = new Exchange(route, { method: 'POST', url: path, headers } as unknown as IncomingMessage, o.maxBodyBytes, o.requestIdHeader);
  x.request.add(Buffer.from(body));
  x.request.seal();
  x.response.seal();
  x.status = 200;
  return x;
}

test("a mapper's failure is reported by the record's id and stored request id, its message as stored", () => {
  function failing(input: MapperInput): never {
    throw new Error(`applicant ${input.request.text} has no IBAN ${IBAN}`);
  }
  const o = resolveOptions({
    ...base,
    redact: [{ detect: ['email', 'iban'], action: 'mask' }],
    routes: [{ path: '/score', protocol: failing }],
  });
  const reports: string[] = [];
  const x = exchangeOn(o, '/score', EMAIL, EMAIL);
  const row = buildRecord(x, o, (message) => reports.push(message));
  expect(reports).toEqual([
    `record ${x.id}, request id [REDACTED]: the custom mapper "failing" failed; the exchange is stored raw: applicant [REDACTED] has no IBAN [REDACTED]`,
  ]);
  expect(row.schema_errors).toEqual([{ part: 'mapper', message: reports[0]!.slice(reports[0]!.indexOf('the custom')) }]);
});

test('a record that cannot be built is reported with what its fallback stores, never the error', () => {
  const o = resolveOptions({ ...base, routes: ['/raw/*rest'], redact: [{ detect: ['email', 'iban'], action: 'mask' }] });
  const x = exchangeOn(o, '/raw/x', EMAIL, 'hello');
  x.annotate({
    detail: {
      get problem(): never {
        throw new Error(`no IBAN on file for ${EMAIL}: ${IBAN}`);
      },
    },
  });
  const reports: string[] = [];
  const row = recordOf(x, o, (message) => reports.push(message));
  expect(row.request_id).toBe(x.id); // its request id is withheld with the rest
  expect(reports).toEqual([
    `building the record ${row.id} (request id ${row.request_id}) failed; a minimal record is stored instead: inferlog could neither build nor redact this record (Error, then Error); its path, request id and annotations are withheld`,
  ]);
});

test('an invalid event is refused without repeating what the rules would remove', () => {
  const o = resolveOptions({ ...base, redact: [{ detect: ['email', 'iban'], action: 'mask' }] });
  expect(() => eventRow('r', { type: 'x', [EMAIL]: 1 }, o.redactor)).toThrow(
    'inferlog: invalid oversight event: unknown field "[REDACTED]"; fields are type, actor, data, id',
  );
  const unserialisable = {
    toJSON: () => {
      throw new Error(`no ${IBAN}`);
    },
  };
  expect(() => eventRow('r', { type: 'x', data: unserialisable }, o.redactor)).toThrow(
    'inferlog: invalid oversight event: "data" must be JSON: no [REDACTED]',
  );
});
