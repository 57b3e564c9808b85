// newestRecords: the console's records list, newest first, in keyset pages. Rows spread from the future
// (a host clock ahead of the database) to twelve years back, across every span the function widens over.
import { newestRecords } from '@inferlog/core/audit';
import { openWriter, record } from './cli-helpers';
import { db, dropSchema, endPool, uniqueSchema } from './helpers';

const schema = uniqueSchema('newest');
const MIN = 60_000;
const DAY = 86_400_000;
const AGES = [-MIN, 30 * MIN, 31 * MIN, 2 * 60 * MIN, 20 * 60 * MIN, 3 * DAY, 12 * DAY, 40 * DAY, 200 * DAY, 2 * 365 * DAY, 12 * 365 * DAY];

beforeAll(async () => {
  const writer = await openWriter(schema);
  const now = Date.now();
  // Two rows at each age, one of model "old-only" only beyond a year, and rows sharing one instant.
  await writer.write(
    AGES.flatMap((age, i) => [
      record(i * 10, now - age, { model_name: age > 365 * DAY ? 'old-only' : 'credit' }),
      record(i * 10 + 1, now - age - 1, { model_name: 'credit' }),
    ]),
  );
  const same = now - 5 * DAY;
  await writer.write([record(500, same), record(501, same), record(502, same)]);
  await writer.close();
});

afterAll(async () => {
  await dropSchema(schema);
  await endPool();
});

async function walk(filter: Parameters<typeof newestRecords>[3], limit: number): Promise<string[]> {
  const ids: string[] = [];
  let before: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await newestRecords(db, schema, 'inference_log', filter, { limit, ...(before ? { before } : {}) });
    ids.push(...page.rows.map((r) => r.id));
    if (!page.older) return ids;
    expect(page.rows).toHaveLength(limit);
    before = page.older;
  }
  throw new Error('more than 100 pages');
}

test.each([1, 2, 3, 50])('pages of %i walk every row exactly once, newest first, whatever their age', async (limit) => {
  const all = await db.any('SELECT id FROM $1:name.inference_log ORDER BY started_at DESC, id DESC', [schema]);
  expect(await walk({}, limit)).toEqual(all.map((r) => r.id));
});

test.each([
  ['until 10 days ago', { until: new Date(Date.now() - 10 * DAY) }],
  ['since 2 years ago until 30 minutes ago', { since: new Date(Date.now() - 2 * 366 * DAY), until: new Date(Date.now() - 30 * MIN) }],
  ['until a minute ahead', { until: new Date(Date.now() + MIN) }],
])('a time range (%s) pages from its own end, every matching row once', async (_, filter) => {
  const all = await db.any(
    'SELECT id FROM $1:name.inference_log WHERE started_at >= $2 AND started_at < $3 ORDER BY started_at DESC, id DESC',
    [schema, (filter as { since?: Date }).since ?? new Date(0), filter.until],
  );
  expect(all.length).toBeGreaterThan(2);
  expect(await walk(filter, 2)).toEqual(all.map((r) => r.id));
});

test('a filter whose newest row is years old still finds it first; a filter that matches nothing gives an empty page', async () => {
  const old = await db.any(`SELECT id FROM $1:name.inference_log WHERE model_name = 'old-only' ORDER BY started_at DESC, id DESC`, [
    schema,
  ]);
  expect(old).toHaveLength(2);
  expect(await walk({ model: 'old-only' }, 1)).toEqual(old.map((r) => r.id));
  expect(await newestRecords(db, schema, 'inference_log', { model: 'nobody' })).toEqual({ rows: [], older: null });
  expect(await newestRecords(db, schema, 'inference_log', { until: new Date(0) })).toEqual({ rows: [], older: null });
});

test('a cursor that is not one is refused with what to pass', async () => {
  await expect(newestRecords(db, schema, 'inference_log', {}, { before: 'x' })).rejects.toThrow(/"x" is not a cursor/);
  await expect(newestRecords(db, schema, 'inference_log', {}, { limit: 0 })).rejects.toThrow(/limit must be a whole number from 1 to 1000/);
});
