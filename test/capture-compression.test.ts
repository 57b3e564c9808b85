// A compression middleware on either side of inferlog: the client gets the very same compressed response,
// and the row holds the model's answer with the size and digest docs/record.md promises for that placement.
// Express's `compression` wraps res.write: mounted first, it encodes beneath inferlog's tee, which then sees
// the app's plain bytes while the head says gzip. Koa's koa-compress replaces ctx.body, so inferlog sees the
// encoded bytes wherever it sits.
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import compression from 'compression';
import express from 'express';
import Koa from 'koa';
import compress from 'koa-compress';
import Router from '@koa/router';
import { inferenceLog as expressLog } from '@inferlog/express';
import { inferenceLog as koaLog } from '@inferlog/koa';
import type { LoggerControls } from '@inferlog/core';
import { dropSchema, endPool, logOptions, oipRequest, settle, storedRows, uniqueSchema } from './helpers';
import { comparable, headerOf, parseRaw, rawRequest, unchunk } from './raw-http';

const schema = uniqueSchema('compress');
const logs: LoggerControls[] = [];
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

// Big enough to be compressed by both middlewares' default thresholds.
const answer = {
  model_name: 'm',
  model_version: '1',
  id: 'r',
  outputs: [{ name: 'p', shape: [300], datatype: 'FP32', data: Array.from({ length: 300 }, (_, i) => i / 8) }],
};
const answerText = JSON.stringify(answer);

afterAll(async () => {
  await Promise.all(logs.map((log) => log.close()));
  await dropSchema(schema);
  await endPool();
});

type Framework = 'express' | 'koa';
/** Where inferlog sits: mounted before the encoder, after it, or absent. */
type Placement = 'inferlog first' | 'encoder first' | 'no inferlog';
type Encoding = 'gzip' | 'deflate' | 'br' | 'identity';

/** How the model route answers: as JSON the middleware compresses, or already gzipped by the app itself. */
type Answer = 'json' | 'app-gzipped' | 'writeHead-pairs';

function app(framework: Framework, placement: Placement, log: LoggerControls | null, how: Answer): Server {
  if (framework === 'express') {
    const app = express();
    if (placement === 'inferlog first') app.use(log as unknown as express.RequestHandler);
    app.use(compression());
    if (placement === 'encoder first') app.use(log as unknown as express.RequestHandler);
    app.use(express.json());
    app.post('/v2/models/:model/infer', (_req, res) => {
      if (how === 'json') return void res.json(answer);
      if (how === 'writeHead-pairs') {
        res.writeHead(200, [
          ['content-type', 'application/json'],
          ['x-a', '1'],
        ] as unknown as string[]);
        return void res.end(answerText);
      }
      res.setHeader('content-type', 'application/json');
      res.setHeader('content-encoding', 'gzip');
      res.end(zlib.gzipSync(answerText));
    });
    return app.listen(0);
  }
  const app = new Koa();
  if (placement === 'inferlog first') app.use(log as unknown as Koa.Middleware);
  app.use(compress());
  if (placement === 'encoder first') app.use(log as unknown as Koa.Middleware);
  const router = new Router();
  router.post('/v2/models/:model/infer', (ctx) => {
    if (how === 'json') {
      ctx.body = answer;
      return;
    }
    ctx.type = 'application/json';
    ctx.set('content-encoding', 'gzip');
    ctx.body = zlib.gzipSync(answerText);
  });
  app.use(router.routes());
  return app.listen(0);
}

async function send(server: Server, encoding: Encoding, id: string, target = '/v2/models/m/infer'): Promise<Buffer> {
  const { port } = server.address() as AddressInfo;
  try {
    return await rawRequest(
      port,
      'POST',
      target,
      { 'X-Request-Id': id, 'Accept-Encoding': encoding },
      JSON.stringify(oipRequest([1, 2, 3, 4])),
    );
  } finally {
    server.close();
  }
}

/** The response body as it crossed the wire (chunked framing removed, still content-encoded). */
function wireBody(raw: Buffer): Buffer {
  const response = parseRaw(raw);
  return headerOf(response, 'transfer-encoding') === 'chunked' ? unchunk(response.body) : response.body;
}

const CASES: [Framework, Encoding, Answer][] = [];
for (const framework of ['express', 'koa'] as const) {
  for (const encoding of ['gzip', 'deflate', 'br', 'identity'] as const) CASES.push([framework, encoding, 'json']);
  CASES.push([framework, 'gzip', 'app-gzipped']);
}
CASES.push(['express', 'gzip', 'writeHead-pairs'], ['express', 'br', 'writeHead-pairs']);

describe.each(CASES)('%s, Accept-Encoding: %s, the app answers %s', (framework, encoding, how) => {
  test('the client gets the same bytes wherever inferlog sits; each row holds the answer, its size and digest', async () => {
    const table = `c_${framework}_${encoding}_${how.replaceAll('-', '_')}`;
    const log = (framework === 'express' ? expressLog : koaLog)(
      logOptions(schema, { table, routes: [{ path: '/v2/models/:model/infer', protocol: 'oip-v2' }] }),
    );
    logs.push(log);
    await log.ready();
    const bare = await send(app(framework, 'no inferlog', null, how), encoding, 'bare');
    const first = await send(app(framework, 'inferlog first', log, how), encoding, 'inferlog-first');
    const after = await send(app(framework, 'encoder first', log, how), encoding, 'encoder-first');

    const sent = how === 'app-gzipped' ? 'gzip' : encoding;
    expect(headerOf(parseRaw(bare), 'content-encoding') ?? 'identity').toBe(sent);
    const drop = ['x-request-id'];
    expect(comparable(first, drop)).toBe(comparable(bare, drop));
    expect(comparable(after, drop)).toBe(comparable(bare, drop));

    await settle(log, 2);
    const rows = await storedRows(schema, table);
    const row = (id: string) => rows.find((r) => r.request_id === id)!;
    const wire = wireBody(bare);
    for (const id of ['inferlog-first', 'encoder-first']) {
      expect({
        id,
        outputs: row(id).outputs,
        model: row(id).model_name,
        errors: row(id).schema_errors,
        body: row(id).response_body,
      }).toEqual({
        id,
        outputs: answer.outputs,
        model: 'm',
        errors: null,
        body: null,
      });
      expect(row(id).response_headers['content-encoding'] ?? 'identity').toBe(sent);
    }
    // Before the encoder, inferlog sees the body as sent. After an encoder that wraps res.write (Express's
    // compression), it sees the body the app wrote, before encoding; koa-compress encodes ctx.body before
    // Koa writes it, so there inferlog sees the encoded bytes either way.
    const afterSeesPlain = framework === 'express' && how !== 'app-gzipped';
    const seenAfter = afterSeesPlain ? Buffer.from(answerText) : wire;
    expect([Number(row('inferlog-first').response_bytes), row('inferlog-first').response_sha256]).toEqual([wire.length, sha256(wire)]);
    expect([Number(row('encoder-first').response_bytes), row('encoder-first').response_sha256]).toEqual([
      seenAfter.length,
      sha256(seenAfter),
    ]);
  });
});

describe('an OpenAI-style stream through Express compression', () => {
  const chunk = (content: string) =>
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'tiny', choices: [{ index: 0, delta: { content } }] })}\n\n`;
  const events = [chunk('Hel'), chunk('lo'), chunk(' world'), 'data: [DONE]\n\n'];

  test.each(['inferlog first', 'encoder first'] as const)(
    '%s: the stream is reassembled; its first token timed only from plain writes',
    async (placement) => {
      const table = `stream_${placement.replace(' ', '_')}`;
      const log = expressLog(logOptions(schema, { table, routes: [{ path: '/v1/chat/completions', protocol: 'openai-chat' }] }));
      logs.push(log);
      await log.ready();
      const app = express();
      if (placement === 'inferlog first') app.use(log);
      app.use(compression({ threshold: 0 }));
      if (placement === 'encoder first') app.use(log);
      app.post('/v1/chat/completions', async (_req, res) => {
        res.setHeader('content-type', 'text/event-stream');
        for (const event of events) {
          res.write(event);
          (res as unknown as { flush(): void }).flush();
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        res.end();
      });
      const server = app.listen(0);
      const raw = await send(server, 'gzip', `stream-${placement}`, '/v1/chat/completions');
      expect(zlib.gunzipSync(wireBody(raw)).toString()).toBe(events.join(''));
      await settle(log, 1);
      const [row] = await storedRows(schema, table);
      expect(row.outputs.find((t: { name: string }) => t.name === 'message').data).toEqual([{ role: 'assistant', content: 'Hello world' }]);
      expect(row.response_headers['content-encoding']).toBe('gzip');
      if (placement === 'encoder first') {
        // inferlog saw the events as the app wrote them: the write that carried the first token is known.
        expect(Number(row.response_bytes)).toBe(Buffer.byteLength(events.join('')));
        expect(row.usage.time_to_first_token_ms).toBeGreaterThan(0);
      } else {
        expect(Number(row.response_bytes)).toBe(wireBody(raw).length);
        expect(row.usage?.time_to_first_token_ms ?? null).toBeNull();
      }
    },
  );
});
