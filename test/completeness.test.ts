// The log states its own completeness: each writer stores signed completeness statements (every
// statementIntervalMs and at close or exit), so records it dropped are evidence in the log, and a writer
// killed without a final statement shows as silent with the window in which its records may be lost.
// Real Express apps, records dropped on purpose behind a refused database, a child process SIGKILLed.
import { type ChildProcess, fork } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express from 'express';
import { inferenceLog } from '@inferlog/express';
import { InferenceLogger } from '@inferlog/core';
import { STATEMENT_TYPE, statementMessage, verifyLog, type VerifyReport, type WriterCompleteness } from '@inferlog/core/audit';
import { cli } from './cli-helpers';
import { asAttacker, DATABASE_URL, db, dropSchema, endPool, logOptions, oipRequest, tempDir, uniqueSchema, until } from './helpers';
import { drained, droppingLogger, forgeStatement, statements, unsigned } from './statement-helpers';
import type { TcpProxy } from './tcp-proxy';

const schemas: string[] = [];
const children = new Set<ChildProcess>();
const proxies: TcpProxy[] = [];

function newSchema(prefix: string): string {
  const schema = uniqueSchema(prefix);
  schemas.push(schema);
  return schema;
}

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const proxy of proxies) await proxy.refuse();
  for (const schema of schemas) await dropSchema(schema);
  await endPool();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function serve(log: ReturnType<typeof inferenceLog>): Promise<{ url: string; close: () => void }> {
  const app = express();
  app.use(log);
  app.use(express.json());
  app.post('/v2/models/:model/infer', (req, res) =>
    res.json({ model_name: req.params.model, outputs: [{ name: 'y', shape: [1], datatype: 'FP32', data: [0.5] }] }),
  );
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

const infer = (url: string, requestId: string, floats = 4) =>
  fetch(`${url}/v2/models/m/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify(oipRequest(Array.from({ length: floats }, (_, k) => k))),
  }).then(async (res) => {
    await res.arrayBuffer();
    return res.status;
  });

const storedRequestIds = async (schema: string) =>
  new Set((await db.any('SELECT request_id FROM $1:name.inference_log', [schema])).map((r) => r.request_id as string));

const writerOf = (report: VerifyReport, chainId: string): WriterCompleteness => {
  const writer = report.completeness?.writers.find((w) => w.chain_id === chainId);
  if (!writer) throw new Error(`no completeness for chain ${chainId}: ${JSON.stringify(report.completeness)}`);
  return writer;
};

describe('records dropped on purpose are stated in the log, signed, and named by verify and show', () => {
  const schema = newSchema('complete_drops');
  let chainId: string;
  const answered: string[] = [];
  let dropped: string[] = [];

  beforeAll(async () => {
    const { log, proxy } = await droppingLogger(schema, proxies, {
      maxQueueBytes: 40_000,
      databaseTimeoutMs: 1000,
      statementIntervalMs: 200,
    });
    chainId = log.logger.chain.id;
    const api = await serve(log);
    for (let i = 0; i < 5; i++) {
      expect(await infer(api.url, `before-${i}`)).toBe(200);
      answered.push(`before-${i}`);
    }
    await log.flush();
    await sleep(450); // at least one periodic statement with nothing lost
    await proxy.refuse();
    // The database refuses: the queue (40 kB) fills with 4 kB records and drop-newest drops the rest, each served.
    for (let i = 0; i < 40; i++) {
      expect(await infer(api.url, `cut-${i}`, 400)).toBe(200);
      answered.push(`cut-${i}`);
    }
    expect(log.stats().dropped).toBeGreaterThan(0);
    await proxy.accept();
    await drained(log);
    api.close();
    await log.close();
    const stored = await storedRequestIds(schema);
    dropped = answered.filter((id) => !stored.has(id));
    expect(dropped.length).toBe(log.stats().dropped);
  }, 60_000);

  test('the statements say what was stored and what was dropped, why and which requests; they are signed by the chain key', async () => {
    const list = await statements(schema);
    expect(list.length).toBeGreaterThanOrEqual(3);
    expect(list.map((s) => s.data.n)).toEqual(list.map((_, i) => i + 1));
    for (let i = 1; i < list.length; i++) expect(list[i]!.data.from).toBe(list[i - 1]!.data.to);
    expect(list.at(-1)!.data.final).toBe('close');
    const sum = (k: 'written' | 'dropped' | 'captured') => list.reduce((n, s) => n + s.data[k], 0);
    expect(sum('dropped')).toBe(dropped.length);
    expect(sum('written')).toBe(answered.length - dropped.length);
    const named = list.flatMap((s) => s.data.lost);
    expect(named.map((l) => l.request_id).sort()).toEqual([...dropped].sort());
    expect(new Set(named.map((l) => l.reason))).toEqual(new Set(['overflow']));
    // The final statement says where the record chain stood: its last stored row.
    const head = await db.one('SELECT last_seq::int AS seq, last_hash FROM $1:name.inference_log_chain WHERE chain_id = $2', [
      schema,
      chainId,
    ]);
    expect({ seq: list.at(-1)!.data.through_seq, hash: list.at(-1)!.data.through_hash }).toEqual({ seq: head.seq, hash: head.last_hash });
    // Signed with the record chain's registered key, over the documented message.
    const { public_key } = await db.one('SELECT public_key FROM $1:name.inference_log_chain WHERE chain_id = $2', [schema, chainId]);
    const { createPublicKey, verify } = await import('node:crypto');
    const key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(public_key, 'hex').toString('base64url') },
      format: 'jwk',
    });
    for (const s of list) expect(verify(null, statementMessage(s.data), key, Buffer.from(s.data.signature, 'hex'))).toBe(true);
  });

  test('verify: the log is intact, and incomplete: the writer closed, dropped N records for overflow, and they are named', async () => {
    const report = await verifyLog(db, schema, 'inference_log');
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    const writer = writerOf(report, chainId);
    expect(writer).toMatchObject({ state: 'closed', dropped: dropped.length, dropped_by_reason: { overflow: dropped.length } });
    expect(writer.written).toBe(answered.length - dropped.length);
    expect(writer.lost.map((l) => l.request_id).sort()).toEqual([...dropped].sort());
    expect(report.completeness).toMatchObject({ complete: false, dropped: dropped.length, silent: 0 });

    const text = await cli(schema, ['verify']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`LOST: writer ${chainId}`);
    expect(text.stdout).toContain(`dropped ${dropped.length} record`);
    expect(text.stdout).toContain(`request ${dropped[0]}`);
    expect(text.stdout).toContain(`INCOMPLETE: ${dropped.length} record`);
    expect((await cli(schema, ['verify', '--complete'])).code).toBe(1);
  });

  test('stats reports the completeness of the range per writer; a range before the writer started has none', async () => {
    const run = await cli(schema, ['stats', '--since', '1h']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`LOST: writer ${chainId}`);
    const json = JSON.parse((await cli(schema, ['stats', '--since', '1h', '--json'])).stdout);
    expect(json.completeness.writers).toEqual([
      expect.objectContaining({ chain_id: chainId, state: 'closed', dropped: dropped.length, written: answered.length - dropped.length }),
    ]);
    const before = JSON.parse((await cli(schema, ['stats', '--since', '3d', '--until', '2d', '--json'])).stdout);
    expect(before.completeness.writers).toEqual([]);
  });

  test('the evidence report of the period names the writer, its losses and the dropped requests', async () => {
    const out = join(tempDir(), 'report.html');
    const run = await cli(schema, ['report', '--since', '1h', '--until', new Date(Date.now() + 1000).toISOString(), '--out', out]);
    expect(run.code).toBe(0);
    const page = readFileSync(out, 'utf8');
    expect(page).toContain(`<strong>Lost:</strong> writer ${chainId}`);
    expect(page).toContain(`dropped ${dropped.length} records (overflow: ${dropped.length})`);
    for (const id of dropped.slice(0, 5)) expect(page).toContain(`<td class="wrap">${id}</td>`);
    expect(page).toContain('INCOMPLETE');
  });

  test("show of a stored inference gives its writer's first statement that covers it", async () => {
    const list = await statements(schema);
    const row = await db.one("SELECT chain_seq::int AS seq FROM $1:name.inference_log WHERE request_id = 'cut-0'", [schema]);
    const covering = list.find((s) => s.data.through_seq >= row.seq)!;
    const json = JSON.parse((await cli(schema, ['show', 'cut-0', '--json'])).stdout);
    expect(json.inferences[0].stated).toMatchObject({
      n: covering.data.n,
      from: covering.data.from,
      to: covering.data.to,
      dropped: covering.data.dropped,
    });
    const text = (await cli(schema, ['show', 'cut-0'])).stdout;
    expect(text).toContain(`its writer's statement ${covering.data.n}`);
  });

  test('show names a dropped request: answered, not stored, when and why', async () => {
    const run = await cli(schema, ['show', dropped[0]!]);
    expect(run.stdout).toContain(`no inference with id or request id "${dropped[0]}"`);
    expect(run.stdout).toContain('DROPPED');
    expect(run.stdout).toContain('dropped by the overflow policy');
    expect(run.stdout).toContain(`writer chain ${chainId}`);
    const json = JSON.parse((await cli(schema, ['show', dropped[0]!, '--json'])).stdout);
    expect(json.dropped).toEqual([expect.objectContaining({ request_id: dropped[0], reason: 'overflow', chain_id: chainId })]);
  });
});

test('a request the middleware failed to capture is served, and stated lost (counted, not named: nothing was captured)', async () => {
  const schema = newSchema('complete_capture');
  const log = inferenceLog(
    logOptions(schema, {
      routes: [
        {
          path: () => {
            throw new Error('the route predicate broke');
          },
        },
      ],
    }),
  );
  await log.ready();
  const api = await serve(log);
  expect(await infer(api.url, 'c-1')).toBe(200);
  expect(await infer(api.url, 'c-2')).toBe(200);
  api.close();
  await log.close();
  const report = await verifyLog(db, schema, 'inference_log');
  expect(writerOf(report, log.logger.chain.id)).toMatchObject({
    state: 'closed',
    written: 0,
    dropped: 2,
    dropped_by_reason: { capture_failed: 2 },
    lost: [],
  });
  expect((await cli(schema, ['verify'])).stdout).toContain('dropped 2 records (capture_failed 2)');
});

describe('requests in flight when close() is called', () => {
  const slowApp = (log: ReturnType<typeof inferenceLog>, ms: number) => {
    const app = express();
    app.use(log);
    app.use(express.json());
    app.post('/v2/models/:model/infer', (req, res) => {
      setTimeout(() => res.json({ model_name: req.params.model, outputs: [] }), ms);
    });
    const server = app.listen(0, '127.0.0.1');
    return new Promise<{ url: string; close: () => void }>((resolve) =>
      server.once('listening', () =>
        resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() }),
      ),
    );
  };

  for (const overflow of ['wait', 'drop-newest'] as const)
    test(`${overflow}: close() waits for them; their records are stored before the final statement, the log is complete`, async () => {
      const schema = newSchema(`complete_inflight_${overflow.replace('-', '_')}`);
      const log = inferenceLog(logOptions(schema, { overflow }));
      await log.ready();
      const api = await slowApp(log, 400);
      const answered = infer(api.url, 'slow-1');
      await sleep(100);
      await log.close();
      expect(await answered).toBe(200);
      api.close();
      expect(await storedRequestIds(schema)).toEqual(new Set(['slow-1']));
      const report = await verifyLog(db, schema, 'inference_log');
      expect(writerOf(report, log.logger.chain.id)).toMatchObject({ state: 'closed', written: 1, dropped: 0 });
      expect(report.completeness!.complete).toBe(true);
    });

  test('one still running at the close() deadline is stated lost (close_deadline), counted: the logger holds no request to name it by', async () => {
    const schema = newSchema('complete_inflight_deadline');
    const log = inferenceLog(logOptions(schema));
    await log.ready();
    const api = await slowApp(log, 1500);
    const answered = infer(api.url, 'too-slow');
    await sleep(100);
    await expect(log.close({ timeoutMs: 300 })).rejects.toMatchObject({ code: 'E_CLOSED' });
    expect(await answered).toBe(200);
    api.close();
    const report = await verifyLog(db, schema, 'inference_log');
    expect(writerOf(report, log.logger.chain.id)).toMatchObject({
      state: 'closed',
      dropped: 1,
      dropped_by_reason: { close_deadline: 1 },
      lost: [],
    });
    expect(log.stats().dropped).toBe(1);
  });
});

describe('a writer killed without a final statement is named silent, with the window its records may be lost in', () => {
  const schema = newSchema('complete_kill');

  test('SIGKILL: verify names the writer silent from its last statement, which is within one interval of the kill', async () => {
    const child = fork(
      join(__dirname, 'fixtures', 'kill-child.js'),
      [JSON.stringify({ database: DATABASE_URL, schema, spillDir: tempDir(), statementIntervalMs: 200, batch: { flushIntervalMs: 20 } })],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    children.add(child);
    const ready = await new Promise<{ pid: number; port: number }>((resolve, reject) => {
      child.on('message', (m: any) => (m.ready ? resolve(m.ready) : m.failed && reject(new Error(m.failed))));
      child.once('exit', () => reject(new Error('the child exited before it was ready')));
    });
    const url = `http://127.0.0.1:${ready.port}`;
    const until = Date.now() + 1200;
    for (let i = 0; Date.now() < until; i++) expect(await infer(url, `k-${i}`)).toBe(200);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await exited;
    children.delete(child);
    await sleep(1600); // past two intervals and a second: the next statement is overdue

    const report = await verifyLog(db, schema, 'inference_log');
    expect(report.ok).toBe(true);
    const writer = report.completeness!.writers.find((w) => w.pid === ready.pid)!;
    expect(writer).toMatchObject({ state: 'silent', interval_ms: 200 });
    expect(writer.statements).toBeGreaterThanOrEqual(3);
    const since = Date.parse(writer.silent_since!);
    expect(since).toBeLessThanOrEqual(killedAt);
    // Stated every 200 ms until the kill: the last one is within an interval and a slow tick of it.
    expect(killedAt - since).toBeLessThan(200 + 800);
    console.log(
      `killed writer: its last statement ended ${killedAt - since} ms before the SIGKILL (interval 200 ms); verify named it silent ${Date.now() - killedAt} ms after`,
    );
    expect(Date.parse(writer.statement_due!)).toBe(since + 200);
    expect(Date.parse(writer.last_record_at!)).toBeLessThanOrEqual(killedAt + 50);
    expect(report.completeness).toMatchObject({ complete: false, silent: 1 });

    const text = await cli(schema, ['verify']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`SILENT: writer ${writer.chain_id}`);
    expect(text.stdout).toContain(`records it captured after ${writer.silent_since} may be lost`);
    expect((await cli(schema, ['verify', '--complete'])).code).toBe(1);
    // A scheduled check of a period names the silence while the period reaches back to when the writer was
    // last heard from (and its next statement was due), then no more.
    expect(Date.parse(writer.last_heard!)).toBeLessThanOrEqual(killedAt + 100);
    expect((await cli(schema, ['verify', '--complete', '--since', '1h'])).code).toBe(1);
    const after = new Date(Date.parse(writer.last_heard!) + 200 + 1).toISOString();
    const later = await cli(schema, ['verify', '--complete', '--since', after]);
    expect(later.code).toBe(0);
    expect(later.stdout).toContain(`Completeness (${after} .. now)`);
  }, 60_000);
});

describe('a process that ends without close() states its end', () => {
  const schema = newSchema('complete_exit');

  test('the event loop empties: the record is written and the final statement says exit', async () => {
    const child = fork(join(__dirname, 'fixtures', 'exit-child.js'), [
      JSON.stringify({ database: DATABASE_URL, schema, spillDir: tempDir(), statementIntervalMs: 60_000 }),
    ]);
    children.add(child);
    const code = await new Promise((resolve) => child.once('exit', resolve));
    children.delete(child);
    expect(code).toBe(0);
    const report = await verifyLog(db, schema, 'inference_log');
    expect(report.ok).toBe(true);
    expect(report.completeness!.writers).toEqual([expect.objectContaining({ state: 'exited', written: 1, dropped: 0 })]);
    expect(report.completeness!.complete).toBe(true);
  }, 30_000);
});

describe('statements are the writer’s own', () => {
  const schema = newSchema('complete_forged');
  let logger: InferenceLogger;

  beforeAll(async () => {
    logger = new InferenceLogger(logOptions(schema, { statementIntervalMs: 60_000 }));
    await logger.ready();
    await logger.close();
  });

  test('an application cannot send an event of the reserved type', async () => {
    const other = new InferenceLogger(logOptions(schema));
    try {
      await expect(other.event('r-1', { type: STATEMENT_TYPE, data: { dropped: 0 } })).rejects.toMatchObject({
        code: 'E_EVENT',
        message: expect.stringContaining('may not start with "inferlog."'),
      });
    } finally {
      await other.close();
    }
  });

  test('a statement for another writer’s chain, correctly chained but signed with another key, is forged', async () => {
    const victim = logger.chain.id;
    const now = new Date().toISOString();
    await forgeStatement(schema, victim, {
      ...unsigned((await statements(schema)).at(-1)!.data),
      n: 2,
      from: now,
      to: now,
      final: 'close',
    });
    const report = await verifyLog(db, schema, 'inference_log');
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: 'forged',
        chain_id: victim,
        message: expect.stringContaining('is not signed by the key the chain registered'),
      }),
    ]);
  });

  test('a statement deleted by the owner is missing from the event chain and from the statements’ numbering', async () => {
    const schema2 = newSchema('complete_deleted');
    const log = new InferenceLogger(logOptions(schema2, { statementIntervalMs: 100 }));
    await log.ready();
    await until(async () => (await statements(schema2)).length >= 3, 'three statements');
    await log.close();
    const list = await statements(schema2);
    await asAttacker('DELETE FROM $1:name.inference_log_event WHERE id = $2', [schema2, list[1]!.id]);
    const report = await verifyLog(db, schema2, 'inference_log');
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.kind)).toEqual(expect.arrayContaining(['missing']));
    expect(report.problems.some((p) => p.message.includes('is number 3 but follows number 1'))).toBe(true);
  });
});

test('a logger closed while its store is still opening states its end once registered, and never again after', async () => {
  const schema = newSchema('complete_early_close');
  const log = new InferenceLogger(logOptions(schema, { statementIntervalMs: 50 }));
  await log.close(); // at once: the store is still connecting and migrating
  await sleep(300); // several intervals: no statement may follow the final one
  const list = await statements(schema);
  expect(list.map((s) => s.data.final)).toEqual(['close']);
  const report = await verifyLog(db, schema, 'inference_log');
  expect(writerOf(report, log.chain.id)).toMatchObject({ state: 'closed' });
});

test('statements that cannot be stored during an outage are made again, longer, once it is over: no hole, no overlap, nothing lost twice', async () => {
  const schema = newSchema('complete_outage');
  const { log, proxy } = await droppingLogger(schema, proxies, { maxQueueBytes: 20_000, databaseTimeoutMs: 500, statementIntervalMs: 100 });
  const api = await serve(log);
  await sleep(250);
  await proxy.refuse();
  for (let i = 0; i < 20; i++) expect(await infer(api.url, `out-${i}`, 400)).toBe(200);
  await sleep(600); // statements fail meanwhile
  await proxy.accept();
  const healedAt = Date.now();
  await drained(log);
  await sleep(300);
  api.close();
  await log.close();
  const list = await statements(schema);
  expect(list.map((s) => s.data.n)).toEqual(list.map((_, i) => i + 1));
  for (let i = 1; i < list.length; i++) expect(list[i]!.data.from).toBe(list[i - 1]!.data.to);
  expect(list.reduce((n, s) => n + s.data.dropped, 0)).toBe(log.stats().dropped);
  expect(log.stats().dropped).toBeGreaterThan(0);
  // The statement that covers the outage was made when it could be stored, not when it first failed.
  const covering = list.find((s) => s.data.dropped > 0)!;
  expect(Date.parse(covering.data.to)).toBeGreaterThanOrEqual(healedAt - 100);
  const report = await verifyLog(db, schema, 'inference_log');
  expect(report.problems).toEqual([]);
  expect(writerOf(report, log.logger.chain.id)).toMatchObject({ state: 'closed', dropped: log.stats().dropped });
}, 60_000);
