// `inferlog retention` and `inferlog hold`: the floor, the hold, the dry run and the audit trail from the
// command line (the rules themselves are tested in retention.test.ts).
import { cli, openWriter, record, type Writer } from './cli-helpers';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createdMonthsAgo, db, dropSchema, endPool, tempDir, uniqueSchema } from './helpers';

const schema = uniqueSchema('cli_retention');
const DAY = 24 * 3600 * 1000;
let writer: Writer;

beforeAll(async () => {
  writer = await openWriter(schema, 'api');
  await createdMonthsAgo(schema, 9);
  // Rows about eight months ago, and now: the old month's partition is wholly older than 6 months.
  const old = Date.now() - 240 * DAY;
  await writer.write([
    ...Array.from({ length: 5 }, (_, i) => record(i, old + i)),
    ...Array.from({ length: 5 }, (_, i) => record(10 + i, Date.now() - 1000 + i)),
  ]);
});

afterAll(async () => {
  await writer.close();
  await dropSchema(schema);
  await endPool();
});

const rows = async () => (await db.one('SELECT count(*)::int AS n FROM $1:name.inference_log', [schema])).n;

test('below the six-month floor: refused with exit 1 and what to do; a dry run lists the plan and changes nothing', async () => {
  const refused = await cli(schema, ['retention', '--keep', '90d', '--actor', 'ops']);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/less than six months.*--force/s);
  const dry = await cli(schema, ['retention', '--keep', '6mo', '--dry-run', '--actor', 'ops']);
  expect(dry.code).toBe(0);
  expect(dry.stdout).toMatch(/dry run: nothing changed/);
  // The old month, and the empty month after it that the writer created ahead.
  expect(dry.stdout).toMatch(/would drop 2 partitions \(5 rows\)/);
  expect(await rows()).toBe(10);
});

test('a legal hold blocks retention, even with --force; lifted, retention runs; both are audited with who and why', async () => {
  expect((await cli(schema, ['hold', 'on'])).stderr).toMatch(/needs a reason/);
  const on = await cli(schema, ['hold', 'on', '--reason', 'case C-123/26', '--actor', 'legal@example.org']);
  expect(on.code).toBe(0);
  expect(on.stdout).toMatch(/legal hold: ON since .*, set by legal@example.org \(reason: case C-123\/26\)/);
  const blocked = await cli(schema, ['retention', '--keep', '6mo', '--force', '--actor', 'ops']);
  expect(blocked.code).toBe(1);
  expect(blocked.stderr).toMatch(/legal hold is active .* set by legal@example.org \(reason: case C-123\/26\).*inferlog hold off/s);
  expect(await rows()).toBe(10);

  expect((await cli(schema, ['hold', 'off', '--reason', 'case closed', '--actor', 'legal@example.org'])).code).toBe(0);
  // An export taken before the run: afterwards, --against counts the rows of the dropped month as dropped, not deleted.
  const dir = tempDir('inferlog-cli-retention-');
  expect((await cli(schema, ['export', '--since', '2000-01-01', '--until', 'now', '--out', join(dir, 'before.jsonl')])).code).toBe(0);
  const run = await cli(schema, ['retention', '--keep', '6mo', '--actor', 'ops@example.org', '--json']);
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout)).toMatchObject({ keep: '6mo', dryRun: false, dropped: [{ rows: 5 }, { rows: 0 }] });
  expect(await rows()).toBe(5);
  const audit = await db.any('SELECT actor, action, reason FROM $1:name.inference_log_audit ORDER BY id', [schema]);
  expect(audit).toEqual([
    { actor: 'legal@example.org', action: 'hold on', reason: 'case C-123/26' },
    { actor: 'legal@example.org', action: 'hold off', reason: 'case closed' },
    { actor: 'ops@example.org', action: 'retention', reason: 'keep 6mo' },
  ]);
  // The rows kept still verify: retention recorded the stretch of the chain it dropped.
  expect((await cli(schema, ['verify'])).code).toBe(0);
  const against = await cli(schema, ['verify', '--against', join(dir, 'before.jsonl.manifest.json')]);
  expect(against.stdout).toMatch(/: 5 exported rows compared with the database, 5 dropped by retention since\n/);
  expect(against.code).toBe(0);
  rmSync(dir, { recursive: true, force: true });
  expect((await cli(schema, ['hold'])).stdout).toMatch(/legal hold: off since .*lifted by legal@example.org \(reason: case closed\)/);
});
