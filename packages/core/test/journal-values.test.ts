// A record read back from a journal hashes and writes as the record did before it was journaled: the
// journal keeps jsonb columns in their canonical text (printed once, for the journal, the seal and COPY).
import { mkdtempSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Chain } from '../src/chain/chain';
import { rowHash } from '../src/chain/canonical';
import { encodeEntry, readEntry } from '../src/delivery/journal';
import { RECORD_COLUMNS, type InferenceRecord } from '../src/record/record';
import { toCopyText } from '../src/sink/copy-text';
import { uuidv7 } from '../src/ids';

/** A record whose `inputs` and `annotations` are the values under test; the other columns null or plain. */
function record(inputs: unknown, annotations: unknown): InferenceRecord {
  const now = Date.now();
  return {
    ...Object.fromEntries(RECORD_COLUMNS.map((column) => [column, null])),
    ...{ id: uuidv7(now), started_at: new Date(now), ended_at: new Date(now + 2), latency_ms: 2.5, request_id: 'r-1' },
    ...{ method: 'POST', path: '/v2/models/m/infer', status: 200, aborted: false, protocol: 'oip-v2', model_name: 'm' },
    ...{ request_bytes: 10, response_bytes: 10, truncated: [], redactions: [], request_headers: { 'content-type': 'application/json' } },
    outputs: [{ name: 'y', shape: [1], datatype: 'FP32', data: [0.1] }],
    inputs,
    annotations,
  } as unknown as InferenceRecord;
}

const dir = mkdtempSync(join(tmpdir(), 'inferlog-journal-values-'));

async function throughJournal(records: InferenceRecord[]): Promise<InferenceRecord[]> {
  const path = join(dir, `${uuidv7()}.journal`);
  await fs.writeFile(path, encodeEntry(records));
  const handle = await fs.open(path, 'r');
  try {
    const entry = await readEntry(handle, 0, (await handle.stat()).size);
    if (!entry || !('records' in entry)) throw new Error('the entry did not read back');
    return entry.records;
  } finally {
    await handle.close();
  }
}

/** The hashes and COPY text of `records` sealed into a fresh chain with a fixed id. */
function sealed(records: InferenceRecord[]): { hashes: string[]; copy: string } {
  const chain = new Chain('record', 's', '1', 'h', 60_000, '00000000-0000-7000-8000-000000000000');
  chain.seal(records);
  return { hashes: records.map((r) => rowHash(r as never)), copy: toCopyText(records) };
}

const json = fc.jsonValue({ maxDepth: 3 });
// Strings a JSON column may hold that PostgreSQL stores otherwise: a lone surrogate, U+0000, keys that collide once stored.
const awkward = fc.constantFrom<unknown>({ a: '\ud800', '\ud800': 1, '\ufffd': 2 }, ['nul \u0000 inside', '\udfff'], {
  big: '12345678901234567890',
  small: 1e-7,
  neg: -0,
  exp: 1e21,
});

test('a journaled record hashes and writes as the record did', async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(json, awkward), fc.oneof(json, awkward), async (inputs, annotations) => {
      const journaled = record(inputs, annotations);
      const [replayed] = await throughJournal([journaled]);
      // The same row never journaled (a new object: nothing remembered of the journal's texts), and the row read back.
      const direct = sealed([{ ...journaled }]);
      const again = sealed([replayed!]);
      expect(again.hashes).toEqual(direct.hashes);
      expect(again.copy).toBe(direct.copy);
      // The journaled object itself seals with the texts remembered from the journal: the same again.
      expect(sealed([journaled])).toEqual(direct);
    }),
    { numRuns: 200 },
  );
});
