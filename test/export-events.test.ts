// Oversight events in exports: an export carries the events about its records (same snapshot, chain
// order, canonical lines) and its manifest counts them and records every chain's registration; so an
// owner who deletes events, or a whole event chain with its registration, is caught by
// `verify --against`, and a changed, deleted or moved event line by `verify --bundle`. Tampering as in
// audit-chain.test.ts: as the table's owner with the triggers off (`session_replication_role = replica`).
import { InferenceLogger } from '@inferlog/core';
import { compareWithManifest, exportLog, verifyLog, type ExportResult } from '@inferlog/core/audit';
import { openWriter, record, type Writer } from './cli-helpers';
import { db, dropSchema, endPool, logOptions, tempDir, uniqueSchema } from './helpers';
import { join } from 'node:path';

const schema = uniqueSchema('export_events');
const dir = tempDir('inferlog-export-events-');
const start = Date.UTC(2026, 3, 1, 8);
const N = 200;
let writer: Writer;
/** Reviews of several inferences, in one event chain. */
let reviews: InferenceLogger;
/** A second reviewer whose chain holds only the events about r-20: the chain an attacker removes whole. */
let second: InferenceLogger;

/** SQL as the table's owner with triggers off (`session_replication_role = replica`): what an attacker with the owner's rights can do. */
async function asAttacker(sql: string, params: unknown[] = []): Promise<void> {
  await db.tx(async (t) => {
    await t.none('SET LOCAL session_replication_role = replica');
    await t.none(sql, params);
  });
}

/** Records r-0 … r-99 (of r-0 … r-199): the export covers the first half of the log. */
const exportFirstHalf = (name: string, format: 'jsonl' | 'csv' = 'jsonl'): Promise<ExportResult> =>
  exportLog(db, schema, 'inference_log', {
    format,
    out: join(dir, name),
    filter: { since: new Date(start), until: new Date(start + 100 * 10) },
  });

beforeAll(async () => {
  writer = await openWriter(schema, 'api');
  await writer.write(Array.from({ length: N }, (_, i) => record(i, start + i * 10)));
  reviews = new InferenceLogger(logOptions(schema, { service: 'review-desk' }));
  await reviews.ready();
  const r11 = await db.one("SELECT id FROM $1:name.inference_log WHERE request_id = 'r-11'", [schema]);
  await reviews.event('r-10', { type: 'human_review', actor: 'reviewer-1', data: { decision: 'confirmed' } });
  await reviews.event('r-150', { type: 'human_review', actor: 'reviewer-1', data: { decision: 'confirmed' } });
  await reviews.event(r11.id, { type: 'override', actor: 'reviewer-1', data: { from: 0.2, to: 0.7 } });
  await reviews.event('r-9999', { type: 'incident', actor: 'ops', data: { severity: 'low' } });
  await reviews.event('r-12', { type: 'ground_truth', data: { defaulted: false } });
  second = new InferenceLogger(logOptions(schema, { service: 'second-opinion' }));
  await second.ready();
  await second.event('r-20', { type: 'human_review', actor: 'reviewer-2', data: { decision: 'rejected' } });
  await second.event('r-20', { type: 'override', actor: 'reviewer-2', data: { from: 0.9, to: 0.1 } });
}, 120_000);

afterAll(async () => {
  await reviews.close();
  await second.close();
  await writer.close();
  await dropSchema(schema);
  await endPool();
});

describe('verify --against an export with events', () => {
  let result: ExportResult;
  beforeAll(async () => {
    result = await exportFirstHalf('against.jsonl');
  });

  test('an event chain deleted with its registration: verify alone cannot see it; against the export, the chain and its events are named', async () => {
    const [chain] = await db.any("SELECT * FROM $1:name.inference_log_chain WHERE service = 'second-opinion' AND kind = 'event'", [schema]);
    await asAttacker(
      `CREATE TABLE $1:name.saved_events AS SELECT * FROM $1:name.inference_log_event WHERE chain_id = $2;
       CREATE TABLE $1:name.saved_chain AS SELECT * FROM $1:name.inference_log_chain WHERE chain_id = $2;
       DELETE FROM $1:name.inference_log_event WHERE chain_id = $2;
       DELETE FROM $1:name.inference_log_chain WHERE chain_id = $2`,
      [schema, chain.chain_id],
    );
    try {
      // A chain with no rows and no registration leaves nothing in the database to verify.
      expect(await verifyLog(db, schema, 'inference_log')).toMatchObject({ ok: true, problems: [] });
      const report = await compareWithManifest(db, schema, 'inference_log', result.manifest);
      expect(report.ok).toBe(false);
      expect(report.problems).toContainEqual(
        expect.objectContaining({
          kind: 'missing',
          chain_id: chain.chain_id,
          message: expect.stringContaining(
            `chain ${chain.chain_id} (event, host ${chain.host}, 2 rows in the export of ${result.manifest.exported_at}) is no longer registered in the database and retention does not drop registrations: deleted`,
          ),
        }),
      );
      expect(report.problems).toContainEqual(
        expect.objectContaining({
          kind: 'missing',
          chain_id: chain.chain_id,
          seq: 2,
          message: expect.stringContaining('no longer in the database'),
        }),
      );
    } finally {
      await asAttacker(
        `INSERT INTO $1:name.inference_log_chain SELECT * FROM $1:name.saved_chain;
         INSERT INTO $1:name.inference_log_event SELECT * FROM $1:name.saved_events;
         DROP TABLE $1:name.saved_chain; DROP TABLE $1:name.saved_events`,
        [schema],
      );
    }
    expect(await compareWithManifest(db, schema, 'inference_log', result.manifest)).toMatchObject({ ok: true, problems: [] });
  });
});
