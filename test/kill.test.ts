// What a killed process loses, and what several processes sharing one database and one spill directory
// lose. The promise: every batch is appended to a write-ahead journal in `spillDir` before it is sent to
// PostgreSQL, so a SIGKILL loses at most the records whose responses finished within the last
// `batch.flushIntervalMs` (plus one journal append); the next process on the same `spillDir` takes over
// the journals nobody touches for `spillStaleMs` and replays them, skipping rows already stored, so nothing
// is stored twice. Real PostgreSQL, real child processes, real SIGKILL.
//
// `pnpm test:scale` runs this with KILL_SECONDS=60 (a minute of load before each kill).
import { type ChildProcess, fork } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { inferenceLog, type InferenceLogMiddleware } from '@inferlog/express';
import { verifyLog } from '@inferlog/core/audit';
import { DATABASE_URL, db, dropSchema, endPool, logOptions, oipRequest, serverOnly, tempDir, uniqueSchema, until } from './helpers';
import { TcpProxy } from './tcp-proxy';

const SECONDS = Number(process.env.KILL_SECONDS ?? 3);
const CLIENTS = Number(process.env.KILL_CLIENTS ?? 40);
const FLUSH_INTERVAL_MS = 50; // the default
/** Scheduling slack on top of the flush interval (the journal append, timers firing late on a busy machine). */
const SLACK_MS = 150;
const WINDOW_MS = FLUSH_INTERVAL_MS + SLACK_MS;
const STALE_MS = 1000;
const TABLE = 'inference_log';
/** Journal files (this branch's `.journal`/`.replay`, the write-ahead journal's `.wal`) and what replay keeps aside. */
const JOURNAL_FILE = /\.(wal|journal|replay)$/;
const DAMAGED_FILE = /\.damaged$/;
const TIMEOUT_MS = (SECONDS * 4 + 120) * 1000;

const killTest = serverOnly(
  'child processes share the database; the embedded PGlite serves one connection at a time poorly across processes',
);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const schemas: string[] = [];
const children = new Set<ChildProcess>();
/** Cluster workers: grandchildren, killed by pid. */
const workerPids = new Set<number>();
const proxies: TcpProxy[] = [];

afterAll(async () => {
  for (const pid of workerPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (workerPids.size > 0) await sleep(200); // their primary reaps them
  await Promise.all([...children].map((child) => stop(child)));
  for (const proxy of proxies) await proxy.refuse();
  for (const schema of schemas) await dropSchema(schema);
  await endPool();
});

/** SIGKILLs a child (if it still runs) and waits until it is reaped. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  children.delete(child);
}

function newSchema(prefix: string): string {
  const schema = uniqueSchema(prefix);
  schemas.push(schema);
  return schema;
}

async function newProxy(): Promise<TcpProxy> {
  const proxy = await TcpProxy.create(DATABASE_URL);
  proxies.push(proxy);
  await proxy.accept();
  return proxy;
}

/** A forked fixture whose IPC messages can be awaited one kind at a time. */
function start(fixture: string, args: string[]) {
  const child = fork(join(__dirname, 'fixtures', fixture), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  const messages: Record<string, any>[] = [];
  child.on('message', (m) => messages.push(m as Record<string, any>));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  /** The next message carrying `key` (earlier ones of other kinds stay queued). */
  const next = async (key: string, timeoutMs = 60_000): Promise<any> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = messages.findIndex((m) => key in m);
      if (i >= 0) return messages.splice(i, 1)[0]![key];
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`${fixture} exited (${child.exitCode ?? child.signalCode}) before sending ${key}`);
      if (Date.now() > deadline) throw new Error(`${fixture} sent no ${key} within ${timeoutMs} ms`);
      await sleep(10);
    }
  };
  return { child, next, exited, messages };
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

interface Answer {
  id: string;
  /** When the response had been read whole (Date.now()). */
  at: number;
  /** The process that answered (`x-worker-pid`). */
  pid: number;
}

/**
 * `CLIENTS` keep-alive clients sending OIP requests, each with a unique `x-request-id`, until stopped.
 * Every 200 is recorded with the time its response arrived and the pid that answered; failures (a killed
 * server's connections) are counted and the client goes on.
 */
function startLoad(url: string, prefix: string) {
  const answers: Answer[] = [];
  const counts = { sent: 0, failed: 0, otherStatus: 0 };
  let stopped = false;
  const client = async () => {
    while (!stopped) {
      const id = `${prefix}-${counts.sent++}`;
      try {
        const res = await fetch(`${url}/v2/models/m/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': id },
          body: JSON.stringify(oipRequest([counts.sent, 0, 0, 0])),
          signal: AbortSignal.timeout(30_000),
        });
        await res.arrayBuffer();
        const at = Date.now();
        if (res.status === 200) answers.push({ id, at, pid: Number(res.headers.get('x-worker-pid')) });
        else counts.otherStatus++;
      } catch {
        counts.failed++;
        if (!stopped) await sleep(10);
      }
    }
  };
  const running = Promise.all(Array.from({ length: CLIENTS }, client));
  return {
    answers,
    counts,
    async stop() {
      stopped = true;
      await running;
    },
  };
}

async function journalFiles(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((f) => JOURNAL_FILE.test(f) || DAMAGED_FILE.test(f)).sort();
}

/** Flushes until everything queued and journaled is written. */
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

/**
 * A fresh logger on the spill directory of processes that are gone: waits until it has taken over and
 * replayed every journal they left (none is left but its own), drains, closes, and checks the directory
 * is clean. Returns its stats.
 */
async function replayLeftovers(schema: string, spillDir: string) {
  const log = inferenceLog(logOptions(schema, { spillDir, spillStaleMs: STALE_MS, batch: { flushIntervalMs: FLUSH_INTERVAL_MS } }));
  let stats: ReturnType<InferenceLogMiddleware['stats']>;
  try {
    await log.ready();
    // Its own journal (if the write-ahead journal keeps one open) may stay until it closes.
    const own = new RegExp(`-${process.pid}-[0-9a-f]+\\.(wal|journal)$`);
    await until(
      async () => (await journalFiles(spillDir)).every((f) => own.test(f)),
      `the journals in ${spillDir} to be taken over and replayed`,
      60_000 + SECONDS * 1000,
    );
    await drainFully(log);
    stats = log.stats();
  } finally {
    await log.close();
  }
  expect(stats).toMatchObject({ queueRows: 0, journalBytes: 0, dropped: 0 });
  expect(await journalFiles(spillDir)).toEqual([]);
  return stats;
}

/** Stored request ids of the schema's log, and the ids stored more than once. */
async function stored(schema: string) {
  const rows: { request_id: string; n: number }[] = await db.any(
    'SELECT request_id, count(*)::int AS n FROM $1:name.$2:name GROUP BY request_id',
    [schema, TABLE],
  );
  const { rows: total, ids } = await db.one('SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids FROM $1:name.$2:name', [
    schema,
    TABLE,
  ]);
  return { ids: new Set(rows.map((r) => r.request_id)), twice: rows.filter((r) => r.n > 1), total, distinctIds: ids };
}

/** What was lost of `answers` (the 200s) given the stored ids and the kill time. */
function losses(answers: Answer[], storedIds: Set<string>, killedAt: number, windowMs = WINDOW_MS) {
  const lost = answers.filter((a) => !storedIds.has(a.id));
  const inWindow = (a: Answer) => a.at > killedAt - windowMs;
  return {
    lost,
    bound: answers.filter(inWindow).length,
    /** Lost though answered more than the window before the kill: what the write-ahead journal must keep. */
    lostEarly: lost.filter((a) => !inWindow(a)).map((a) => ({ id: a.id, msBeforeKill: killedAt - a.at })),
  };
}

function summary(lostEarly: { id: string; msBeforeKill: number }[]) {
  return { count: lostEarly.length, oldest: lostEarly.sort((a, b) => b.msBeforeKill - a.msBeforeKill).slice(0, 3) };
}

function childConfig(schema: string, spillDir: string, database: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    database,
    schema,
    spillDir,
    spillStaleMs: STALE_MS,
    batch: { flushIntervalMs: FLUSH_INTERVAL_MS },
    ...extra,
  });
}

// The database answers, at full speed or slowly: the journal is written before the database is, so how long
// a write takes must not widen the window.
for (const { name, delayMs } of [
  { name: 'database up', delayMs: 0 },
  { name: 'database up but slow (100 ms per packet)', delayMs: 100 },
]) {
  killTest(
    `SIGKILL under load, ${name}: every response answered before the last flush interval (plus ${SLACK_MS} ms and the event loop's longest stall) is stored once, after a restart on the same spillDir`,
    async () => {
      const schema = newSchema('kill_up');
      const spillDir = tempDir('inferlog-kill-');
      const proxy = await newProxy();
      proxy.delayMs = delayMs;
      const app = start('kill-child.js', [childConfig(schema, spillDir, proxy.url(DATABASE_URL))]);
      const { port, pid } = await app.next('ready');
      const load = startLoad(`http://127.0.0.1:${port}`, 'up');
      await sleep(SECONDS * 1000);
      app.child.send({ cmd: 'stats' });
      const before = await app.next('stats');
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      await app.exited;
      await load.stop();
      console.log(
        `journal files the killed process left: ${JSON.stringify(await journalFiles(spillDir))}; its stats just before: ${JSON.stringify(before)}`,
      );

      const replay = await replayLeftovers(schema, spillDir);
      const { ids, twice, total, distinctIds } = await stored(schema);
      // Staging runs on a timer: on a loaded machine it fires as late as the event loop's longest stall.
      const windowMs = WINDOW_MS + before.eventLoopDelayMaxMs;
      const { lost, bound, lostEarly } = losses(load.answers, ids, killedAt, windowMs);
      console.log(
        `SIGKILL, ${name}: answered ${load.answers.length}, stored ${total}, lost ${lost.length} (bound: answered in the last ${windowMs} ms: ${bound}); ` +
          `lost earlier than that: ${lostEarly.length}; replayed by the next process ${replay.replayed}; load ${JSON.stringify(load.counts)}`,
      );
      expect(load.answers.length).toBeGreaterThan(0);
      expect(twice).toEqual([]);
      expect(distinctIds).toBe(total);
      expect((await verifyLog(db, schema, TABLE)).problems).toEqual([]);
      expect(summary(lostEarly)).toEqual({ count: 0, oldest: [] });
      expect(lost.length).toBeLessThanOrEqual(bound);
    },
    TIMEOUT_MS,
  );
}

killTest(
  'a silent network, then SIGKILL, then a restart on the same spillDir: what was answered before the last flush interval is stored once',
  async () => {
    const schema = newSchema('kill_silent');
    const spillDir = tempDir('inferlog-kill-');
    const proxy = await newProxy();
    const app = start('kill-child.js', [
      childConfig(schema, spillDir, proxy.url(DATABASE_URL), { spillAfterMs: 500, databaseTimeoutMs: 1500 }),
    ]);
    const { port, pid } = await app.next('ready');
    const load = startLoad(`http://127.0.0.1:${port}`, 'silent');
    await sleep((SECONDS / 2) * 1000);
    proxy.silence();
    const silentAt = Date.now();
    await sleep(3500);
    app.child.send({ cmd: 'stats' });
    const before = await app.next('stats');
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await app.exited;
    await load.stop();
    proxy.heal();
    console.log(
      `silent for ${killedAt - silentAt} ms before the kill; journal files left: ${JSON.stringify(await journalFiles(spillDir))}; ` +
        `the killed process's stats just before: ${JSON.stringify(before)}`,
    );

    const replay = await replayLeftovers(schema, spillDir);
    const { ids, twice, total, distinctIds } = await stored(schema);
    const windowMs = WINDOW_MS + before.eventLoopDelayMaxMs;
    const { lost, bound, lostEarly } = losses(load.answers, ids, killedAt, windowMs);
    const answeredInSilence = load.answers.filter((a) => a.at >= silentAt).length;
    console.log(
      `SIGKILL, network silent: answered ${load.answers.length} (${answeredInSilence} in the silence), stored ${total}, lost ${lost.length} ` +
        `(bound: answered in the last ${windowMs} ms: ${bound}); lost earlier than that: ${lostEarly.length}; ` +
        `replayed by the next process ${replay.replayed}; load ${JSON.stringify(load.counts)}`,
    );
    expect(load.answers.length).toBeGreaterThan(0);
    expect(answeredInSilence).toBeGreaterThan(0);
    expect(twice).toEqual([]);
    expect(distinctIds).toBe(total);
    expect((await verifyLog(db, schema, TABLE)).problems).toEqual([]);
    expect(summary(lostEarly)).toEqual({ count: 0, oldest: [] });
    expect(lost.length).toBeLessThanOrEqual(bound);
  },
  TIMEOUT_MS,
);

killTest(
  'four cluster workers sharing one database and one spillDir, the database cut and one worker SIGKILLed: only the killed worker’s last flush interval may be lost, nothing is stored twice, every chain verifies',
  async () => {
    const schema = newSchema('kill_cluster');
    const spillDir = tempDir('inferlog-kill-');
    const proxy = await newProxy();
    const WORKERS = 4;
    const port = await freePort();
    const cluster = start('kill-cluster.js', [
      String(WORKERS),
      JSON.stringify({ port, ...JSON.parse(childConfig(schema, spillDir, proxy.url(DATABASE_URL), { spillAfterMs: 500 })) }),
    ]);
    const ready = await cluster.next('ready');
    const workers: number[] = ready.workers;
    for (const pid of workers) workerPids.add(pid);
    expect(workers).toHaveLength(WORKERS);

    const load = startLoad(`http://127.0.0.1:${port}`, 'cluster');
    await sleep(SECONDS * 1000);
    await proxy.refuse();
    const cutAt = Date.now();
    await sleep(1500);
    // The worker that answered most recently: it certainly has connections and records in flight.
    const victim = load.answers[load.answers.length - 1]!.pid;
    expect(workers).toContain(victim);
    const killedAt = Date.now();
    process.kill(victim, 'SIGKILL');
    expect(await cluster.next('exited')).toMatchObject({ pid: victim, signal: 'SIGKILL' });
    await sleep(Math.max(0, cutAt + 2500 - Date.now()));
    await proxy.accept();
    const healedAt = Date.now();
    await sleep(1000);
    await load.stop();

    // Let the survivors take over the killed worker's journal (stale after spillStaleMs), then close them.
    await sleep(2 * STALE_MS);
    cluster.child.send({ cmd: 'close' });
    const closed: { pid: number; stats: Record<string, number>; error: string | null }[] = await cluster.next('closed');
    console.log(
      `database cut ${healedAt - cutAt} ms, worker ${victim} killed ${killedAt - cutAt} ms into it; survivors closed: ${JSON.stringify(closed)}; ` +
        `journal files left: ${JSON.stringify(await journalFiles(spillDir))}`,
    );
    expect(closed.map((c) => c.pid).sort()).toEqual(workers.filter((p) => p !== victim).sort());
    expect(closed.map((c) => c.error)).toEqual(new Array(WORKERS - 1).fill(null));
    const replay = await replayLeftovers(schema, spillDir);
    cluster.child.send({ cmd: 'exit' });
    await cluster.exited;
    children.delete(cluster.child);
    for (const pid of workers) {
      expect(() => process.kill(pid, 0)).toThrow(); // every worker is gone and reaped
      workerPids.delete(pid);
    }

    const { ids, twice, total, distinctIds } = await stored(schema);
    const byVictim = load.answers.filter((a) => a.pid === victim);
    const others = load.answers.filter((a) => a.pid !== victim);
    const victimLoss = losses(byVictim, ids, killedAt);
    const othersLost = others.filter((a) => !ids.has(a.id));
    const perWorker = Object.fromEntries(workers.map((pid) => [pid, load.answers.filter((a) => a.pid === pid).length]));
    console.log(
      `SIGKILL of 1 of ${WORKERS} workers, database cut: answered ${load.answers.length} (by the killed worker ${byVictim.length}), stored ${total}, ` +
        `lost ${victimLoss.lost.length + othersLost.length} (killed worker: lost ${victimLoss.lost.length}, bound: answered by it in the last ${WINDOW_MS} ms: ${victimLoss.bound}; ` +
        `lost earlier than that: ${victimLoss.lostEarly.length}; other workers lost ${othersLost.length}); replayed by the next process ${replay.replayed}; ` +
        `answers per worker ${JSON.stringify(perWorker)}; load ${JSON.stringify(load.counts)}`,
    );
    expect(byVictim.length).toBeGreaterThan(0);
    expect(twice).toEqual([]);
    expect(distinctIds).toBe(total);
    const chain = await verifyLog(db, schema, TABLE);
    expect(chain.problems).toEqual([]);
    expect(chain.ok).toBe(true);
    expect(othersLost.map((a) => a.id)).toEqual([]);
    expect(summary(victimLoss.lostEarly)).toEqual({ count: 0, oldest: [] });
    expect(victimLoss.lost.length).toBeLessThanOrEqual(victimLoss.bound);
  },
  TIMEOUT_MS,
);
