import { randomBytes } from 'node:crypto';
import express from 'express';
import { inferenceLog, type InferenceLogMiddleware, type InferenceLogOptions } from '@inferlog/express';
import { serveUntilSignal } from './serve';
import { countTokens, generate, TINY_MODEL } from './tiny-llm';

interface ChatMessage {
  role?: unknown;
  content?: unknown;
}

interface ChatRequest {
  model?: unknown;
  messages?: ChatMessage[];
  n?: unknown;
  max_tokens?: unknown;
  max_completion_tokens?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown };
  tools?: { type?: string; function?: { name?: string } }[];
  tool_choice?: unknown;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null,
    readonly code: string | null,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function text(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join(' ');
  return '';
}

/** What the model answers for one choice: text tokens, or a call of the first tool with the user's words as arguments split into pieces. */
function answer(
  request: ChatRequest,
  index: number,
): { tokens: string[]; toolCall: { id: string; name: string; pieces: string[] } | null; finishReason: string } {
  const messages = request.messages!;
  const prompt = messages.map((m) => text(m.content)).join('\n') + (index > 0 ? `#${index}` : '');
  const tool = Array.isArray(request.tools) && request.tool_choice !== 'none' ? request.tools[0]?.function?.name : undefined;
  if (tool) {
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    const args = JSON.stringify({ query: text(lastUser?.content) });
    const pieces = args.match(/.{1,8}/gs) ?? [''];
    return { tokens: [], toolCall: { id: `call_${randomBytes(8).toString('hex')}`, name: tool, pieces }, finishReason: 'tool_calls' };
  }
  const limit = Number(request.max_completion_tokens ?? request.max_tokens ?? 48);
  const { tokens, finishReason } = generate(prompt, Number.isInteger(limit) && limit > 0 ? limit : 48);
  return { tokens, toolCall: null, finishReason };
}

function checkRequest(body: ChatRequest): void {
  if (body.model !== TINY_MODEL)
    throw new ApiError(404, `The model '${String(body.model)}' does not exist`, 'invalid_request_error', 'model', 'model_not_found');
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    throw new ApiError(400, "'messages' must be a non-empty array", 'invalid_request_error', 'messages', null);
  if (body.n !== undefined && !(Number.isInteger(body.n) && (body.n as number) >= 1 && (body.n as number) <= 4)) {
    throw new ApiError(400, "'n' must be a whole number from 1 to 4", 'invalid_request_error', 'n', null);
  }
}

/**
 * An OpenAI-compatible chat completions API (`POST /v1/chat/completions`, normal and `stream: true`)
 * around the tiny deterministic model, with inferlog in front of it. `tokenDelayMs` paces the stream.
 */
export function createOpenAiApp(
  logOptions: InferenceLogOptions | null = {},
  { tokenDelayMs = 15 } = {},
): { app: express.Express; log: InferenceLogMiddleware | null } {
  const app = express();
  // The one line: every chat completion, streamed or not, is logged to PostgreSQL.
  const log = logOptions ? inferenceLog(logOptions) : null;
  if (log) app.use(log);
  app.use(express.json());

  app.get('/v1/models', (_req, res) => {
    res.json({ object: 'list', data: [{ id: TINY_MODEL, object: 'model', created: 1735689600, owned_by: 'inferlog-examples' }] });
  });

  app.post('/v1/chat/completions', async (req, res, next) => {
    try {
      const body = req.body as ChatRequest;
      checkRequest(body);
      const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
      const created = Math.floor(Date.now() / 1000);
      const head = { id, created, model: TINY_MODEL, system_fingerprint: 'fp_tiny' };
      const answers = Array.from({ length: (body.n as number | undefined) ?? 1 }, (_, i) => answer(body, i));
      const promptTokens = countTokens(body.messages!.map((m) => text(m.content)).join('\n'));
      const completionTokens = answers.reduce((sum, a) => sum + a.tokens.length + (a.toolCall?.pieces.length ?? 0), 0);
      const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };

      if (body.stream !== true) {
        res.json({
          ...head,
          object: 'chat.completion',
          choices: answers.map((a, index) => ({
            index,
            message: {
              role: 'assistant',
              content: a.toolCall ? null : a.tokens.join(''),
              ...(a.toolCall
                ? {
                    tool_calls: [
                      { id: a.toolCall.id, type: 'function', function: { name: a.toolCall.name, arguments: a.toolCall.pieces.join('') } },
                    ],
                  }
                : {}),
            },
            logprobs: null,
            finish_reason: a.finishReason,
          })),
          usage,
        });
        return;
      }

      res.setHeader('content-type', 'text/event-stream; charset=utf-8');
      res.setHeader('cache-control', 'no-cache');
      res.flushHeaders();
      let closed = false;
      res.on('close', () => (closed = true));
      const send = (choices: unknown[], extra: object = {}) =>
        res.write(`data: ${JSON.stringify({ ...head, object: 'chat.completion.chunk', choices, ...extra })}\n\n`);
      send(answers.map((_, index) => ({ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null })));
      const steps = Math.max(...answers.map((a) => a.tokens.length + (a.toolCall?.pieces.length ?? 0)));
      for (let step = 0; step < steps && !closed; step++) {
        await sleep(tokenDelayMs);
        const deltas = answers.flatMap((a, index): unknown[] => {
          if (a.toolCall && step < a.toolCall.pieces.length) {
            const call =
              step === 0
                ? { index: 0, id: a.toolCall.id, type: 'function', function: { name: a.toolCall.name, arguments: a.toolCall.pieces[0] } }
                : { index: 0, function: { arguments: a.toolCall.pieces[step] } };
            return [{ index, delta: { tool_calls: [call] }, logprobs: null, finish_reason: null }];
          }
          return step < a.tokens.length ? [{ index, delta: { content: a.tokens[step] }, logprobs: null, finish_reason: null }] : [];
        });
        if (!closed) send(deltas);
      }
      if (closed) return;
      send(answers.map((a, index) => ({ index, delta: {}, logprobs: null, finish_reason: a.finishReason })));
      if (body.stream_options?.include_usage === true) send([], { usage });
      res.end('data: [DONE]\n\n');
    } catch (err) {
      next(err);
    }
  });

  app.use(
    (
      err: { status?: number; message?: string } & Partial<ApiError>,
      _req: express.Request,
      res: express.Response,
      _next: express.NextFunction,
    ) => {
      const status = err.status ?? 500;
      res.status(status).json({
        error: {
          message: err.message ?? 'internal error',
          type: err.type ?? (status < 500 ? 'invalid_request_error' : 'server_error'),
          param: err.param ?? null,
          code: err.code ?? null,
        },
      });
    },
  );
  return { app, log };
}

if (require.main === module) {
  const { app, log } = createOpenAiApp();
  const port = Number(process.env.PORT ?? 8082);
  serveUntilSignal(
    app.listen(port),
    log,
    `OpenAI-compatible chat API on http://127.0.0.1:${port}/v1/chat/completions (model "${TINY_MODEL}")`,
  );
}
