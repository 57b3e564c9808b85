// The built `inferlog` bin as a user runs it: a child process with its own environment and signals.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, buildCli, openWriter, record, runChild, until, type Writer } from './cli-helpers';
import { DATABASE_URL, dropSchema, endPool, tempDir, uniqueSchema } from './helpers';

const schema = uniqueSchema('cli_bin');
const dir = tempDir('inferlog-bin-');
let writer: Writer | undefined;

beforeAll(() => buildCli(), 180_000);

afterAll(async () => {
  await writer?.close();
  await dropSchema(schema);
  await endPool();
  rmSync(dir, { recursive: true, force: true });
});

test('the bin has a shebang; --help, --version, an unknown command and no database give their exit codes', async () => {
  expect(readFileSync(BIN, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  const help = await runChild(['--help']);
  expect(help.code).toBe(0);
  for (const command of ['migrate', 'tail', 'show', 'query', 'stats', 'export', 'verify'])
    expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  expect((await runChild(['--version'])).stdout.trim()).toBe('0.1.0');
  expect(await runChild(['frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown command 'frobnicate'") });
  expect(await runChild(['query', '--embedded-dir', join(dir, 'none')])).toMatchObject({
    code: 3,
    stderr: expect.stringContaining('no database: pass --database <url> or set DATABASE_URL'),
  });
});

test('migrate through DATABASE_URL, then tail -f in a child: a row written afterwards shows up, and SIGINT ends it with 0', async () => {
  const env = { DATABASE_URL };
  const migrated = await runChild(['migrate', '--schema', schema, '--months-ahead', '1'], { env });
  expect(migrated.code).toBe(0);
  expect(migrated.stdout).toContain('migrations applied now: 001_inference_log, 002_audit');
  expect(migrated.stdout).toMatch(
    /partitions: inference_log_p\d{4}_\d{2} \((created|exists)\), inference_log_p\d{4}_\d{2} \((created|exists)\)\n/,
  );
  writer = await openWriter(schema);

  const child = spawn(process.execPath, [BIN, 'tail', '-f', '--interval', '100ms', '--schema', schema], {
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // The header comes once the follower has its starting point and the newest rows are read.
  await until(() => stdout.startsWith('time '), 'the header');
  await writer.write([record(1, Date.now(), { request_id: 'from-the-bin-test', model_name: 'bin-model' })]);
  await until(() => stdout.includes('from-the-bin-test'), 'the new row in the child output');
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(stderr).toBe('');
  expect(stdout).toContain('bin-model');
}, 60_000);

test('the embedded store: migrate creates it in --embedded-dir, query reads it, both say they use it', async () => {
  const store = join(dir, 'pgdata');
  const migrated = await runChild(['migrate', '--embedded-dir', store]);
  expect(migrated.code).toBe(0);
  expect(migrated.stderr).toContain(`using the embedded store in ${store} (for development)`);
  const queried = await runChild(['query', '--embedded-dir', store, '--json']);
  expect(queried.code).toBe(0);
  expect(JSON.parse(queried.stdout)).toEqual({ rows: [], next: null });
}, 120_000);
