// Completeness under what an attacker or a bad host does (found by an attack session, kept as regressions):
// a writer's clock far ahead or behind the server's, the owner raising a dead writer's registered
// statement interval to hide its silence, and a journal entry torn by a kill. Real child processes
// SIGKILLed with answered records only in memory, a real journal cut short.
import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceLogger } from '@inferlog/core';
import { verifyLog } from '@inferlog/core/audit';
import { cli } from './cli-helpers';
import { asAttacker, DATABASE_URL, db, dropSchema, endPool, logOptions, oipRequest, tempDir, uniqueSchema, until } from './helpers';
import { forgeStatement, unsigned } from './statement-helpers';
import { TcpProxy } from './tcp-proxy';

const schemas: string[] = [];
const children = new Set<ChildProcess>();
const proxies: TcpProxy[] = [];
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const proxy of proxies) await proxy.refuse();
  for (const schema of schemas) await dropSchema(schema);
  await endPool();
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function newSchema(prefix: string): string {
  const schema = uniqueSchema(prefix);
  schemas.push(schema);
  return schema;
}

/** The kill tests' model API in a child, its wall clock `skewMs` off the host's (timers and the server's now() are not). */
async function startWriter(schema: string, skewMs: number, extra: Record<string, unknown> = {}) {
  const child = fork(
    join(__dirname, 'fixtures', 'kill-child.js'),
    [
      JSON.stringify({
        database: DATABASE_URL,
        schema,
        spillDir: false,
        statementIntervalMs: 200,
        batch: { flushIntervalMs: 30_000 },
        ...extra,
      }),
    ],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: ['--require', join(__dirname, 'fixtures', 'skewed-clock.js')],
      env: { ...process.env, INFERLOG_TEST_SKEW_MS: String(skewMs) },
    },
  );
  children.add(child);
  const ready = await new Promise<{ pid: number; port: number }>((resolve, reject) => {
    child.on('message', (m: any) => (m.ready ? resolve(m.ready) : m.failed && reject(new Error(m.failed))));
    child.once('exit', () => reject(new Error('the child exited before it was ready')));
  });
  return { child, url: `http://127.0.0.1:${ready.port}` };
}

const infer = (url: string, requestId: string) =>
  fetch(`${url}/v2/models/m/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify(oipRequest([1, 2, 3, 4])),
  }).then(async (res) => {
    await res.arrayBuffer();
    return res.status;
  });

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  children.delete(child);
}

/** A writer SIGKILLed with five answered records in memory only (a 30 s flush interval, no journal): they are lost. */
async function killAfterAnswering(schema: string, skewMs: number) {
  const { child, url } = await startWriter(schema, skewMs);
  await sleep(700); // a few statements stored
  for (let i = 0; i < 5; i++) expect(await infer(url, `answered-${i}`)).toBe(200);
  await kill(child);
  await sleep(2000); // two intervals and a second, and more: the next statement is long overdue
  expect((await db.one('SELECT count(*)::int AS n FROM $1:name.inference_log', [schema])).n).toBe(0);
}

for (const [clock, skewMs] of [
  ['right', 0],
  ['an hour ahead', 3_600_000],
  ['an hour behind', -3_600_000],
] as const)
  test(`a writer whose clock is ${clock} is named SILENT once killed: silence is judged on the server's clock`, async () => {
    const schema = newSchema('complete_clock');
    await killAfterAnswering(schema, skewMs);
    const report = await verifyLog(db, schema, 'inference_log');
    expect(report.completeness).toMatchObject({ complete: false, silent: 1 });
    expect((await cli(schema, ['verify', '--complete'])).code).toBe(1);
  }, 30_000);

for (const [clock, skewMs] of [
  ['ten minutes behind', -600_000],
  ['ten minutes ahead', 600_000],
] as const)
  test(`a healthy writer whose clock is ${clock} is not taken for silent while it states`, async () => {
    const schema = newSchema('complete_skew');
    const { child, url } = await startWriter(schema, skewMs, { batch: { flushIntervalMs: 20 } });
    for (let i = 0; i < 5; i++) expect(await infer(url, `ok-${i}`)).toBe(200);
    await sleep(1600);
    const report = await verifyLog(db, schema, 'inference_log');
    const writer = report.completeness!.writers[0]!;
    expect(Math.abs(Date.now() + skewMs - Date.parse(writer.to!))).toBeLessThan(60_000); // its statements carry its own clock
    expect(writer).toMatchObject({ state: 'stating', dropped: 0 });
    expect(report.completeness!.complete).toBe(true);
    await kill(child);
  }, 30_000);

test("the owner raising a dead writer's registered statement interval is named, and the silence stays; --against names the change", async () => {
  const schema = newSchema('complete_owner');
  // Its records stored (so the export records its chain's registration), then killed.
  const { child, url } = await startWriter(schema, 0, { batch: { flushIntervalMs: 20 } });
  for (let i = 0; i < 3; i++) expect(await infer(url, `stored-${i}`)).toBe(200);
  await until(async () => (await db.one('SELECT count(*)::int AS n FROM $1:name.inference_log', [schema])).n === 3, 'the records stored');
  await sleep(700); // and statements signed with its interval
  await kill(child);
  await sleep(2000);
  const out = join(tempDir(), 'log.jsonl');
  expect((await cli(schema, ['export', '--since', '2000-01-01', '--until', 'now', '--format', 'jsonl', '--out', out])).code).toBe(0);
  await asAttacker("UPDATE $1:name.inference_log_chain SET statement_interval_ms = 86400000 WHERE kind = 'record'", [schema]);

  const report = await verifyLog(db, schema, 'inference_log');
  expect(report.ok).toBe(false);
  expect(report.problems).toEqual([
    expect.objectContaining({
      kind: 'forged',
      message: expect.stringContaining("the chain's registration says 86400000: the registration was changed"),
    }),
  ]);
  // The interval its signed statements give decides: it is still silent.
  expect(report.completeness).toMatchObject({ complete: false, silent: 1 });
  const against = await cli(schema, ['verify', '--against', `${out}.manifest.json`]);
  expect(against.code).toBe(1);
  expect(against.stdout).toContain('statement_interval_ms');
}, 30_000);

test('a journal entry torn by a kill is stated as unreadable bytes, and the log is incomplete', async () => {
  const schema = newSchema('complete_torn');
  const spillDir = tempDir();
  const proxy = await TcpProxy.create(DATABASE_URL); // refusing: the database is down for the first process
  proxies.push(proxy);
  const child = fork(
    join(__dirname, 'fixtures', 'unready-child.js'),
    [
      JSON.stringify({
        database: proxy.url(DATABASE_URL),
        schema,
        spillDir,
        spillStaleMs: 200,
        spillAfterMs: 0,
        batch: { flushIntervalMs: 20 },
      }),
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  children.add(child);
  const ready = await new Promise<{ port: number }>((resolve) => child.on('message', (m: any) => m.ready && resolve(m.ready)));
  const spilled = () =>
    new Promise<number>((resolve) => {
      const take = (m: any) => {
        if (!m.stats) return;
        child.off('message', take);
        resolve(m.stats.spilled);
      };
      child.on('message', take);
      child.send({ cmd: 'stats' });
    });
  // Two rounds, each spilled before the next: the journal holds more than one entry, and only the last is torn.
  for (const round of [1, 2]) {
    for (let i = 0; i < 10; i++) expect(await infer(`http://127.0.0.1:${ready.port}`, `down-${round}-${i}`)).toBe(200);
    await until(async () => (await spilled()) >= 10 * round, `round ${round} spilled`);
  }
  const journals = () => readdirSync(spillDir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
  await sleep(300);
  await kill(child);
  const biggest = journals()
    .map((f) => join(f.parentPath, f.name))
    .filter((f) => statSync(f).size > 0)
    .sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
  truncateSync(biggest, statSync(biggest).size - 7); // the last entry torn, as a kill in the middle of the write leaves it

  const next = new InferenceLogger(logOptions(schema, { spillDir, spillStaleMs: 200, statementIntervalMs: 60_000 }));
  await next.ready();
  await until(() => next.stats().replayed > 0 && !next.hasWork, 'the journal replayed', 20_000);
  await sleep(500);
  await next.close();
  expect((await db.one('SELECT count(*)::int AS n FROM $1:name.inference_log', [schema])).n).toBeLessThan(20);

  const report = await verifyLog(db, schema, 'inference_log');
  expect(report.ok).toBe(true);
  expect(report.completeness!.writers[0]!.unreadable_journal_bytes).toBeGreaterThan(0);
  expect(report.completeness).toMatchObject({ complete: false });
  const run = await cli(schema, ['verify', '--complete']);
  expect(run.code).toBe(1);
  expect(run.stdout).toContain('could not read back');
  expect(run.stdout).toContain('journal bytes unreadable');
}, 60_000);

test('a period check finds the losses of a writer whose clock runs two hours behind: statements are placed on the server clock', async () => {
  const schema = newSchema('complete_since_skew');
  const { child, url } = await startWriter(schema, -2 * 3_600_000, { overflow: 'drop-newest', maxQueueBytes: 4096 });
  for (let i = 0; i < 30; i++) expect(await infer(url, `answered-${i}`)).toBe(200);
  const closed = await new Promise<any>((resolve) => {
    child.on('message', (m: any) => m.closed && resolve(m.closed));
    child.send({ cmd: 'close' });
  });
  await kill(child); // its IPC channel would keep it running
  expect(closed.stats.dropped).toBeGreaterThan(0);
  const stored = (await db.one('SELECT count(*)::int AS n FROM $1:name.inference_log', [schema])).n;
  expect(stored + closed.stats.dropped).toBe(30);
  const period = await cli(schema, ['verify', '--complete', '--since', '1h', '--json']);
  expect(period.code).toBe(1);
  expect(JSON.parse(period.stdout).completeness).toMatchObject({ complete: false, dropped: closed.stats.dropped });
  // And a period that ended before the writer started has none of it.
  const before = await cli(schema, ['verify', '--complete', '--since', '3h', '--until', '2h', '--json']);
  expect(JSON.parse(before.stdout).completeness).toMatchObject({ dropped: 0, writers: [] });
}, 60_000);

test('a final statement forged for a silent writer (chained, signed with another key) ends nothing: the writer stays silent and the statement is named, in any period', async () => {
  const schema = newSchema('complete_forged_final');
  await killAfterAnswering(schema, 0);
  const victim = (await db.one("SELECT chain_id FROM $1:name.inference_log_chain WHERE kind = 'record'", [schema])).chain_id as string;
  const last = await db.one(
    "SELECT data FROM $1:name.inference_log_event WHERE type = 'inferlog.completeness' ORDER BY created_at DESC LIMIT 1",
    [schema],
  );
  await forgeStatement(schema, victim, { ...unsigned(last.data), n: last.data.n + 1, from: last.data.to, final: 'close' });
  for (const period of [{}, { completeness: { since: new Date(Date.now() + 1000) } }]) {
    const report = await verifyLog(db, schema, 'inference_log', period);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'forged', chain_id: victim })]);
    expect(report.completeness!.writers.find((w) => w.chain_id === victim)?.state ?? 'silent').toBe('silent');
  }
}, 30_000);

test('close() called twice returns the same promise', async () => {
  const schema = newSchema('complete_close_twice');
  const log = new InferenceLogger(logOptions(schema));
  await log.ready();
  const first = log.close();
  expect(log.close()).toBe(first);
  await first;
});
