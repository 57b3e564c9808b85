// `pnpm demo`: starts the Express OIP model API on the embedded PostgreSQL, sends it a few dozen
// inference requests (some invalid, one for a model that does not exist), then the OpenAI-compatible chat
// API a plain and a streamed completion, and prints what was logged.
import type { AddressInfo } from 'node:net';
import { openEmbeddedStore } from '@inferlog/embedded';
import { pgp, verifyLog } from '@inferlog/core/audit';
import type { InferenceLogStats } from '@inferlog/express';
import { createExpressApp } from './express-oip';
import { MODEL } from './model';
import { createOpenAiApp } from './openai-chat';
import { TINY_MODEL } from './tiny-llm';

const EMBEDDED_DIR = process.env.INFERLOG_DEMO_DIR ?? './.inferlog/pgdata';

function shorten(value: unknown, width: number): string {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

function printTable(rows: Record<string, unknown>[], columns: [string, number][]): void {
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(columns[i]![1])).join('  ');
  console.log(line(columns.map(([name]) => name)));
  console.log(line(columns.map(([, width]) => '-'.repeat(width))));
  for (const row of rows) console.log(line(columns.map(([name, width]) => shorten(row[name], width))));
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const { app, log } = createExpressApp({
    database: 'embedded',
    embeddedDir: EMBEDDED_DIR,
    service: 'credit-risk-api',
    serviceVersion: '1.0.0',
  });
  await log!.ready();
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  console.log(`OIP model API listening on ${base}; logging to the embedded PostgreSQL in ${EMBEDDED_DIR}\n`);

  const send = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const infer = `/v2/models/${MODEL.name}/infer`;
  const statuses: number[] = [];
  for (let i = 0; i < 30; i++) {
    const features = [25 + i * 3, (i % 7) / 10, i % 12, i % 4];
    const body = { id: `demo-${i}`, inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: features }] };
    statuses.push((await send(infer, JSON.stringify(body), { 'x-request-id': `demo-req-${i}` })).status);
  }
  statuses.push((await send(infer, '{"inputs": [', { 'x-request-id': 'demo-bad-json' })).status);
  statuses.push(
    (
      await send(infer, JSON.stringify({ inputs: [{ name: 'features', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }), {
        'x-request-id': 'demo-bad-shape',
      })
    ).status,
  );
  statuses.push((await send(infer, JSON.stringify({ inputs: 'nope' }), { 'x-request-id': 'demo-not-oip' })).status);
  statuses.push(
    (await send('/v2/models/no-such-model/infer', JSON.stringify({ inputs: [] }), { 'x-request-id': 'demo-unknown-model' })).status,
  );
  const health = (await fetch(`${base}/v2/health/ready`)).status;
  console.log(
    `sent ${statuses.length} inference requests: ${statuses.filter((s) => s === 200).length} answered 200, ${statuses.filter((s) => s !== 200).length} errors; ` +
      `and one health check (${health}), which is not an inference route and so is not logged\n`,
  );

  await log!.flush();

  // The OpenAI-compatible chat API, logged to the same store: one plain answer, one streamed.
  const chat = createOpenAiApp(
    { database: 'embedded', embeddedDir: EMBEDDED_DIR, service: 'assistant-api', serviceVersion: '1.0.0' },
    { tokenDelayMs: 5 },
  );
  await chat.log!.ready();
  const chatServer = chat.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => chatServer.once('listening', resolve));
  const chatBase = `http://127.0.0.1:${(chatServer.address() as AddressInfo).port}`;
  const question = (content: string, stream: boolean, id: string) =>
    fetch(`${chatBase}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({
        model: TINY_MODEL,
        messages: [{ role: 'user', content }],
        stream,
        stream_options: stream ? { include_usage: true } : undefined,
      }),
    }).then((res) => res.text());
  await question('How long are the logs kept?', false, 'demo-chat');
  const streamed = await question('Who may request the logs?', true, 'demo-chat-stream');
  // Counted as the record counts them (response_parameters.stream_events): data frames, not the closing [DONE].
  const chunks = streamed.split('\n\n').filter((frame) => frame.startsWith('data: ') && frame !== 'data: [DONE]').length;
  console.log(
    `\nOpenAI-compatible chat API on ${chatBase}: sent one plain and one streamed chat completion (${chunks} stream chunks and [DONE])`,
  );
  await chat.log!.flush();

  const embedded = await openEmbeddedStore(EMBEDDED_DIR);
  const db = pgp({ connectionString: embedded.connectionString, max: 1 });
  const rows = await db.any(
    `SELECT to_char(started_at, 'HH24:MI:SS.MS') AS time, request_id, status, model_name AS model, model_version AS version,
            round(latency_ms::numeric, 2) AS ms, inputs -> 0 -> 'data' AS input, outputs -> 0 -> 'data' AS output,
            coalesce(error ->> 'message', schema_errors -> 0 ->> 'message') AS problem, request_bytes AS bytes
       FROM inferlog.inference_log WHERE started_at >= $1 AND protocol = 'oip-v2' ORDER BY started_at, id`,
    [startedAt],
  );
  console.log(`\n${rows.length} OIP inferences recorded in inferlog.inference_log:\n`);
  printTable(rows, [
    ['time', 12],
    ['request_id', 18],
    ['status', 6],
    ['model', 13],
    ['version', 7],
    ['ms', 6],
    ['input', 18],
    ['output', 12],
    ['problem', 36],
  ]);
  const chats = await db.any(
    `SELECT request_id, protocol, model_name AS model, coalesce(response_parameters ->> 'stream', 'false') AS stream,
            round(latency_ms::numeric, 1) AS ms, usage ->> 'time_to_first_token_ms' AS ttft_ms, usage ->> 'output_tokens' AS tokens,
            outputs -> 0 -> 'data' -> 0 ->> 'content' AS answer
       FROM inferlog.inference_log WHERE started_at >= $1 AND protocol = 'openai-chat' ORDER BY started_at, id`,
    [startedAt],
  );
  console.log(`\n${chats.length} chat completions recorded (the streamed one reassembled from its events):\n`);
  printTable(chats, [
    ['request_id', 16],
    ['protocol', 11],
    ['model', 10],
    ['stream', 6],
    ['ms', 6],
    ['ttft_ms', 7],
    ['tokens', 6],
    ['answer', 60],
  ]);
  server.close();
  chatServer.close();
  // Closed, each logger has stored its final completeness statement: verify reads them too.
  await log!.close();
  await chat.log!.close();
  const report = await verifyLog(db, 'inferlog', 'inference_log');
  const c = report.completeness!;
  console.log(
    `\ntamper evidence: ${report.ok ? 'every hash chain verifies' : `${report.problems.length} problems, first: ${report.problems[0]!.message}`} ` +
      `(${report.rows} rows — inferences, oversight events and completeness statements — in ${report.chains.length} chains; \`inferlog verify\` checks the same)`,
  );
  console.log(
    `completeness: ${c.complete ? 'complete' : 'INCOMPLETE'}: ${c.writers.length} writers over all runs, ${c.dropped} records stated lost, ${c.silent} fell silent (a run stopped without close())`,
  );
  await db.$pool.end();
  await embedded.release();
  console.log(`\n${loggerSummary('OIP API logger', log!.stats())}\n${loggerSummary('chat API logger', chat.log!.stats())}`);
  console.log(
    `\nThe log stays in ${EMBEDDED_DIR} between runs (each run adds to it; delete the folder .inferlog to start afresh). Look at it with the inferlog command:\n` +
      '  pnpm inferlog tail -n 5\n  pnpm inferlog show demo-chat-stream\n  pnpm inferlog stats --since 1h\n  pnpm inferlog verify\n  pnpm inferlog console        (the audit console in a browser: open the address it prints)',
  );
}

function loggerSummary(name: string, stats: InferenceLogStats): string {
  const lost = stats.dropped === 0 ? 'none lost' : `${stats.dropped} LOST (see the errors above)`;
  return `${name}: ${stats.captured} captured, ${stats.written} stored, ${stats.spilled} spilled to the journal, ${lost}`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
