// Running the inferlog CLI in-process, and writing sealed records the way a writer does.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Chain } from '../packages/core/src/chain/chain';
import { openPostgresSink } from '../packages/core/src/sink/connect';
import { resolveOptions } from '../packages/core/src/options';
import { uuidv7 } from '../packages/core/src/ids';
import type { InferenceRecord } from '@inferlog/core';
import type { PostgresSink } from '../packages/core/src/sink/postgres-sink';
import { main } from '@inferlog/cli';
import { DATABASE_URL } from './helpers';
export { until } from './helpers';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A stream that collects what is written to it, and its text so far. */
export function collector(): PassThrough & { text(): string; isTTY?: boolean } {
  const stream = new PassThrough() as PassThrough & { text(): string };
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  stream.text = () => chunks.join('');
  return stream;
}

/** Runs `inferlog <args> --database <test database> --schema <schema>` in this process. */
export async function cli(
  schema: string | null,
  args: string[],
  options: { signal?: AbortSignal; stdout?: ReturnType<typeof collector> } = {},
): Promise<CliRun> {
  const stdout = options.stdout ?? collector();
  const stderr = collector();
  const where = schema === null ? [] : ['--database', DATABASE_URL, '--schema', schema];
  const code = await main([...args, ...where], { stdout, stderr, env: {}, signal: options.signal });
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** A writer: a sink on the test database and a chain, as the logger has them. */
export interface Writer {
  sink: PostgresSink;
  chain: Chain;
  /** Seals the records into this writer's chain and stores them (in batches of 2000). */
  write(records: InferenceRecord[]): Promise<void>;
  close(): Promise<void>;
}

export async function openWriter(schema: string, service = 'cli-test'): Promise<Writer> {
  const sink = await openPostgresSink(resolveOptions({ database: DATABASE_URL, schema }));
  const chain = new Chain('record', service, '1.0.0');
  await sink.registerChain(chain);
  return {
    sink,
    chain,
    async write(records) {
      for (let from = 0; from < records.length; from += 2000) {
        const batch = records.slice(from, from + 2000);
        chain.seal(batch);
        await sink.insert(batch);
      }
    },
    close: () => sink.close(),
  };
}

/** A plain OIP record; `fields` override. */
export function record(i: number, at: number, fields: Partial<InferenceRecord> = {}): InferenceRecord {
  return {
    id: uuidv7(at),
    started_at: new Date(at),
    ended_at: new Date(at + 5),
    latency_ms: 5,
    request_id: `r-${i}`,
    trace_id: null,
    span_id: null,
    service: 'cli-test',
    service_version: '1.0.0',
    host: 'h',
    method: 'POST',
    route: '/v2/models/:model/infer',
    path: '/v2/models/credit/infer',
    status: 200,
    aborted: false,
    protocol: 'oip-v2',
    model_name: 'credit',
    model_version: '1',
    inference_id: `inf-${i}`,
    parameters: { threshold: 0.5 },
    inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: [i, 0.25, 6, 1] }],
    outputs: [{ name: 'probability', shape: [1, 1], datatype: 'FP32', data: [(i % 100) / 100] }],
    response_parameters: null,
    usage: null,
    error: null,
    request_headers: { 'content-type': 'application/json' },
    response_headers: null,
    request_body: null,
    response_body: null,
    request_bytes: 120,
    response_bytes: 90,
    request_sha256: null,
    response_sha256: null,
    truncated: [],
    redactions: [],
    schema_errors: null,
    annotations: null,
    ...fields,
  };
}

const ROOT = join(__dirname, '..');
/** The built CLI's entry (`inferlog`), and a runner that reports a child's peak RSS. */
export const BIN = join(ROOT, 'packages', 'cli', 'dist', 'bin.js');
export const PEAK_RSS_RUNNER = join(__dirname, 'fixtures', 'cli-peak-rss.js');

/**
 * Builds the CLI (tsc -b, incremental: quick when up to date) so child processes run the current code;
 * a lock directory keeps test files that run side by side from building at once.
 */
export async function buildCli(): Promise<void> {
  const lock = join(tmpdir(), 'inferlog-cli-build.lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`could not take the build lock ${lock}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', join(ROOT, 'packages', 'cli')], {
      cwd: ROOT,
      stdio: 'pipe',
    });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface ChildRun extends CliRun {
  /** Peak resident set size of the child, MiB (from the runner; null for the plain bin). */
  peakRssMiB: number | null;
}

/** Runs the built CLI in a child process (through the peak-RSS runner when `measure`). */
export function runChild(
  args: string[],
  { measure = false, env = {} as Record<string, string>, timeoutMs = 600_000 } = {},
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [measure ? PEAK_RSS_RUNNER : BIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const rss = /peak_rss_kib=(\d+)/.exec(stderr);
      resolve({
        code: code ?? (signal ? 128 : -1),
        stdout,
        stderr: stderr.replace(/peak_rss_kib=\d+\n?/, ''),
        peakRssMiB: rss ? Number(rss[1]) / 1024 : null,
      });
    });
  });
}
