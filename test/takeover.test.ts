// Taking over the journals of processes that are gone, when several processes race for them: each is
// claimed by exactly one, and one taken from under a claimer does not stall it.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import express from 'express';
import { inferenceLog, type InferenceRecord } from '@inferlog/express';
import { Heartbeat } from '../packages/core/src/delivery/heartbeat';
import { encodeEntry, Journal } from '../packages/core/src/delivery/journal';
import { uuidv7 } from '../packages/core/src/ids';
import { DATABASE_URL, dropSchema, endPool, logOptions, oipRequest, storedRows, tempDir, uniqueSchema, until } from './helpers';
import { TcpProxy } from './tcp-proxy';

const schema = uniqueSchema('takeover');
afterAll(async () => {
  await dropSchema(schema);
  await endPool();
});

const record = (i: number) =>
  ({ id: uuidv7(), request_id: `orphan-${i}`, started_at: new Date(), ended_at: new Date() }) as InferenceRecord;

/** A journal of a process that is gone: `name` in `dir`, untouched for an hour. */
async function staleJournal(dir: string, name: string, records: InferenceRecord[]): Promise<string> {
  const path = join(dir, name);
  await fs.writeFile(path, encodeEntry(records));
  const hourAgo = new Date(Date.now() - 3_600_000);
  await fs.utimes(path, hourAgo, hourAgo);
  return path;
}

test('processes racing for stale journals claim each exactly once, and a claimed one never looks stale', async () => {
  const dir = tempDir();
  for (let i = 0; i < 40; i++) await staleJournal(dir, `inferlog-s.t-${4_000_000 + i}-0000beef.wal`, [record(i)]);
  const heartbeats = Array.from({ length: 4 }, () => new Heartbeat(60_000, () => {}));
  const journals = heartbeats.map((h) => new Journal(dir, 's.t', 1_000, h));
  const claimed = await Promise.all(journals.map((j) => j.orphans()));
  const all = claimed.flat();
  expect(new Set(all).size).toBe(all.length);
  expect(all).toHaveLength(40);
  for (const path of all) expect(Date.now() - (await fs.stat(path)).mtimeMs).toBeLessThan(1_000);
  // A second round, as each process's timer would run it: nothing is claimed again.
  expect((await Promise.all(journals.map((j) => j.orphans()))).flat()).toEqual([]);
  for (const h of heartbeats) h.stop();
});

test('a claimed journal taken away by another process in the instant of the claim does not stall this one', async () => {
  const proxy = await TcpProxy.create(DATABASE_URL); // refusing: the claim happens before any replay
  const spillDir = tempDir();
  const table = 'taken';
  await staleJournal(spillDir, `inferlog-${schema}.${table}-4194305-0000beef.journal`, [record(1), record(2)]);
  const log = inferenceLog(logOptions(schema, { table, database: proxy.url(DATABASE_URL), spillDir }));
  let claimed: string[] = [];
  await until(async () => {
    claimed = (await fs.readdir(spillDir)).filter((f) => f.endsWith('.replay'));
    return claimed.length === 1;
  }, 'the stale journal claimed');
  // Another process takes it over from under this one (and replays it itself).
  await fs.rename(join(spillDir, claimed[0]!), join(tempDir(), claimed[0]!));
  await proxy.accept();
  const app = express();
  app.use(log);
  app.use(express.json());
  app.post('/v2/models/:model/infer', (_req, res) => {
    res.json({ model_name: 'm', outputs: [{ name: 'y', shape: [1], datatype: 'FP32', data: [1] }] });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v2/models/m/infer`;
  for (let i = 0; i < 20; i++) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(oipRequest([i])),
    });
    expect(res.status).toBe(200);
  }
  await until(() => log.stats().written === 20, 'the 20 records stored', 15_000);
  const started = Date.now();
  await log.close({ timeoutMs: 5_000 });
  expect(Date.now() - started).toBeLessThan(2_000);
  expect(log.stats()).toMatchObject({ written: 20, dropped: 0 });
  expect(log.stats().lastError ?? '').not.toMatch(/ENOENT/);
  expect(await storedRows(schema, table)).toHaveLength(20);
  server.close();
  await proxy.refuse();
});
