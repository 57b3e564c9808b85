// verify --bundle against an attacker who rewrites an export and everything the files alone can vouch
// for: rows re-sealed with correct hashes, the manifest's counts, chains, sizes and SHA-256 recomputed.
// What remains is what they cannot forge: the heads each writer signed (every chain must have its
// registration, key and all), the end of every chain in an unfiltered export, and the exact bytes of
// every line (valid UTF-8, ending with its line feed). What cannot be told offline is said: unsigned
// chains, a version 1 manifest, and the manifest's own SHA-256 for the recipient to compare.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceLogger } from '@inferlog/core';
import { exportLog, showFromBundle, verifyBundle, type BundleReport, type ExportManifest, type ExportResult } from '@inferlog/core/audit';
import { VERSION_1_WARNING } from '../packages/core/src/audit/bundle';
import { forgeBundle, rewriteBundleFile } from './bundle-tamper';
import { cli, openWriter, record, type Writer } from './cli-helpers';
import { db, dropSchema, endPool, logOptions, tempDir, uniqueSchema } from './helpers';

const schema = uniqueSchema('bundle_strict');
const dir = tempDir('inferlog-bundle-strict-');
const start = Date.UTC(2026, 4, 2, 9);
const N = 60;
/** Every record carries a U+FFFD (as a lone surrogate is stored): the bytes EF BF BD that F8 swaps for one invalid byte. */
const PATH = '/v2/models/cr\uFFFDdit/infer';
let writer: Writer;
let reviews: InferenceLogger;
let unfiltered: ExportResult;
let filtered: ExportResult;

beforeAll(async () => {
  writer = await openWriter(schema, 'strict-api');
  await writer.write(Array.from({ length: N }, (_, i) => record(i, start + i * 10, { path: PATH })));
  reviews = new InferenceLogger(logOptions(schema, { service: 'strict-review' }));
  await reviews.ready();
  for (const i of [3, 17, 42])
    await reviews.event(`r-${i}`, { type: 'human_review', actor: 'reviewer-1', data: { decision: 'confirmed' } });
  // An event about no inference of the log: an unfiltered export carries it too, so the event chain ends at its head.
  await reviews.event('r-none', { type: 'incident', actor: 'ops', data: { severity: 'low' } });
  await reviews.close();
  unfiltered = await exportLog(db, schema, 'inference_log', { format: 'jsonl', out: join(dir, 'all.jsonl') });
  filtered = await exportLog(db, schema, 'inference_log', {
    format: 'jsonl',
    out: join(dir, 'first.jsonl'),
    filter: { since: new Date(start), until: new Date(start + 30 * 10) },
  });
}, 120_000);

afterAll(async () => {
  await writer.close();
  await dropSchema(schema);
  await endPool();
});

type Row = Record<string, unknown>;
const kinds = (r: BundleReport) => r.problems.map((p) => [p.table, p.kind]);
const recordChain = () => writer.chain.id;
const eventChain = () => unfiltered.manifest.events!.chains[0]!.chain_id!;
const withoutRegistration = (id: () => string) => (m: ExportManifest) => {
  m.registrations = m.registrations!.filter((r) => r.chain_id !== id());
};
/** The row at `seq` with its request's status changed (any content change; the forgery re-seals). */
const changeAt = (seq: number) => (rows: Row[]) => rows.map((r) => (r.chain_seq === seq ? { ...r, status: 500 } : r));

describe('a genuine export', () => {
  test("verifies, every chain signed, no warnings, and the report carries the manifest's own SHA-256", async () => {
    const report = await verifyBundle(unfiltered.manifestPath);
    expect(report.problems).toEqual([]);
    // Four oversight events and the writer's final completeness statement.
    expect(report).toMatchObject({ ok: true, rows: N, warnings: [], events: { rows: 5 } });
    expect([...report.chains, ...report.events!.chains].map((c) => [c.chain_id, c.signed])).toEqual([
      [recordChain(), true],
      [eventChain(), true],
    ]);
    expect(report.manifest_sha256).toBe(createHash('sha256').update(readFileSync(unfiltered.manifestPath)).digest('hex'));
    // Unfiltered: the event about no inference is in the file, so the event chain reaches its head.
    const head = unfiltered.manifest.registrations!.find((r) => r.kind === 'event')!;
    expect(report.events!.chains[0]).toMatchObject({ last_seq: head.last_seq, last_hash: head.last_hash, rows: 5 });
    expect((await verifyBundle(filtered.manifestPath)).problems).toEqual([]);
  });

  test("the CLI prints the manifest's SHA-256 and no unsigned chains", async () => {
    const run = await cli(null, ['verify', '--bundle', unfiltered.manifestPath]);
    expect(run.code).toBe(0);
    const digest = createHash('sha256').update(readFileSync(unfiltered.manifestPath)).digest('hex');
    expect(run.stdout).toContain(`manifest sha256 ${digest}: compare it with the digest recorded when the export was handed over`);
    expect(run.stdout).not.toContain('unsigned');
    expect(run.stdout).not.toContain('WARNING');
  });
});

describe('an export rewritten, re-sealed and its manifest recomputed', () => {
  test('(a) the last record changed and its chain dropped from the registrations: named', async () => {
    const report = await verifyBundle(
      forgeBundle(unfiltered.manifestPath, dir, { records: changeAt(N), manifest: withoutRegistration(recordChain) }),
    );
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: 'head',
        table: 'records',
        chain_id: recordChain(),
        message: `chain ${recordChain()} has no registration in the manifest: an export records every chain it holds with its key and signed head, so it was removed from the manifest`,
      }),
    ]);
    expect(report.chains[0]).toMatchObject({ ok: false, signed: false });
  });

  test('(b) only public_key and head_signature deleted from the registration: named', async () => {
    const report = await verifyBundle(
      forgeBundle(unfiltered.manifestPath, dir, {
        records: changeAt(N),
        manifest: (m) => {
          const r = m.registrations!.find((x) => x.chain_id === recordChain())!;
          r.last_hash = m.chains[0]!.last_hash;
          delete r.public_key;
          delete r.head_signature;
        },
      }),
    );
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: 'head',
        chain_id: recordChain(),
        message: expect.stringContaining('its registration in the manifest has no public_key, which every version 2 manifest records'),
      }),
    ]);
  });

  test('(c) the registration posing as a chain from before chain keys (key, signature and origin null): accepted, but reported unsigned', async () => {
    const forged = forgeBundle(unfiltered.manifestPath, dir, {
      records: changeAt(N),
      manifest: (m) => {
        const r = m.registrations!.find((x) => x.chain_id === recordChain())!;
        Object.assign(r, { last_hash: m.chains[0]!.last_hash, public_key: null, head_signature: null, origin: null });
      },
    });
    const report = await verifyBundle(forged);
    // Offline, nothing tells this from a genuine legacy chain: it is shown as such, and the manifest's digest is the anchor.
    expect(report.problems).toEqual([]);
    expect(report.chains).toEqual([expect.objectContaining({ chain_id: recordChain(), ok: true, signed: false })]);
    expect(report.events!.chains).toEqual([expect.objectContaining({ signed: true })]);
    const run = await cli(null, ['verify', '--bundle', forged]);
    expect(run.stdout).toContain('1 chain unsigned (registered before chain keys): nothing but the manifest vouches for its head');
    expect(run.stdout).not.toContain(createHash('sha256').update(readFileSync(unfiltered.manifestPath)).digest('hex'));
    // The origin kept: a chain registered when keys were required cannot pass for a legacy one.
    const withOrigin = await verifyBundle(
      forgeBundle(unfiltered.manifestPath, dir, {
        records: changeAt(N),
        manifest: (m) => {
          const r = m.registrations!.find((x) => x.chain_id === recordChain())!;
          Object.assign(r, { last_hash: m.chains[0]!.last_hash, public_key: null, head_signature: null });
        },
      }),
    );
    expect(withOrigin.problems).toEqual([
      expect.objectContaining({ kind: 'head', message: expect.stringContaining('the key was removed from the manifest') }),
    ]);
  });

  test('(d) rows in the middle changed, the rest re-sealed: the signed head tells; with the registration dropped, its absence tells', async () => {
    const middle = (rows: Row[]) => changeAt(20)(changeAt(21)(rows));
    const kept = await verifyBundle(forgeBundle(unfiltered.manifestPath, dir, { records: middle }));
    expect(kept.problems).toEqual([
      expect.objectContaining({ kind: 'head', chain_id: recordChain(), message: expect.stringContaining('but its writer signed') }),
    ]);
    const dropped = await verifyBundle(
      forgeBundle(unfiltered.manifestPath, dir, { records: middle, manifest: withoutRegistration(recordChain) }),
    );
    expect(dropped.problems).toEqual([
      expect.objectContaining({
        kind: 'head',
        chain_id: recordChain(),
        message: expect.stringContaining('has no registration in the manifest'),
      }),
    ]);
  });

  test('(e) an event deleted and the later ones renumbered, its chain dropped from the registrations: named', async () => {
    const renumbered = (rows: Row[]) =>
      rows
        .filter((r) => r.chain_seq !== 2)
        .map((r) => ((r.chain_seq as number) > 2 ? { ...r, chain_seq: (r.chain_seq as number) - 1 } : r));
    const report = await verifyBundle(
      forgeBundle(unfiltered.manifestPath, dir, { events: renumbered, manifest: withoutRegistration(eventChain) }),
    );
    expect(kinds(report)).toEqual([['events', 'head']]);
    expect(report.problems[0]).toMatchObject({
      chain_id: eventChain(),
      message: expect.stringContaining('has no registration in the manifest'),
    });
    // The registration kept: the file now ends short of the head its writer signed.
    const kept = await verifyBundle(forgeBundle(unfiltered.manifestPath, dir, { events: renumbered }));
    expect(kept.problems).toEqual([
      expect.objectContaining({ kind: 'missing', table: 'events', message: expect.stringContaining('rows were cut from the end') }),
    ]);
  });

  test('(f) the manifest turned into version 1 (events and registrations removed): read, with a warning, in the report and from the CLI', async () => {
    const forged = forgeBundle(unfiltered.manifestPath, dir, {
      records: changeAt(N),
      manifest: (m) => {
        Object.assign(m, { manifest_version: 1 });
        delete m.events;
        delete m.registrations;
      },
    });
    const report = await verifyBundle(forged);
    expect(report).toMatchObject({ ok: true, events: null, warnings: [VERSION_1_WARNING] });
    expect(report.chains[0]!.signed).toBe(false);
    const run = await cli(null, ['verify', '--bundle', forged]);
    expect(run.stdout).toContain('WARNING: manifest version 1: no events, no registrations or signed heads checked');
  });

  test('F3: the last record line or the last event line dropped, registrations kept: the file ends short of the signed head', async () => {
    const records = await verifyBundle(forgeBundle(unfiltered.manifestPath, dir, { records: (rows) => rows.slice(0, -1) }));
    expect(records.problems).toEqual([
      expect.objectContaining({
        kind: 'missing',
        table: 'records',
        chain_id: recordChain(),
        seq: N - 1,
        message: `chain ${recordChain()} ends at seq ${N - 1} in the file but its writer had signed seq ${N} when the export was taken: rows were cut from the end`,
      }),
    ]);
    const events = await verifyBundle(forgeBundle(unfiltered.manifestPath, dir, { events: (rows) => rows.slice(0, -1) }));
    expect(events.problems).toEqual([
      expect.objectContaining({
        kind: 'missing',
        table: 'events',
        chain_id: eventChain(),
        seq: 4,
        message: expect.stringContaining('rows were cut from the end'),
      }),
    ]);
    // A filtered export may end before the head (the filters ended it): there the cut cannot be told.
    expect((await verifyBundle(forgeBundle(filtered.manifestPath, dir, { records: (rows) => rows.slice(0, -1) }))).ok).toBe(true);
  });

  test('a record appended past the signed head, correctly sealed: named', async () => {
    const report = await verifyBundle(
      forgeBundle(unfiltered.manifestPath, dir, {
        records: (rows) => {
          const last = rows[rows.length - 1]!;
          return [...rows, { ...last, id: '01900000-0000-7000-8000-000000000001', request_id: 'r-forged', chain_seq: N + 1 }];
        },
      }),
    );
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: 'inserted',
        chain_id: recordChain(),
        message: expect.stringContaining(`reaches seq ${N + 1} in the file, past seq ${N}, the head its writer had signed`),
      }),
    ]);
  });
});

describe('F8: every line valid UTF-8 and ending with its line feed', () => {
  const REPLACEMENT = Buffer.from('\uFFFD');
  /** The file with the U+FFFD of line `line` (1-based) replaced by the single byte `by`. */
  const swap = (line: number, by: number) => (data: Buffer) => {
    let at = 0;
    for (let i = 1; i < line; i++) at = data.indexOf(10, at) + 1;
    const k = data.indexOf(REPLACEMENT, at);
    expect(k).toBeGreaterThan(at);
    return Buffer.concat([data.subarray(0, k), Buffer.from([by]), data.subarray(k + REPLACEMENT.length)]);
  };

  test.each([
    ['JSONL', 'jsonl', 0xff, 7, 7],
    ['CSV', 'csv', 0xc0, 7, 6],
  ] as const)(
    '%s: a U+FFFD swapped for one invalid byte (which a lenient decoder reads back as U+FFFD): named',
    async (_what, format, by, line, row) => {
      const out = join(tempDir(), `utf8.${format}`);
      const { manifestPath } = await exportLog(db, schema, 'inference_log', { format, out });
      rewriteBundleFile(manifestPath, 'records', swap(line, by));
      const report = await verifyBundle(manifestPath);
      expect(report.problems).toEqual([
        expect.objectContaining({
          kind: 'malformed',
          table: 'records',
          line,
          message: expect.stringContaining(`line ${line}${format === 'jsonl' ? ` (row ${row})` : ''} is not valid UTF-8`),
        }),
      ]);
      // show --bundle does not vouch for that row either (it reads the same U+FFFD a lenient decoder makes), only for its neighbour.
      expect((await showFromBundle(manifestPath, `r-${row - 1}`)).inferences).toEqual([expect.objectContaining({ line, hash_ok: false })]);
      expect((await showFromBundle(manifestPath, `r-${row}`)).inferences).toEqual([expect.objectContaining({ hash_ok: true })]);
    },
  );

  test('JSONL: the last line without its line feed: named', async () => {
    const out = join(tempDir(), 'cut.jsonl');
    const { manifestPath } = await exportLog(db, schema, 'inference_log', { format: 'jsonl', out });
    rewriteBundleFile(manifestPath, 'records', (data) => data.subarray(0, -1));
    const report = await verifyBundle(manifestPath);
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: 'malformed',
        line: N,
        row: N,
        message: `line ${N} (row ${N}) does not end with a line feed, as every exported line does: the file was cut or edited`,
      }),
    ]);
  });
});
