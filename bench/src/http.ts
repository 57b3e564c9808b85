import { execFileSync, fork } from 'node:child_process';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { cpuSpent, postgresPids, readCpu } from './cpu';
import type { Framework, Mode } from './server';

/** How the load is applied: saturating `connections`, or a fixed `rate` of requests per second; `pinned` puts the server on core 0 alone. */
export interface HttpLoad {
  seconds: number;
  connections: number;
  rate?: number;
  pinned?: boolean;
}

/** CPU per finished request during the measured run, in µs. */
export interface CpuPerRequest {
  main: number;
  process: number;
  postgres: number;
}

const setAffinity = (pid: number, cores: string) => {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' });
  } catch {
    // a process that ended meanwhile
  }
};

/**
 * Pins the server to core 0 and everything else it talks to (this process, its load generator, and
 * PostgreSQL, whose new backends inherit the postmaster's affinity) to core 1, as production runs with
 * the database elsewhere; returns the undo.
 */
export function pin(serverPid: number): () => void {
  const others = [process.pid, ...postgresPids()];
  setAffinity(serverPid, '0');
  for (const pid of others) setAffinity(pid, '1');
  return () => {
    for (const pid of [process.pid, ...postgresPids()]) setAffinity(pid, '0,1');
  };
}

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
  /** CPU per request, read from /proc around the measured run. */
  cpu: CpuPerRequest;
}

/** One autocannon run against a fresh server process. */
export async function httpRun(
  databaseUrl: string,
  framework: Framework,
  mode: Mode,
  schema: string,
  body: string,
  load: HttpLoad,
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
  const unpin = load.pinned ? pin(child.pid!) : null;
  const options = {
    url: `http://127.0.0.1:${port}/v2/models/bench/infer`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json' },
    body,
    connections: load.connections,
    ...(load.rate ? { overallRate: load.rate } : {}),
  };
  const warmUp = await autocannon({ ...options, duration: 2 }); // JIT, connection pool, partitions
  const before = readCpu(child.pid!);
  const result = await autocannon({ ...options, duration: load.seconds });
  const spent = cpuSpent(before, readCpu(child.pid!));
  unpin?.();
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
    cpu: {
      main: spent.main / result['2xx'],
      process: spent.process / result['2xx'],
      postgres: spent.postgres / result['2xx'],
    },
  };
}
