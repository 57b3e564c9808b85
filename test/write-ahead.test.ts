// The write-ahead journal on its own: what it holds is exactly what is not stored yet, it is emptied once
// the database has the batches, and it is not there when turned off. What a kill loses is in kill.test.ts.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import express from 'express';
import { inferenceLog, type InferenceLogMiddleware } from '@inferlog/express';
import { Heartbeat } from '../packages/core/src/delivery/heartbeat';
import { Journal, readEntry } from '../packages/core/src/delivery/journal';
import { WriteAhead } from '../packages/core/src/delivery/write-ahead';
import type { InferenceRecord } from '../packages/core/src/record/record';
import { DATABASE_URL, dropSchema, endPool, logOptions, oipRequest, storedRows, tempDir, uniqueSchema, until } from './helpers';
import { TcpProxy } from './tcp-proxy';

const schema = uniqueSchema('wal');

afterAll(async () => {
  await dropSchema(schema);
  await endPool();
});

async function serve(log: InferenceLogMiddleware) {
  const app = express();
  app.use(log);
  app.use(express.json());
  app.post('/v2/models/:model/infer', (_req, res) => {
    res.json({ model_name: 'm', outputs: [{ name: 'y', shape: [1], datatype: 'FP32', data: [1] }] });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v2/models/m/infer`;
  const send = async (ids: string[]) => {
    for (const id of ids) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': id },
        body: JSON.stringify(oipRequest([1, 2, 3, 4])),
      });
      expect(res.status).toBe(200);
    }
  };
  return { send, close: () => server.close() };
}

/** The request ids in the write-ahead journal files of `dir`, entry by entry. */
async function journaled(dir: string): Promise<{ files: string[]; ids: string[] }> {
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.wal'));
  const ids: string[] = [];
  for (const file of files) {
    const handle = await fs.open(join(dir, file), 'r');
    const size = (await handle.stat()).size;
    for (let entry = await readEntry(handle, 0, size); entry && !('damaged' in entry); entry = await readEntry(handle, entry.end, size)) {
      ids.push(...entry.records.map((r) => r.request_id!));
    }
    await handle.close();
  }
  return { files, ids };
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

test('every batch is in the write-ahead journal before it is sent, and leaves it once stored', async () => {
  const proxy = await TcpProxy.create(DATABASE_URL);
  await proxy.accept();
  const spillDir = tempDir();
  // No spilling in this test: what the journal holds is the write-ahead journal's doing alone.
  const log = inferenceLog(logOptions(schema, { table: 'wal', database: proxy.url(DATABASE_URL), spillDir, spillAfterMs: 600_000 }));
  await log.ready();
  const app = await serve(log);
  await app.send(ids('up', 20));
  await until(() => log.stats().written === 20, '20 records stored');
  await until(async () => (await journaled(spillDir)).ids.length === 0, 'the write-ahead journal emptied');
  expect((await journaled(spillDir)).files).toHaveLength(1);

  // The database stops answering: what is answered now is in the write-ahead journal, not spilled.
  proxy.silence();
  await app.send(ids('silent', 30));
  await until(async () => (await journaled(spillDir)).ids.length === 30, 'the 30 unstored records in the write-ahead journal');
  expect((await journaled(spillDir)).ids.sort()).toEqual(ids('silent', 30).sort());
  expect(log.stats()).toMatchObject({ written: 20, spilled: 0 });

  proxy.heal();
  await until(() => log.stats().written === 50, 'all 50 stored after the network healed', 30_000);
  await until(async () => (await journaled(spillDir)).ids.length === 0, 'the write-ahead journal emptied again');
  app.close();
  await log.close();
  expect(await fs.readdir(spillDir)).toEqual([]);
  const rows = await storedRows(schema, 'wal');
  expect(rows.map((r) => r.request_id).sort()).toEqual([...ids('up', 20), ...ids('silent', 30)].sort());
  await proxy.refuse();
}, 60_000);

test('writeAhead: false keeps batches in memory only: no write-ahead journal is made', async () => {
  const spillDir = tempDir();
  const log = inferenceLog(logOptions(schema, { table: 'nowal', spillDir, writeAhead: false }));
  await log.ready();
  const app = await serve(log);
  await app.send(ids('x', 10));
  await until(() => log.stats().written === 10, '10 records stored');
  expect((await fs.readdir(spillDir).catch(() => [])).filter((f) => f.endsWith('.wal'))).toEqual([]);
  app.close();
  await log.close();
});

test('an entry torn by a failed write that could not be cut off then is cut before the next append, in both journals', async () => {
  const dir = tempDir();
  const heartbeat = new Heartbeat(1000, () => {});
  const record = (i: number) => ({ id: `r${i}`, request_id: `r${i}`, started_at: new Date(), ended_at: new Date() }) as InferenceRecord;
  const journal = new Journal(dir, 's.t', 60_000, heartbeat);
  const writeAhead = new WriteAhead(dir, 's.t', 1000, heartbeat, () => {});
  await journal.append([record(1)]);
  const ticket = await writeAhead.append([record(1)]);
  // The state a write cut short leaves when truncating it back failed as well: torn bytes past the last whole entry.
  const walPath = ticket.segment.path;
  for (const path of [journal.path, walPath]) await fs.appendFile(path, Buffer.from([7, 0, 0, 0, 1, 2, 3]));
  await journal.append([record(2)]);
  await writeAhead.append([record(2)]);
  for (const path of [journal.path, walPath]) {
    const handle = await fs.open(path, 'r');
    const size = (await handle.stat()).size;
    const first = await readEntry(handle, 0, size);
    const second = first && !('damaged' in first) ? await readEntry(handle, first.end, size) : null;
    await handle.close();
    expect([first, second].map((e) => (e && 'records' in e ? e.records.map((r) => r.id) : e))).toEqual([['r1'], ['r2']]);
    expect(second!.end).toBe(size);
  }
  await writeAhead.close();
  await journal.close();
  heartbeat.stop();
});
