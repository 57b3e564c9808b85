import { execFileSync, fork } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import express from 'express';
import { inferenceLog, type InferenceLogMiddleware, type InferenceRecord, type InferlogError } from '@inferlog/express';
import { uuidv7 } from '../packages/core/src/ids';
import { verifyLog } from '@inferlog/core/audit';
import { encodeEntry } from '../packages/core/src/delivery/journal';
import { DATABASE_URL, db, dropSchema, endPool, logOptions, oipRequest, storedRows, tempDir, uniqueSchema, until } from './helpers';
import { TcpProxy } from './tcp-proxy';

const schema = uniqueSchema('faults');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

afterAll(async () => {
  await dropSchema(schema);
  await endPool();
});

function oipApp(log: InferenceLogMiddleware) {
  const app = express();
  app.use(log);
  app.use(express.json());
  app.post('/v2/models/:model/infer', (req, res) => {
    res.json({
      model_name: req.params.model,
      outputs: [{ name: 'y', shape: [1], datatype: 'FP32', data: [req.body.inputs?.[0]?.data?.[0] ?? 0] }],
    });
  });
  return app;
}

async function listen(app: express.Express): Promise<{ url: string; close: () => void }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => server.close() };
}

/** Sends `count` OIP requests, `concurrency` at a time; `at(i)` runs before request i. Returns statuses and latencies. */
async function load(url: string, count: number, concurrency: number, at: (i: number) => Promise<void> | void = () => {}) {
  const statuses: number[] = new Array(count);
  const latencies: number[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await at(i);
      const start = performance.now();
      const res = await fetch(`${url}/v2/models/m/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': `req-${i}` },
        body: JSON.stringify(oipRequest([i, 0, 0, 0])),
      });
      await res.arrayBuffer();
      statuses[i] = res.status;
      latencies[i] = performance.now() - start;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { statuses, latencies };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 100) / 100;
}

/** Flushes until everything queued and journaled is written (the database may still be recovering). */
async function drainFully(log: InferenceLogMiddleware, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await log.flush();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${(err as Error).message}; stats ${JSON.stringify(log.stats())}`);
      await sleep(100);
    }
  }
}

// `pnpm test:scale` runs this with FAULT_N=200000 (an outage of about a minute).
const N = Number(process.env.FAULT_N ?? 20_000);

test(`${N} requests with the database cut off for the middle half: exactly ${N} rows, no duplicates, every response served`, async () => {
  const table = 'outage';
  const proxy = await TcpProxy.create(DATABASE_URL);
  await proxy.accept();
  const log = inferenceLog(
    logOptions(schema, { table, database: proxy.url(DATABASE_URL), spillAfterMs: 200, batch: { flushIntervalMs: 50 } }),
  );
  await log.ready();
  const server = await listen(oipApp(log));
  const marks: Record<string, number> = {};
  const { statuses, latencies } = await load(server.url, N, 50, async (i) => {
    if (i === N / 4) {
      marks.cut = performance.now();
      await proxy.refuse();
    }
    if (i === (N * 3) / 4) {
      marks.back = performance.now();
      await proxy.accept();
    }
  });
  server.close();
  expect(statuses.filter((s) => s !== 200)).toHaveLength(0);
  const during = latencies.slice(N / 4, (N * 3) / 4);
  const outside = [...latencies.slice(0, N / 4), ...latencies.slice((N * 3) / 4)];
  console.log(
    `outage of ${Math.round(marks.back - marks.cut)} ms: latency p50/p99 ${percentile(outside, 50)}/${percentile(outside, 99)} ms with the database, ` +
      `${percentile(during, 50)}/${percentile(during, 99)} ms without; stats ${JSON.stringify(log.stats())}`,
  );

  await drainFully(log);
  const stats = log.stats();
  expect(stats).toMatchObject({ captured: N, dropped: 0, queueRows: 0, journalBytes: 0 });
  expect(stats.spilled).toBeGreaterThan(0);
  expect(stats.replayed).toBe(stats.spilled);
  const counts = await db.one(
    'SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids, count(DISTINCT request_id)::int AS request_ids FROM $1:name.$2:name',
    [schema, table],
  );
  expect(counts).toEqual({ rows: N, ids: N, request_ids: N });
  // Retries, spills and replays across the outage left the writer's hash chain whole: no gap, no fork.
  const chain = await verifyLog(db, schema, table);
  expect(chain.problems).toEqual([]);
  expect(chain.ok).toBe(true);
  const records = chain.chains.filter((c) => c.table === 'records');
  expect(records.map((c) => [c.rows, c.last_seq, c.head?.seq])).toEqual([[N, N, N]]);
  await log.close();
  await proxy.refuse();
}, 900_000);

test('a silent network (packets dropped, nothing refused) is handled like a refused one: spilling starts within spillAfterMs + the deadline, nothing is dropped, the pool recovers', async () => {
  const table = 'silent';
  const n = 3000;
  const proxy = await TcpProxy.create(DATABASE_URL);
  await proxy.accept();
  const deadlineMs = 1500;
  const spillAfterMs = 500;
  const log = inferenceLog(
    logOptions(schema, {
      table,
      database: proxy.url(DATABASE_URL),
      spillAfterMs,
      databaseTimeoutMs: deadlineMs,
      batch: { flushIntervalMs: 20 },
    }),
  );
  await log.ready();
  const server = await listen(oipApp(log));
  let silentAt = 0;
  let firstSpillAt = 0;
  const watch = setInterval(() => {
    if (silentAt && !firstSpillAt && log.stats().spilled > 0) firstSpillAt = performance.now();
  }, 10);
  const { statuses } = await load(server.url, n, 20, async (i) => {
    if (i === n / 10) {
      proxy.silence();
      silentAt = performance.now();
    }
    if (i > n / 10) await sleep(2); // about 5 s of traffic into the silence
  });
  const duringSilence = log.stats();
  await until(() => firstSpillAt > 0, 'the first spill', 20_000);
  clearInterval(watch);
  server.close();
  expect(statuses.filter((s) => s !== 200)).toHaveLength(0);
  // Nothing dropped while the journal had room, and the journal took what could not be written.
  expect(duringSilence.dropped).toBe(0);
  expect(log.stats().spilled).toBeGreaterThan(0);
  // The first write into the silence is found dead at its deadline, and what waits is spilled after spillAfterMs.
  const spillDelay = firstSpillAt - silentAt;
  console.log(
    `silent network: first spill ${Math.round(spillDelay)} ms after the silence began (spillAfterMs ${spillAfterMs}, deadline ${deadlineMs}); stats ${JSON.stringify(duringSilence)}`,
  );
  expect(spillDelay).toBeLessThan(spillAfterMs + deadlineMs + 1000);

  proxy.heal();
  await drainFully(log);
  expect(log.stats()).toMatchObject({ captured: n, dropped: 0, queueRows: 0, journalBytes: 0 });
  const counts = await db.one('SELECT count(*)::int AS rows, count(DISTINCT request_id)::int AS request_ids FROM $1:name.$2:name', [
    schema,
    table,
  ]);
  expect(counts).toEqual({ rows: n, request_ids: n });
  const chain = await verifyLog(db, schema, table);
  expect(chain.problems).toEqual([]);
  expect(chain).toMatchObject({ ok: true, rows: n });
  await log.close();
  await proxy.refuse();
}, 120_000);

test('a full disk under the journal loses nothing silently: every record is stored or counted as dropped, and the journal recovers', async () => {
  const dir = tempDir('inferlog-small-disk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    console.warn(`SKIPPED: a full disk needs a 1 MiB tmpfs, which could not be mounted here (root only): ${(err as Error).message}`);
    return;
  }
  const table = 'fulldisk';
  const n = 3000;
  const proxy = await TcpProxy.create(DATABASE_URL);
  await proxy.accept();
  const drops: number[] = [];
  const log = inferenceLog(
    logOptions(schema, {
      table,
      database: proxy.url(DATABASE_URL),
      spillDir: dir,
      spillAfterMs: 100,
      maxQueueBytes: 1024 * 1024,
      overflow: 'drop-newest', // drops are what this counts; the default waits instead
      onDrop: (count) => drops.push(count),
    }),
  );
  try {
    await log.ready();
    const server = await listen(oipApp(log));
    await proxy.refuse();
    const { statuses } = await load(server.url, n, 20);
    server.close();
    expect(statuses.filter((s) => s !== 200)).toHaveLength(0);
    const full = log.stats();
    // The disk filled (the write-ahead journal takes its share of it, the spill journal what is left,
    // which on a slow store can be nothing): some records stayed in memory, the rest were dropped, each counted.
    expect(full.dropped).toBeGreaterThan(0);
    expect(drops.reduce((a, b) => a + b, 0)).toBe(full.dropped);
    const journals = await fs.readdir(dir);
    expect(journals.length).toBeGreaterThan(0);
    for (const file of journals) expect((await fs.stat(join(dir, file))).size).toBeLessThanOrEqual(1024 * 1024);

    await proxy.accept();
    await drainFully(log);
    const after = log.stats();
    const { rows } = await db.one('SELECT count(*)::int AS rows FROM $1:name.$2:name', [schema, table]);
    console.log(`full disk: ${n} answered, ${rows} stored, ${after.dropped} dropped and counted; stats ${JSON.stringify(after)}`);
    // Every answered inference is a row or a counted drop; every one captured is a row.
    expect(after.captured + after.dropped).toBe(n);
    expect(rows).toBe(after.captured);
    expect(after).toMatchObject({ queueRows: 0, journalBytes: 0 });
    expect(after.replayed).toBe(after.spilled);
    expect((await fs.readdir(dir)).filter((f) => f.endsWith('.damaged'))).toEqual([]);
    expect((await verifyLog(db, schema, table)).problems).toEqual([]);
  } finally {
    await log.close().catch(() => {});
    await proxy.refuse();
    execFileSync('umount', [dir]);
  }
}, 180_000);

test('a journal is taken over only once its process stops touching it: not while it lives (here or on another host), and soon after it dies', async () => {
  const table = 'inference_log';
  const killedSchema = `${schema}_killed`;
  const spillDir = tempDir();
  const STALE_MS = 1500;
  const proxy = await TcpProxy.create(DATABASE_URL); // refusing: the child's database is down
  const child = fork(join(__dirname, 'fixtures', 'spill-child.js'), [proxy.url(DATABASE_URL), killedSchema, spillDir, String(STALE_MS)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: Record<string, any>[] = [];
  child.on('message', (m) => messages.push(m as Record<string, any>));
  const nextMessage = async () => {
    while (messages.length === 0) await sleep(10);
    return messages.shift()!;
  };
  const { port } = await nextMessage();
  const { statuses } = await load(`http://127.0.0.1:${port}`, 300, 10);
  expect(statuses.every((s) => s === 200)).toBe(true);
  let stats: Record<string, number> = {};
  for (let i = 0; i < 500 && stats.spilled !== 300; i++) {
    child.send('stats');
    stats = (await nextMessage()).stats;
    if (stats.spilled !== 300) await sleep(20);
  }
  expect(stats).toMatchObject({ captured: 300, spilled: 300, queueRows: 0 });
  // The spill journal, beside the child's write-ahead journal (empty: every batch in it was spilled).
  const journals = () => fs.readdir(spillDir).then((files) => files.filter((f) => !f.endsWith('.wal')));
  const [journal] = await journals();
  expect(journal).toMatch(/\.journal$/);

  // A process on another host (or in another container) sharing the directory: a pid that does not
  // exist here, a journal it keeps touching.
  const remote = join(spillDir, `inferlog-${killedSchema}.inference_log-4194305-0000beef.journal`);
  await fs.writeFile(remote, encodeEntry(Array.from({ length: 10 }, (_, i) => journalRecord(i))));
  const touching = setInterval(() => void fs.utimes(remote, new Date(), new Date()).catch(() => {}), STALE_MS / 4);

  // Another process starts beside them: for three times the stale age, both live journals stay their owners'.
  const log = inferenceLog(logOptions(killedSchema, { spillDir, spillStaleMs: STALE_MS }));
  await log.ready();
  await sleep(3 * STALE_MS);
  expect(log.stats()).toMatchObject({ replayed: 0, written: 0 });
  expect((await journals()).sort()).toEqual([journal, basename(remote)].sort());

  child.kill('SIGKILL');
  clearInterval(touching);
  await new Promise((resolve) => child.once('exit', resolve));
  const killedAt = Date.now();
  for (let i = 0; i < 400 && log.stats().written < 310; i++) await sleep(25);
  await drainFully(log);
  console.log(
    `journals of a killed process and a silent remote one taken over and replayed ${Date.now() - killedAt} ms after (spillStaleMs ${STALE_MS})`,
  );
  expect(log.stats()).toMatchObject({ replayed: 310, written: 310, dropped: 0 });
  const rows = await storedRows(killedSchema, table);
  expect(new Set(rows.map((r) => r.request_id)).size).toBe(310);
  expect(rows).toHaveLength(310);
  expect(await journals()).toEqual([]);
  // The killed writer never stored a row; the replaying one chained all 310.
  expect(await verifyLog(db, killedSchema, table)).toMatchObject({ ok: true, rows: 310, problems: [] });
  await log.close();
  await proxy.refuse();
  await dropSchema(killedSchema);
}, 60_000);

function journalRecord(i: number): InferenceRecord {
  const at = Date.now();
  return {
    id: uuidv7(at),
    started_at: new Date(at),
    ended_at: new Date(at + 1),
    latency_ms: 1,
    request_id: `torn-${i}`,
    trace_id: null,
    span_id: null,
    service: null,
    service_version: null,
    host: 'h',
    method: 'POST',
    route: '/v2/models/:model/infer',
    path: '/v2/models/m/infer',
    status: 200,
    aborted: false,
    protocol: 'oip-v2',
    model_name: 'm',
    model_version: null,
    inference_id: null,
    parameters: null,
    inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [i] }],
    outputs: null,
    response_parameters: null,
    usage: null,
    error: null,
    request_headers: null,
    response_headers: null,
    request_body: null,
    response_body: null,
    request_bytes: 10,
    response_bytes: 10,
    request_sha256: null,
    response_sha256: null,
    truncated: [],
    redactions: [],
    schema_errors: null,
    annotations: null,
  };
}

/** Writes a journal as a process that is gone left it: named like one, untouched for ten minutes. */
async function leftJournal(spillDir: string, logSchema: string, bytes: Buffer): Promise<string> {
  const path = join(spillDir, `inferlog-${logSchema}.inference_log-1-0badc0de.journal`);
  await fs.writeFile(path, bytes);
  const tenMinutesAgo = new Date(Date.now() - 600_000);
  await fs.utimes(path, tenMinutesAgo, tenMinutesAgo);
  return path;
}

/** Starts a logger beside a journal a gone process left (`bytes`), waits until it replayed `expected` records; returns it with its errors and what is left in the directory. */
async function replayLeft(logSchema: string, bytes: Buffer, expected: number) {
  const spillDir = tempDir();
  // pid 1, as in every container: the pid says nothing, the file's age does.
  await leftJournal(spillDir, logSchema, bytes);
  const errors: InferlogError[] = [];
  const log = inferenceLog(logOptions(logSchema, { spillDir, onError: (e) => errors.push(e) }));
  await log.ready();
  for (let i = 0; i < 100 && log.stats().replayed < expected; i++) await sleep(20);
  await drainFully(log);
  const left = await fs.readdir(spillDir);
  return { log, errors, left, kept: left.length === 1 ? await fs.readFile(join(spillDir, left[0])) : null };
}

const tenEntries = () => [0, 1, 2].map((e) => encodeEntry(Array.from({ length: 10 }, (_, i) => journalRecord(e * 10 + i))));
const tornIds = (numbers: number[]) => numbers.map((n) => `torn-${n}`).sort();

test('a torn journal tail (file cut mid-entry) is detected and skipped; the entries before it are replayed; the torn bytes are kept', async () => {
  const tornSchema = `${schema}_torn`;
  const entries = tenEntries();
  const whole = Buffer.concat(entries);
  const cut = whole.subarray(0, whole.length - Math.floor(entries[2].length / 2));
  const { log, errors, left, kept } = await replayLeft(tornSchema, cut, 20);
  expect(log.stats()).toMatchObject({ replayed: 20, written: 20 });
  expect((await storedRows(tornSchema)).map((r) => r.request_id).sort()).toEqual(tornIds([...Array(20).keys()]));
  expect(errors.some((e) => e.code === 'E_SPILL' && /not a whole entry/.test(e.message))).toBe(true);
  expect(left).toEqual([expect.stringMatching(/\.damaged$/)]);
  expect(kept).toEqual(cut.subarray(entries[0].length + entries[1].length));
  await log.close();
  await dropSchema(tornSchema);
});

test('a damaged entry in the middle of a journal is skipped and kept aside; the entries after it are still replayed', async () => {
  const damagedSchema = `${schema}_damaged`;
  const entries = tenEntries();
  const original = Buffer.from(entries[1]);
  entries[1][entries[1].length - 20] ^= 0xff; // one byte flipped inside the second entry's payload
  const { log, errors, left, kept } = await replayLeft(damagedSchema, Buffer.concat(entries), 20);
  expect(log.stats()).toMatchObject({ replayed: 20, written: 20 });
  expect((await storedRows(damagedSchema)).map((r) => r.request_id).sort()).toEqual(
    tornIds([...Array(10).keys(), ...Array.from({ length: 10 }, (_, i) => 20 + i)]),
  );
  const report = errors.find((e) => e.code === 'E_SPILL' && /fail their checksum/.test(e.message));
  expect(report?.message).toContain(`held ${original.length} bytes of entries that fail their checksum`);
  expect(left).toEqual([expect.stringMatching(/\.damaged$/)]);
  expect(kept).toEqual(entries[1]);
  expect(kept!.equals(original)).toBe(false);
  await log.close();
  await dropSchema(damagedSchema);
});

test('fail-closed answers 503 with a clear body when the log can take nothing, and serves again once it can', async () => {
  const proxy = await TcpProxy.create(DATABASE_URL);
  await proxy.accept();
  const drops: number[] = [];
  const log = inferenceLog(
    logOptions(schema, {
      table: 'failclosed',
      database: proxy.url(DATABASE_URL),
      spillDir: false,
      overflow: 'fail-closed',
      maxQueueBytes: 16 * 1024,
      maxBodyBytes: 1024,
      onDrop: (count) => drops.push(count),
    }),
  );
  await log.ready();
  const server = await listen(oipApp(log));
  await proxy.refuse();
  const down = await load(server.url, 30, 1);
  // Served while the queue had room for one more record at the body cap, refused from then on.
  const served = down.statuses.indexOf(503);
  console.log(`fail-closed: ${served} served, then ${JSON.stringify(down.statuses.slice(served))}`);
  expect(served).toBeGreaterThan(0);
  expect(down.statuses.slice(served).every((s) => s === 503)).toBe(true);
  const refused = await fetch(`${server.url}/v2/models/m/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toBe('1');
  expect(((await refused.json()) as { error: string }).error).toMatch(
    /^service unavailable: the inference log cannot take more records .*not served because it could not be logged/,
  );

  await proxy.accept();
  await drainFully(log);
  const up = await load(server.url, 10, 1, () => sleep(30));
  expect(up.statuses).toEqual(new Array(10).fill(200));
  await drainFully(log);
  server.close();
  // Every inference that was served is logged; none that was refused ran.
  expect(await storedRows(schema, 'failclosed')).toHaveLength(served + 10);
  expect(log.stats().dropped).toBe(0);
  expect(drops).toEqual([]);
  await log.close();
  await proxy.refuse();
});

test('a slow database (every packet delayed 500 ms) does not slow the API', async () => {
  const proxy = await TcpProxy.create(DATABASE_URL);
  await proxy.accept();
  const log = inferenceLog(logOptions(schema, { table: 'slowdb', database: proxy.url(DATABASE_URL) }));
  await log.ready();
  const server = await listen(oipApp(log));
  const fast = await load(server.url, 2_000, 20);
  proxy.delayMs = 500;
  const slow = await load(server.url, 2_000, 20);
  server.close();
  console.log(
    `API latency p50/p99: ${percentile(fast.latencies, 50)}/${percentile(fast.latencies, 99)} ms with a fast database, ` +
      `${percentile(slow.latencies, 50)}/${percentile(slow.latencies, 99)} ms with 500 ms added to every database packet`,
  );
  expect([...fast.statuses, ...slow.statuses].every((s) => s === 200)).toBe(true);
  await drainFully(log);
  expect(await storedRows(schema, 'slowdb')).toHaveLength(4_000);
  await log.close();
  await proxy.refuse();
}, 120_000);

test('a row PostgreSQL refuses is isolated: the rest of its batch lands, it is stored without its payload', async () => {
  const log = inferenceLog(logOptions(schema, { table: 'poison', batch: { flushIntervalMs: 1_000, maxRows: 100 } }));
  await log.ready();
  await db.none(`ALTER TABLE $1:name.poison ADD CONSTRAINT no_poison CHECK (inputs IS NULL OR NOT inputs @> '[{"name": "poison"}]')`, [
    schema,
  ]);
  const server = await listen(oipApp(log));
  for (let i = 0; i < 20; i++) {
    const input = i === 13 ? { inputs: [{ name: 'poison', shape: [1], datatype: 'FP32', data: [13] }] } : oipRequest([i, 0, 0, 0]);
    await fetch(`${server.url}/v2/models/m/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': `p-${i}` },
      body: JSON.stringify(input),
    });
  }
  server.close();
  await drainFully(log);
  const rows = await storedRows(schema, 'poison');
  expect(rows).toHaveLength(20);
  const poison = rows.find((r) => r.request_id === 'p-13')!;
  expect(poison.inputs).toBeNull();
  expect(poison.schema_errors[0].message).toMatch(/PostgreSQL refused this record; stored without its payload: .*no_poison/);
  expect(rows.filter((r) => r.inputs !== null)).toHaveLength(19);
  expect(log.stats()).toMatchObject({ written: 20, dropped: 0 });
  // The stripped row was sealed again, and the rows after it relinked: the chain verifies.
  expect(await verifyLog(db, schema, 'poison')).toMatchObject({ ok: true, rows: 20, problems: [] });
  await log.close();
});

test('a row PostgreSQL refuses even without its payload is left out, counted, and the chain closes up behind it', async () => {
  const log = inferenceLog(logOptions(schema, { table: 'lost', batch: { flushIntervalMs: 1_000, maxRows: 100 } }));
  await log.ready();
  await db.none(`ALTER TABLE $1:name.lost ADD CONSTRAINT no_lost CHECK (request_id <> 'l-7')`, [schema]);
  const server = await listen(oipApp(log));
  for (let i = 0; i < 12; i++) {
    await fetch(`${server.url}/v2/models/m/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': `l-${i}` },
      body: JSON.stringify(oipRequest([i, 0, 0, 0])),
    });
  }
  server.close();
  await drainFully(log);
  expect((await storedRows(schema, 'lost')).map((r) => r.request_id)).not.toContain('l-7');
  expect(log.stats()).toMatchObject({ written: 11, dropped: 1 });
  const chain = await verifyLog(db, schema, 'lost');
  expect(chain).toMatchObject({ ok: true, rows: 11, problems: [] });
  expect(chain.chains[0]).toMatchObject({ first_seq: 1, last_seq: 11, head: { seq: 11 } });
  await log.close();
});
