import { fork } from 'node:child_process';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { Framework, Mode } from './server';

export interface HttpRun {
  framework: Framework;
  mode: Mode;
  bodyBytes: number;
  requestsPerSec: number;
  p50: number;
  p99: number;
  /** 2xx responses autocannon received, warm-up included. */
  completed: number;
  /** Responses the server finished, including those autocannon stopped waiting for. */
  finished: number;
  errors: number;
  peakRssMiB: number;
  captured: number | null;
  dropped: number | null;
  /** Rows stored for the responses the server finished (inferlog runs; set by the runner after the run). */
  stored?: number;
  written: number | null;
}

/** One autocannon run against a fresh server process. */
export async function httpRun(
  databaseUrl: string,
  framework: Framework,
  mode: Mode,
  schema: string,
  body: string,
  seconds: number,
  connections: number,
): Promise<HttpRun> {
  const child = fork(join(__dirname, 'server.js'), [framework, mode, schema], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, DATABASE_URL: databaseUrl, NODE_ENV: 'production' },
  });
  const messages: Record<string, unknown>[] = [];
  let exitCode: number | null = null;
  child.on('message', (m) => messages.push(m as Record<string, unknown>));
  child.on('exit', (code) => (exitCode = code ?? 0));
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const take = () => {
        if (messages.length) resolve(messages.shift()!);
        else if (exitCode !== null) reject(new Error(`benchmark server exited with ${exitCode} before answering`));
        else setTimeout(take, 10);
      };
      take();
    });
  const { port } = (await next()) as { port: number };
  const options = {
    url: `http://127.0.0.1:${port}/v2/models/bench/infer`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json' },
    body,
    connections,
  };
  const warmUp = await autocannon({ ...options, duration: 1 }); // JIT, connection pool, partitions
  const result = await autocannon({ ...options, duration: seconds });
  child.send('stop');
  const end = (await next()) as { peakRss: number; finished: number; stats: { captured: number; written: number; dropped: number } | null };
  return {
    framework,
    mode,
    bodyBytes: Buffer.byteLength(body),
    requestsPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    completed: warmUp['2xx'] + result['2xx'],
    finished: end.finished,
    errors: result.errors + result.non2xx + result.timeouts,
    peakRssMiB: Math.round(end.peakRss / 1024 / 1024),
    captured: end.stats?.captured ?? null,
    dropped: end.stats?.dropped ?? null,
    written: end.stats?.written ?? null,
  };
}
