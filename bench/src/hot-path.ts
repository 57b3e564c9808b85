// Hot-path cost: synchronous CPU the Express middleware spends inside a request, for a selected route
// (capture set-up) and an unselected one (the route match), net of making the request objects.
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { inferenceLog } from '@inferlog/express';
import { median } from './writer';

type Middleware = (req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => void;

function timePerCall(middleware: Middleware, path: string, iterations: number): number {
  const socket = new net.Socket();
  const next = () => {};
  const start = performance.now();
  for (let i = 0; i < iterations; i++) {
    const req = new http.IncomingMessage(socket);
    req.method = 'POST';
    req.url = path;
    req.headers = { 'content-type': 'application/json', 'content-length': '300', 'x-request-id': `r-${i}` };
    const res = new http.ServerResponse(req);
    middleware(req, res, next);
  }
  return ((performance.now() - start) * 1000) / iterations;
}

export interface HotPathResult {
  selectedMicros: number;
  unselectedMicros: number;
}

export async function hotPath(iterations: number, rounds: number): Promise<HotPathResult> {
  const log = inferenceLog({ database: 'postgres://unused@127.0.0.1:1/none', migrate: false, onError: () => {} });
  const bare: Middleware = (_req, _res, next) => next();
  const selected: number[] = [];
  const unselected: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const base = timePerCall(bare, '/v2/models/m/infer', iterations);
    selected.push(timePerCall(log as unknown as Middleware, '/v2/models/m/infer', iterations) - base);
    const baseOther = timePerCall(bare, '/v2/health/ready', iterations);
    unselected.push(timePerCall(log as unknown as Middleware, '/v2/health/ready', iterations) - baseOther);
  }
  await log.close({ timeoutMs: 0 }).catch(() => {});
  return { selectedMicros: median(selected), unselectedMicros: Math.max(0, median(unselected)) };
}
