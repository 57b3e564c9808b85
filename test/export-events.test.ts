// Oversight events in exports: an export carries the events about its records (same snapshot, chain
// order, canonical lines) and its manifest counts them and records every chain's registration; so an
// owner who deletes events, or a whole event chain with its registration, is caught by
// `verify --against`, and a changed, deleted or moved event line by `verify --bundle`. Tampering as in
// audit-chain.test.ts: as the table's owner with the triggers off (`session_replication_role = replica`).
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceLogger } from '@inferlog/core';
import {
  compareWithManifest,
  EVENT_EXPORT,
  exportLog,
  rowFromJsonl,
  rowHash,
  verifyBundle,
  verifyLog,
  type ExportManifest,
  type ExportResult,
} from '@inferlog/core/audit';
import { jsonlLine } from '../packages/core/src/audit/export-format';
import { tamperedEvents } from './bundle-tamper';
import { openWriter, record, type Writer } from './cli-helpers';
import { asAttacker, db, dropSchema, endPool, jcs, logOptions, tempDir, uniqueSchema } from './helpers';

const schema = uniqueSchema('export_events');
const dir = tempDir('inferlog-export-events-');
const start = Date.UTC(2026, 3, 1, 8);
const N = 200;
let writer: Writer;
/** Reviews of several inferences, in one event chain. */
let reviews: InferenceLogger;
/** A second reviewer whose chain holds only the events about r-20: the chain an attacker removes whole. */
let second: InferenceLogger;

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
  rmSync(dir, { recursive: true, force: true });
});

describe('an export with events', () => {
  let result: ExportResult;
  let lines: string[];
  let stored: Record<string, unknown>[];
  beforeAll(async () => {
    result = await exportFirstHalf('half.jsonl');
    lines = readFileSync(result.eventsFile, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    stored = await db.any(
      `SELECT e.* FROM $1:name.inference_log_event e JOIN $1:name.inference_log l ON e.subject IN (l.id::text, l.request_id)
        WHERE l.started_at < $2 ORDER BY e.chain_id, e.chain_seq`,
      [schema, new Date(start + 100 * 10)],
    );
  });

  test('carries exactly the events about the exported records, in chain order, each line canonical with a hash anyone can recompute', () => {
    expect(result.eventsFile).toBe(`${result.file}.events.jsonl`);
    // r-10, r-11 (by id), r-12 and r-20 twice; not r-150 (left out by --until) nor r-9999 (no such inference).
    expect(lines.map((l) => JSON.parse(l).id)).toEqual(stored.map((e) => e.id));
    expect(lines).toHaveLength(5);
    for (const line of lines) {
      const row = JSON.parse(line);
      const { record_hash, ...rest } = row;
      expect(line).toBe(jcs(row));
      expect(createHash('sha256').update(jcs(rest)).digest('hex')).toBe(record_hash);
    }
    expect(lines.map((l) => JSON.parse(l).subject)).toContain(String(stored.find((e) => e.type === 'override')!.subject));
  });

  test("the manifest (version 2) counts the events per chain, with the seqs it left out, and records every chain's registration", async () => {
    const file = readFileSync(result.eventsFile);
    const m = result.manifest;
    expect(m.manifest_version).toBe(2);
    expect(m.events).toMatchObject({
      file: 'half.jsonl.events.jsonl',
      bytes: file.length,
      rows: 5,
      sha256: createHash('sha256').update(file).digest('hex'),
    });
    const chains = await db.any('SELECT * FROM $1:name.inference_log_chain ORDER BY chain_id', [schema]);
    const reviewChain = chains.find((c) => c.service === 'review-desk' && c.kind === 'event')!;
    const secondChain = chains.find((c) => c.service === 'second-opinion' && c.kind === 'event')!;
    expect(m.events!.chains).toEqual(
      [
        {
          chain_id: reviewChain.chain_id,
          rows: 3,
          first_seq: 1,
          first_prev_hash: null,
          last_seq: 5,
          last_hash: reviewChain.last_hash,
          gaps: [
            [2, 2],
            [4, 4],
          ],
        },
        {
          chain_id: secondChain.chain_id,
          rows: 2,
          first_seq: 1,
          first_prev_hash: null,
          last_seq: 2,
          last_hash: secondChain.last_hash,
          gaps: [],
        },
      ].sort((x, y) => (x.chain_id < y.chain_id ? -1 : 1)),
    );
    expect(m.registrations).toEqual(
      chains
        .filter((c) => c.chain_id === writer.chain.id || c.kind === 'event')
        .map((c) => ({
          chain_id: c.chain_id,
          kind: c.kind,
          started_at: c.started_at.toISOString(),
          host: c.host,
          pid: c.pid,
          service: c.service,
          service_version: c.service_version,
          last_seq: Number(c.last_seq),
          last_hash: c.last_hash,
          public_key: c.public_key,
          head_signature: c.head_signature,
          origin: {
            registered_by: c.registered_by,
            client_addr: c.client_addr,
            backend_start: c.backend_start?.toISOString() ?? null,
            registered_at: c.registered_at.toISOString(),
          },
          ...(c.kind === 'record' ? { statement_interval_ms: c.statement_interval_ms } : {}),
        })),
    );
    for (const r of m.registrations!) expect(r.public_key).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(readFileSync(result.manifestPath, 'utf8'))).toEqual(m);
  });

  test('verify --bundle checks the events file too', async () => {
    const report = await verifyBundle(result.manifestPath);
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ ok: true, rows: 100, events: { rows: 5, bytes: result.manifest.events!.bytes } });
  });

  test('an event line changed, deleted or moved, or the events file removed: named', async () => {
    const at = (k: number) => `half.jsonl.events.jsonl line ${k} (row ${k}, id ${JSON.parse(lines[k - 1]).id}`;
    const whichLine = lines.findIndex((l) => l.includes('"rejected"')) + 1;
    expect(whichLine).toBeGreaterThan(0);
    const changed = await verifyBundle(
      tamperedEvents(result.manifestPath, dir, (l) => l.map((x, i) => (i === whichLine - 1 ? x.replace('"rejected"', '"confirmed"') : x))),
    );
    expect(changed.ok).toBe(false);
    expect(changed.problems[0]).toMatchObject({
      kind: 'changed',
      table: 'events',
      line: whichLine,
      message: expect.stringContaining(at(whichLine)),
    });
    expect(changed.problems.map((p) => [p.table, p.kind])).toEqual([
      ['events', 'changed'],
      ['events', 'file'],
    ]);

    const deleted = await verifyBundle(tamperedEvents(result.manifestPath, dir, (l) => l.filter((_, i) => i !== 0)));
    expect(deleted.problems[0]).toMatchObject({ kind: 'missing', table: 'events', line: 1 });
    expect(deleted.problems.map((p) => p.kind)).toEqual(['missing', 'head', 'count', 'file']);

    const moved = await verifyBundle(
      tamperedEvents(result.manifestPath, dir, (l) => {
        const c = [...l];
        [c[0], c[1]] = [c[1]!, c[0]!];
        return c;
      }),
    );
    expect(moved.problems.find((p) => p.kind === 'reordered')).toMatchObject({ table: 'events', line: 2 });

    const removed = await verifyBundle(tamperedEvents(result.manifestPath, dir, () => null));
    expect(removed.problems).toEqual([
      expect.objectContaining({
        kind: 'file',
        table: 'events',
        message: expect.stringContaining('that the manifest describes is not there'),
      }),
    ]);
    // A duplicate key put in front, as a parser that keeps the first would read it: the line is not what was exported.
    const doubled = await verifyBundle(
      tamperedEvents(result.manifestPath, dir, (l) => l.map((x, i) => (i === 0 ? x.replace('{', '{"type":"x",') : x))),
    );
    expect(doubled.ok).toBe(false);
  });

  test("a chain's last event rewritten, its hash and the manifest made to match: the head its writer signed tells, offline", async () => {
    const m: ExportManifest = JSON.parse(readFileSync(result.manifestPath, 'utf8'));
    const secondChain = m.registrations!.find(
      (r) => r.kind === 'event' && r.last_seq === 2 && m.events!.chains.some((c) => c.chain_id === r.chain_id && c.last_seq === 2),
    )!;
    const last = lines.findIndex((l) => l.includes(secondChain.chain_id) && JSON.parse(l).chain_seq === 2);
    expect(last).toBeGreaterThanOrEqual(0);
    // An attacker who knows the canonical form: the override's `to` changed, record_hash recomputed, the line written canonically.
    const row = rowFromJsonl(lines[last]!, EVENT_EXPORT);
    row.data = { from: 0.9, to: 0.95 };
    row.record_hash = rowHash(row, EVENT_EXPORT.hashed);
    const forged = lines.map((l, i) => (i === last ? jsonlLine(row, EVENT_EXPORT).trimEnd() : l));
    /** The bundle with the forged events file and a manifest recomputed to match (sha256, bytes, the chain's last hash; the registration's head too when `moveHead`). */
    const bundle = (moveHead: boolean, edit: (m: ExportManifest) => void = () => {}) => {
      const path = tamperedEvents(result.manifestPath, dir, () => forged);
      const text = readFileSync(join(path, '..', m.events!.file));
      const n: ExportManifest = JSON.parse(JSON.stringify(m));
      n.events!.sha256 = createHash('sha256').update(text).digest('hex');
      n.events!.bytes = text.length;
      n.events!.chains.find((c) => c.chain_id === secondChain.chain_id)!.last_hash = row.record_hash as string;
      if (moveHead) n.registrations!.find((r) => r.chain_id === secondChain.chain_id)!.last_hash = row.record_hash as string;
      edit(n);
      writeFileSync(path, JSON.stringify(n));
      return path;
    };
    const kept = await verifyBundle(bundle(false));
    expect(kept.problems).toEqual([
      expect.objectContaining({
        kind: 'head',
        table: 'events',
        chain_id: secondChain.chain_id,
        message: expect.stringContaining('its writer signed'),
      }),
    ]);
    const moved = await verifyBundle(bundle(true));
    expect(moved.problems).toEqual([
      expect.objectContaining({
        kind: 'head',
        chain_id: secondChain.chain_id,
        message: expect.stringContaining('is not signed by the key its writer registered'),
      }),
    ]);
    // Stripping the key, so the chain passes for one registered before keys: its server-side origin says it was not.
    const stripped = await verifyBundle(
      bundle(true, (n) => {
        const r = n.registrations!.find((x) => x.chain_id === secondChain.chain_id)!;
        r.public_key = null;
        r.head_signature = null;
      }),
    );
    expect(stripped.problems).toEqual([
      expect.objectContaining({
        kind: 'head',
        chain_id: secondChain.chain_id,
        message: expect.stringContaining('the key was removed from the manifest'),
      }),
    ]);
  });

  test('a version 1 manifest (records only) is still read and verified', async () => {
    const { events: _events, registrations: _registrations, ...v1 } = result.manifest;
    const to = mkdtempSync(join(dir, 'v1-'));
    copyFileSync(result.file, join(to, result.manifest.file));
    writeFileSync(join(to, 'half.jsonl.manifest.json'), JSON.stringify({ ...v1, manifest_version: 1 }));
    const report = await verifyBundle(join(to, 'half.jsonl.manifest.json'));
    expect(report).toMatchObject({ ok: true, rows: 100, events: null, problems: [] });
    expect(await compareWithManifest(db, schema, 'inference_log', { ...v1, manifest_version: 1 })).toMatchObject({
      ok: true,
      problems: [],
    });
  });

  test('a CSV export still writes its events as JSONL, and they verify', async () => {
    const csv = await exportFirstHalf('half.csv', 'csv');
    expect(readFileSync(csv.eventsFile, 'utf8')).toBe(readFileSync(result.eventsFile, 'utf8'));
    expect(await verifyBundle(csv.manifestPath)).toMatchObject({ ok: true, events: { rows: 5 }, problems: [] });
  });
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

  test('the last event of a chain deleted and its head moved back: verify alone names the unsigned head; against the export, the event is named', async () => {
    const [chain] = await db.any("SELECT * FROM $1:name.inference_log_chain WHERE service = 'second-opinion' AND kind = 'event'", [schema]);
    const [last] = await db.any('SELECT * FROM $1:name.inference_log_event WHERE chain_id = $2 AND chain_seq = 2', [
      schema,
      chain.chain_id,
    ]);
    await asAttacker(
      `CREATE TABLE $1:name.saved_events AS SELECT * FROM $1:name.inference_log_event WHERE id = $2;
       DELETE FROM $1:name.inference_log_event WHERE id = $2;
       UPDATE $1:name.inference_log_chain SET last_seq = 1, last_hash = $3 WHERE chain_id = $4`,
      [schema, last.id, last.prev_hash, chain.chain_id],
    );
    try {
      // The rows link and end at the head, but the head moved back is not one its writer signed.
      expect((await verifyLog(db, schema, 'inference_log')).problems).toEqual([
        expect.objectContaining({ kind: 'forged', table: 'events', chain_id: chain.chain_id, seq: 1 }),
      ]);
      const report = await compareWithManifest(db, schema, 'inference_log', result.manifest);
      expect(report.problems).toEqual([
        expect.objectContaining({
          kind: 'changed',
          table: 'events',
          chain_id: chain.chain_id,
          message: expect.stringContaining('heads only move forward'),
        }),
        expect.objectContaining({
          kind: 'missing',
          table: 'events',
          chain_id: chain.chain_id,
          seq: 2,
          message: `event chain ${chain.chain_id} seq 2, which the export of ${result.manifest.exported_at} holds, is no longer in the database and retention did not drop it: deleted`,
        }),
      ]);
    } finally {
      await asAttacker(
        `INSERT INTO $1:name.inference_log_event SELECT * FROM $1:name.saved_events; DROP TABLE $1:name.saved_events;
         UPDATE $1:name.inference_log_chain SET last_seq = 2, last_hash = $2 WHERE chain_id = $3`,
        [schema, last.record_hash, chain.chain_id],
      );
    }
    expect(await compareWithManifest(db, schema, 'inference_log', result.manifest)).toMatchObject({ ok: true, problems: [] });
  });

  test("a chain's key swapped in the database (to re-sign a rewritten chain): named against the export", async () => {
    const [chain] = await db.any("SELECT * FROM $1:name.inference_log_chain WHERE service = 'review-desk' AND kind = 'event'", [schema]);
    const other = 'ab'.repeat(32);
    await asAttacker('UPDATE $1:name.inference_log_chain SET public_key = $2 WHERE chain_id = $3', [schema, other, chain.chain_id]);
    try {
      expect((await compareWithManifest(db, schema, 'inference_log', result.manifest)).problems).toEqual([
        expect.objectContaining({
          kind: 'changed',
          chain_id: chain.chain_id,
          message: expect.stringContaining(`public_key "${chain.public_key}"; the database now holds public_key "${other}"`),
        }),
      ]);
    } finally {
      await asAttacker('UPDATE $1:name.inference_log_chain SET public_key = $2 WHERE chain_id = $3', [
        schema,
        chain.public_key,
        chain.chain_id,
      ]);
    }
  });

  test('a registration rewritten to pose as another host: named', async () => {
    const [chain] = await db.any("SELECT * FROM $1:name.inference_log_chain WHERE service = 'review-desk' AND kind = 'event'", [schema]);
    await asAttacker('UPDATE $1:name.inference_log_chain SET host = $2 WHERE chain_id = $3', [schema, 'elsewhere', chain.chain_id]);
    try {
      expect((await compareWithManifest(db, schema, 'inference_log', result.manifest)).problems).toEqual([
        expect.objectContaining({
          kind: 'changed',
          chain_id: chain.chain_id,
          message: expect.stringContaining(`recorded its registration with host "${chain.host}"; the database now holds host "elsewhere"`),
        }),
      ]);
    } finally {
      await asAttacker('UPDATE $1:name.inference_log_chain SET host = $2 WHERE chain_id = $3', [schema, chain.host, chain.chain_id]);
    }
  });
});
