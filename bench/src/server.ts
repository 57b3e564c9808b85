// A benchmark server in its own process: the same OIP v2 endpoint, bare, behind pino-http, behind
// express-winston logging both bodies, with an INSERT per request through pg-promise awaited after the
// response (what users write themselves), or behind inferlog.
// Usage (by http.ts): node server.js <express|koa> <bare|pino|winston|pgp|inferlog> <schema>
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import express from 'express';
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import pinoHttp from 'pino-http';
import expressWinston from 'express-winston';
import winston from 'winston';
import pgPromise from 'pg-promise';
import pino from 'pino';
import { inferenceLog as expressLog } from '@inferlog/express';
import { inferenceLog as koaLog } from '@inferlog/koa';
import type { LoggerControls } from '@inferlog/core';

export type Framework = 'express' | 'koa';
export type Mode = 'bare' | 'pino' | 'winston' | 'pgp' | 'inferlog';

const [framework, mode, schema] = process.argv.slice(2) as [Framework, Mode, string];

// Responses the server finished: what the log must hold (autocannon does not count the ones in
// flight when its clock stops, but the server answered them and inferlog logged them).
let finished = 0;

function infer(model: string, body: { id?: string; inputs?: { data?: number[] }[] }) {
  const data = body.inputs?.[0]?.data ?? [];
  let sum = 0;
  for (const x of data) sum += x;
  return {
    model_name: model,
    model_version: '1',
    id: body.id,
    outputs: [{ name: 'score', shape: [1], datatype: 'FP32', data: [sum / (data.length || 1)] }],
  };
}

function inferlogOptions() {
  return {
    database: process.env.DATABASE_URL,
    schema,
    spillDir: join(tmpdir(), `inferlog-bench-${process.pid}`),
    maxBodyBytes: 1024 * 1024,
    onError: (e: { code: string; message: string }) => e.code !== 'E_QUEUE_FULL' && console.error(e.message),
    // For experiments: options merged in from the environment (`BENCH_INFERLOG_OPTIONS='{"writeAhead":false}'`).
    ...(JSON.parse(process.env.BENCH_INFERLOG_OPTIONS ?? '{}') as object),
  };
}

let log: LoggerControls | null = null;
let server: Server;
const pinoLogger = () => pinoHttp({ logger: pino(createWriteStream('/dev/null')) });
const winstonLogger = () =>
  expressWinston.logger({
    transports: [new winston.transports.Stream({ stream: createWriteStream('/dev/null') })],
    format: winston.format.json(),
    requestWhitelist: [...expressWinston.requestWhitelist, 'body'],
    responseWhitelist: [...expressWinston.responseWhitelist, 'body'],
  });

// The inference log users write themselves: one INSERT per request, awaited once the response is out.
const pgp = mode === 'pgp' ? pgPromise()({ connectionString: process.env.DATABASE_URL, max: 10 }) : null;
const insertRow = (model: string, request: unknown, response: unknown, status: number, started: number) =>
  pgp!
    .none('INSERT INTO $1:name.inference_log (model, request, response, status, latency_ms) VALUES ($2, $3, $4, $5, $6)', [
      schema,
      model,
      JSON.stringify(request),
      JSON.stringify(response),
      status,
      Date.now() - started,
    ])
    .catch((err) => console.error(err.message));
const pgpReady = pgp
  ? pgp.none(
      'CREATE SCHEMA IF NOT EXISTS $1:name; CREATE TABLE $1:name.inference_log (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), model text, request jsonb, response jsonb, status int, latency_ms real)',
      [schema],
    )
  : Promise.resolve();

if (framework === 'express') {
  const app = express();
  app.use((_req, res, next) => {
    res.on('finish', () => finished++);
    next();
  });
  if (mode === 'pino') app.use(pinoLogger());
  if (mode === 'inferlog') {
    const middleware = expressLog(inferlogOptions());
    log = middleware;
    app.use(middleware);
  }
  app.use(express.json({ limit: '10mb' }));
  if (mode === 'winston') app.use(winstonLogger());
  app.post('/v2/models/:model/infer', (req, res) => {
    const result = infer(req.params.model, req.body);
    if (mode === 'pgp') {
      const started = Date.now();
      res.on('finish', () => void insertRow(req.params.model, req.body, result, res.statusCode, started));
    }
    res.json(result);
  });
  server = app.listen(0, '127.0.0.1');
} else {
  const app = new Koa();
  app.use((ctx, next) => {
    ctx.res.on('finish', () => finished++);
    return next();
  });
  if (mode === 'pino') {
    const logger = pinoLogger();
    app.use((ctx, next) => {
      logger(ctx.req, ctx.res);
      return next();
    });
  }
  if (mode === 'inferlog') {
    const middleware = koaLog(inferlogOptions());
    log = middleware;
    app.use(middleware);
  }
  app.use(bodyParser({ jsonLimit: '10mb' }));
  const router = new Router();
  router.post('/v2/models/:model/infer', (ctx) => {
    ctx.body = infer(ctx.params.model!, ctx.request.body as never);
    if (mode === 'pgp') {
      const started = Date.now();
      const { body } = ctx;
      ctx.res.on('finish', () => void insertRow(ctx.params.model!, ctx.request.body, body, ctx.status, started));
    }
  });
  app.use(router.routes());
  server = app.listen(0, '127.0.0.1');
}

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20);

server.once('listening', async () => {
  if (log) await log.ready();
  await pgpReady;
  process.send!({ port: (server.address() as { port: number }).port });
});

process.on('message', async (message: string) => {
  if (message !== 'stop') return;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  server.close();
  server.closeAllConnections();
  await new Promise((resolve) => setTimeout(resolve, 200)); // let the cut requests' records reach the queue
  if (log) await log.close();
  await pgp?.$pool.end();
  process.send!({ peakRss, finished, stats: log?.stats() ?? null }, () => process.exit(0));
});
