// The embedded development store: PGlite on a directory, owned by one process and reached by every
// other process through the owner's Unix socket. The other processes are real children, killed for real.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { openEmbeddedStore, storePaths, type EmbeddedStore } from '@inferlog/embedded';
import { inferenceLog } from '@inferlog/express';
import { pgp } from '@inferlog/core/audit';
import { oipRequest, tempDir, until } from './helpers';

const ROOT = join(__dirname, '..');
const FIXTURES = join(__dirname, 'fixtures');
const BIN = join(ROOT, 'packages', 'cli', 'dist', 'bin.js');

interface Child {
  process: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** The first JSON line the child printed. */
  ready: Promise<Record<string, unknown>>;
}

const children: Child[] = [];
afterEach(() => {
  for (const child of children.splice(0))
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
});

function run(script: string, args: string[]): Child {
  const env = { ...process.env };
  delete env.DATABASE_URL; // the child must choose the embedded store itself
  const proc = spawn(process.execPath, [script, ...args], { cwd: ROOT, env });
  let out = '';
  let err = '';
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as Record<string, unknown>);
    });
    proc.on('exit', (code, signal) => reject(new Error(`${script} exited (${code ?? signal}) before it was ready: ${err}`)));
  });
  ready.catch(() => {});
  proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const child = { process: proc, stdout: () => out, stderr: () => err, ready };
  children.push(child);
  return child;
}

/** An app on the embedded store in `dir`, in its own process; resolves with its base URL once it serves. */
async function startApp(dir: string): Promise<{ child: Child; base: string }> {
  const child = run(join(FIXTURES, 'embedded-app.js'), [dir, join(dir, '..', 'spill')]);
  const { port } = await child.ready;
  return { child, base: `http://127.0.0.1:${port as number}` };
}

function infer(base: string, requestId: string): Promise<number> {
  return fetch(`${base}/v2/models/m/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify(oipRequest([1, 2, 3, 4])),
  }).then(async (res) => {
    await res.text();
    return res.status;
  });
}

function lockOwner(dir: string): number {
  return (JSON.parse(readFileSync(storePaths(dir).lockFile, 'utf8')) as { pid: number }).pid;
}

async function requestIds(store: EmbeddedStore): Promise<string[]> {
  const db = pgp({ connectionString: store.connectionString, max: 1 });
  try {
    return (await db.any('SELECT request_id FROM inferlog.inference_log ORDER BY request_id')).map((r) => r.request_id as string);
  } finally {
    await db.$pool.end();
  }
}

test('the embedded store takes records through the same sink and keeps them on disk', async () => {
  const dir = join(tempDir('inferlog-embedded-'), 'pgdata');
  const log = inferenceLog({ database: 'embedded', embeddedDir: dir, spillDir: join(dir, '..', 'spill'), batch: { flushIntervalMs: 20 } });
  const app = express();
  app.use(log);
  app.use(express.json());
  app.post('/v2/models/:model/infer', (req, res) =>
    res.json({ model_name: req.params.model, outputs: [{ name: 'y', shape: [1], datatype: 'FP32', data: [0.5] }] }),
  );
  for (let i = 0; i < 10; i++)
    await request(app)
      .post('/v2/models/m/infer')
      .set('x-request-id', `e-${i}`)
      .send(oipRequest([i, 1, 2, 3]))
      .expect(200);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await log.close();
  expect(log.stats()).toMatchObject({ captured: 10, written: 10 });

  // Opened again after close() stopped serving it: the rows are on disk.
  const store = await openEmbeddedStore(dir);
  const db = pgp({ connectionString: store.connectionString, max: 1 });
  try {
    expect(store.role).toBe('owner');
    const rows = await db.any('SELECT request_id, inputs FROM inferlog.inference_log ORDER BY request_id');
    expect(rows.map((r) => r.request_id)).toEqual(Array.from({ length: 10 }, (_, i) => `e-${i}`));
    expect(rows[3].inputs[0].data).toEqual([3, 1, 2, 3]);
  } finally {
    await db.$pool.end();
    await store.release();
  }
});

test('one process owns a store directory: another process reaches the same data through the owner, and never opens it itself', async () => {
  const dir = join(tempDir('inferlog-embedded-'), 'pgdata');
  const app = await startApp(dir);
  for (let i = 0; i < 3; i++) expect(await infer(app.base, `shared-${i}`)).toBe(200);

  const store = await openEmbeddedStore(dir);
  try {
    expect(store.role).toBe('client');
    expect(lockOwner(dir)).toBe(app.child.process.pid);
    await until(async () => (await requestIds(store)).length === 3, "the app's three rows");
    expect(await requestIds(store)).toEqual(['shared-0', 'shared-1', 'shared-2']);
  } finally {
    await store.release();
  }
  expect(lockOwner(dir)).toBe(app.child.process.pid); // a client's release leaves the owner's lock alone
}, 120_000);

test("inferlog tail -f beside a running app on the embedded store shows the app's new rows", async () => {
  const dir = join(tempDir('inferlog-embedded-'), 'pgdata');
  const app = await startApp(dir);
  expect(await infer(app.base, 'before-tail')).toBe(200);
  const tail = run(BIN, ['tail', '-f', '--embedded-dir', dir]);
  await until(
    () => tail.stdout().includes('before-tail'),
    `tail to show the row stored before it started (stdout: ${tail.stdout()}, stderr: ${tail.stderr()})`,
    60_000,
  );
  for (let i = 0; i < 3; i++) expect(await infer(app.base, `followed-${i}`)).toBe(200);
  await until(
    () => ['followed-0', 'followed-1', 'followed-2'].every((id) => tail.stdout().includes(id)),
    `tail -f to show the new rows (stdout: ${tail.stdout()})`,
    30_000,
  );
  expect(lockOwner(dir)).toBe(app.child.process.pid);
  tail.process.kill('SIGINT');
}, 120_000);

test('when the owner is killed (SIGKILL), a process that reached the store through it takes it over on the same socket, rows intact', async () => {
  const dir = join(tempDir('inferlog-embedded-'), 'pgdata');
  const app = await startApp(dir);
  for (let i = 0; i < 5; i++) expect(await infer(app.base, `kept-${i}`)).toBe(200);
  const store = await openEmbeddedStore(dir);
  const db = pgp({ connectionString: store.connectionString, max: 1 });
  try {
    expect(store.role).toBe('client');
    await until(async () => (await db.one('SELECT count(*)::int AS n FROM inferlog.inference_log')).n === 5, 'the five rows');
    app.child.process.kill('SIGKILL');
    await until(() => store.role === 'owner', 'the client to take the store over', 60_000);
    // The same connection string (the same pool) reaches the new owner.
    await until(
      async () => (await db.one('SELECT count(*)::int AS n FROM inferlog.inference_log').catch(() => ({ n: -1 }))).n === 5,
      'the rows through the new owner',
      30_000,
    );
    expect(lockOwner(dir)).toBe(process.pid);
  } finally {
    await db.$pool.end();
    await store.release();
  }
}, 120_000);

test('processes opening a fresh directory at the same moment: exactly one owns it, the others reach it through that one', async () => {
  const dir = join(tempDir('inferlog-embedded-'), 'pgdata');
  const openers = [0, 1, 2].map(() => run(join(FIXTURES, 'embedded-open.js'), [dir]));
  const roles = (await Promise.all(openers.map((o) => o.ready))).map((r) => r.role);
  expect(roles.filter((r) => r === 'owner')).toHaveLength(1);
  expect(roles.filter((r) => r === 'client')).toHaveLength(2);
  expect(lockOwner(dir)).toBe(openers[roles.indexOf('owner')].process.pid);
  for (const o of openers) o.process.stdin.end();
}, 120_000);

test('without the optional @inferlog/embedded package, choosing the embedded store fails at once, saying what to install or set', () => {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development' };
  delete env.DATABASE_URL;
  const app = spawnSync(
    process.execPath,
    [
      '-r',
      join(FIXTURES, 'without-embedded.js'),
      '-e',
      "try { require('./packages/express/dist/index.js').inferenceLog({}) } catch (e) { console.log(e.message) }",
    ],
    { cwd: ROOT, env, encoding: 'utf8' },
  );
  expect(app.stdout.trim()).toBe(
    'inferlog: no database configured and the embedded development store is not installed: set the "database" option or DATABASE_URL to log to PostgreSQL, or install @inferlog/embedded (npm install --save-dev @inferlog/embedded) for development',
  );
  const cli = spawnSync(process.execPath, ['-r', join(FIXTURES, 'without-embedded.js'), BIN, 'tail', '--embedded-dir', tempDir()], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  });
  expect(cli.status).not.toBe(0);
  expect(cli.stderr).toContain('the embedded development store is not installed');
});
