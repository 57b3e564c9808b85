// A record's canonical text is made once (record-text.ts) and used by the journal, the seal and COPY:
// the hash it gives must be the one the canonical form defines (canonicalObject, which verify and the
// export recompute), and a copy of a record must never use the text made for the original.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { Chain } from '../src/chain/chain';
import { canonicalObject, jsonTextsOf, RECORD_HASH_COLUMNS } from '../src/chain/canonical';
import { journalJson } from '../src/chain/record-text';
import { RECORD_COLUMNS, type InferenceRecord } from '../src/record/record';
import { toCopyText } from '../src/sink/copy-text';
import { uuidv7 } from '../src/ids';

function record(overrides: Record<string, unknown>): InferenceRecord {
  const now = Date.now();
  return {
    ...Object.fromEntries(RECORD_COLUMNS.map((column) => [column, null])),
    ...{ id: uuidv7(now), started_at: new Date(now), ended_at: new Date(now + 2), latency_ms: 2.5, request_id: 'r-1' },
    ...{ method: 'POST', path: '/v2/models/m/infer', status: 200, aborted: false, protocol: 'oip-v2', model_name: 'm' },
    ...{ request_bytes: 10, response_bytes: 10, truncated: [], redactions: [] },
    ...overrides,
  } as unknown as InferenceRecord;
}

/** What the canonical form defines the hash to be, computed without the text made once. */
const definedHash = (row: InferenceRecord) =>
  createHash('sha256')
    .update(canonicalObject(row as unknown as Record<string, unknown>, RECORD_HASH_COLUMNS))
    .digest('hex');

const chain = () => new Chain('record', 's', '1', 'h', 60_000, '00000000-0000-7000-8000-000000000000');

const text = fc.oneof(fc.string(), fc.constantFrom('tab\there', 'nul \u0000', 'lone \ud800', 'quote " and \\', 'é東'));
const json = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom<unknown>({ b: 1, a: 2, 10: 3, 9: 4 }, { '\ud800': 1, '\ufffd': 2 }));

test('a sealed record hashes as its canonical form defines, in any position of the chain', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ inputs: json, annotations: json, model_name: text, route: fc.option(text), status: fc.option(fc.integer()) }), {
        minLength: 1,
        maxLength: 4,
      }),
      (values) => {
        const rows = values.map((v) => record(v));
        // Texts made before the seal (as the write-ahead journal does), and made by the seal itself.
        for (const row of rows.slice(1)) journalJson(row as never);
        chain().seal(rows);
        for (const row of rows) expect(row.record_hash).toBe(definedHash(row));
      },
    ),
    { numRuns: 300 },
  );
});

test('the journal holds every column as stored, the chain fields as they are now', () => {
  const row = record({ inputs: [{ name: 'x', data: [1, 2.5] }], model_name: 'nul \u0000' });
  const unsealed = JSON.parse(journalJson(row as never));
  expect(unsealed).toMatchObject({ chain_id: null, chain_seq: null, prev_hash: null, model_name: 'nul \ufffd' });
  expect(unsealed.record_hash).toBeUndefined();
  chain().seal([row]);
  const sealed = JSON.parse(journalJson(row as never));
  expect(sealed).toMatchObject({ chain_seq: 1, prev_hash: null, record_hash: row.record_hash, chain_id: row.chain_id });
});

test('a copy of a record (a stripped record is one) is hashed and written from its own values', () => {
  const original = record({ inputs: [{ name: 'x', data: [1, 2, 3] }], request_body: 'secret' });
  chain().seal([original]);
  const stripped = { ...original, inputs: null, request_body: null, chain_id: null } as InferenceRecord;
  chain().seal([stripped]);
  expect(stripped.record_hash).toBe(definedHash(stripped));
  expect(stripped.record_hash).not.toBe(original.record_hash);
  expect(jsonTextsOf(stripped)?.inputs).toBeUndefined();
  const line = toCopyText([stripped]).split('\t');
  expect(line[RECORD_COLUMNS.indexOf('inputs')]).toBe('\\N');
  expect(line[RECORD_COLUMNS.indexOf('request_body')]).toBe('\\N');
  expect(journalJson(stripped as never)).not.toContain('secret');
});
