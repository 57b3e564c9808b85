import { withExactIntegers } from '../exact-fields';
import type { DecodedBody } from '../../decode/body';
import {
  errorFromBody,
  isObject,
  omitKeys,
  stringOrNull,
  type MappedFields,
  type Mapper,
  type MapperInput,
  type SchemaError,
} from '../mapper';
import { tensorOf, type Tensor } from '../tensor';
import { validateRequest, validateResponse, type OpenAiKind } from './schema';
import { reassembleStream, STANDARD_CHOICE_FIELDS } from './stream';
import { timeToFirstToken } from './timing';
import { normalizeUsage } from './usage';

export type { OpenAiKind };

/** Request fields that become input tensors (or the model name); every other field is a parameter. */
const INPUT_FIELDS: Record<OpenAiKind, readonly string[]> = {
  chat: ['messages', 'tools', 'functions'],
  completion: ['prompt'],
  embedding: ['input'],
};
const PROTOCOL: Record<OpenAiKind, string> = { chat: 'openai-chat', completion: 'openai-completion', embedding: 'openai-embedding' };

function isEventStream(input: MapperInput): boolean {
  const type = String(input.responseHeaders['content-type'] ?? '');
  if (/text\/event-stream/i.test(type)) return true;
  const text = input.response.text;
  return isObject(input.request.json) && input.request.json.stream === true && text !== null && /^(data|event|:)/.test(text);
}

const indexOf = (item: Record<string, unknown>) => (typeof item.index === 'number' ? item.index : 0);

/** A list tensor with one element per choice (the shape stays [n] whatever the elements are). */
const perChoice = (name: string, values: unknown[]): Tensor => ({ ...tensorOf(name, values), shape: [values.length] });

/**
 * Output tensors of the choices, one element per choice in index order: `message` (chat) or `text`,
 * `finish_reason`, `logprobs` when there are any, and `choice_details` with the fields servers add to a
 * choice (vLLM's `stop_reason`, Azure's `content_filter_results`, …) when there are any.
 */
function choiceTensors(kind: OpenAiKind, choices: Record<string, unknown>[]): Tensor[] {
  const sorted = [...choices].sort((a, b) => indexOf(a) - indexOf(b));
  const tensors = [
    perChoice(
      kind === 'chat' ? 'message' : 'text',
      sorted.map((c) => (kind === 'chat' ? c.message : c.text) ?? null),
    ),
    perChoice(
      'finish_reason',
      sorted.map((c) => c.finish_reason ?? null),
    ),
  ];
  if (sorted.some((c) => c.logprobs !== undefined && c.logprobs !== null))
    tensors.push(
      perChoice(
        'logprobs',
        sorted.map((c) => c.logprobs ?? null),
      ),
    );
  const details = sorted.map((c) => omitKeys(c, STANDARD_CHOICE_FIELDS));
  if (details.some((d) => d !== null)) tensors.push(perChoice('choice_details', details));
  return tensors;
}

/**
 * The strings of choices that never finished, in the output tensor `choiceTensors` makes (one element per
 * choice in index order): what was being written when the stream was cut. Content and the other string
 * fields of a message, tool-call and function-call arguments, a completion's text.
 */
function unfinishedStrings(kind: OpenAiKind, choices: Record<string, unknown>[]): (string | number)[][] {
  const sorted = [...choices].sort((a, b) => indexOf(a) - indexOf(b));
  const out: (string | number)[][] = [];
  sorted.forEach((choice, i) => {
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) return;
    const at = ['outputs', 0, 'data', i];
    if (kind !== 'chat') {
      if (typeof choice.text === 'string') out.push(at);
      return;
    }
    if (!isObject(choice.message)) return;
    for (const [key, value] of Object.entries(choice.message)) {
      if (key === 'role') continue;
      if (typeof value === 'string') out.push([...at, key]);
      else if (key === 'tool_calls' && Array.isArray(value))
        for (let j = 0; j < value.length; j++) out.push([...at, key, j, 'function', 'arguments']);
      else if (key === 'function_call') out.push([...at, key, 'arguments']);
      else if (isObject(value)) for (const [inner, v] of Object.entries(value)) if (typeof v === 'string') out.push([...at, key, inner]);
    }
  });
  return out;
}

/** `data[].embedding` as one [n, dimensions] FP32 tensor; base64 embeddings (`encoding_format: "base64"`) decoded. */
function embeddingTensor(data: unknown[]): Tensor {
  const rows = data
    .filter(isObject)
    .sort((a, b) => indexOf(a) - indexOf(b))
    .map((item) => {
      if (typeof item.embedding !== 'string') return item.embedding;
      const bytes = Buffer.from(item.embedding, 'base64');
      return Array.from({ length: bytes.length >> 2 }, (_, i) => bytes.readFloatLE(i * 4));
    });
  const tensor = tensorOf('embedding', rows);
  return tensor.datatype === 'FP64' || tensor.datatype === 'INT64' ? { ...tensor, datatype: 'FP32' } : tensor;
}

function inputTensors(kind: OpenAiKind, request: Record<string, unknown>): Tensor[] {
  return INPUT_FIELDS[kind].filter((field) => request[field] !== undefined).map((field) => tensorOf(field, request[field]));
}

/** The error of an OpenAI-style error body `{"error": {message, type, param, code}}` (or any other error body). */
function openAiError(body: DecodedBody, error: unknown, status: number | null): Record<string, unknown> {
  if (typeof error === 'string') return { status, message: error };
  if (!isObject(error)) return errorFromBody(body, status);
  // `status` is the HTTP status, as in every record's error; a provider's own `status` (Gemini-style
  // "INVALID_ARGUMENT") is kept beside it as `provider_status`.
  return Object.fromEntries([
    ['status', status],
    ['message', stringOrNull(error.message)],
    ...(error.status !== undefined ? [['provider_status', error.status]] : []),
    ...Object.entries(error).filter(([key]) => key !== 'message' && key !== 'status' && key !== 'provider_status'),
  ]);
}

function mapResponse(kind: OpenAiKind, input: MapperInput, out: MappedFields, schemaErrors: SchemaError[]): void {
  const { response, status } = input;
  const res = response.json;
  if (status !== null && status >= 400) {
    out.error = openAiError(response, isObject(res) ? res.error : undefined, status);
    if (!(isObject(res) && isObject(res.error))) out.keepResponseBody = response.text !== null;
    return;
  }
  if (isObject(res)) {
    schemaErrors.push(...validateResponse(kind, res));
    out.inference_id = stringOrNull(res.id);
    out.model_name = stringOrNull(res.model) ?? out.model_name;
    if (isObject(res.error)) out.error = openAiError(response, res.error, status);
    if (kind === 'embedding' && Array.isArray(res.data)) out.outputs = [embeddingTensor(res.data)];
    else if (kind !== 'embedding' && Array.isArray(res.choices)) out.outputs = choiceTensors(kind, res.choices.filter(isObject));
    else out.keepResponseBody = true;
    out.response_parameters = omitKeys(res, ['id', 'model', 'choices', 'data', 'usage']);
    out.usage = normalizeUsage(res.usage, null);
    return;
  }
  if (response.text !== null && kind !== 'embedding' && isEventStream(input)) {
    const req = input.request.json;
    const expectUsage = isObject(req) && isObject(req.stream_options) && req.stream_options.include_usage === true;
    const stream = reassembleStream(response.text, expectUsage);
    schemaErrors.push(...stream.schemaErrors);
    out.inference_id = stringOrNull(stream.header.id);
    out.model_name = stringOrNull(stream.header.model) ?? out.model_name;
    out.outputs = choiceTensors(kind, stream.choices);
    out.response_parameters = { ...omitKeys(stream.header, ['id', 'model']), stream: true, stream_events: stream.chunks };
    out.usage = normalizeUsage(stream.usage, stream.firstTokenAt === null ? null : timeToFirstToken(input, stream.firstTokenAt));
    if (stream.error !== null) out.error = openAiError(response, stream.error, status);
    else if (!stream.complete || response.truncated) out.truncated = ['response_stream'];
    if (!stream.complete || response.truncated) out.cutStrings = unfinishedStrings(kind, stream.choices);
    // Nothing could be read from the stream: keep what was sent as it is.
    if (stream.chunks === 0) out.keepResponseBody = true;
    return;
  }
  out.keepResponseBody = true;
  if (!response.truncated && response.text !== null) {
    schemaErrors.push({ part: 'response', message: response.parseError ?? `not an OpenAI ${kind} response` });
  }
}

/** The mapper of one OpenAI-style endpoint: chat completions, completions or embeddings. */
function openAiMapper(kind: OpenAiKind): Mapper {
  return withExactIntegers((input) => {
    const out: MappedFields = { protocol: PROTOCOL[kind], model_name: null, model_version: null };
    const schemaErrors: SchemaError[] = [];
    const req = input.request.json;
    if (isObject(req)) {
      schemaErrors.push(...validateRequest(kind, req));
      out.model_name = stringOrNull(req.model);
      out.inputs = inputTensors(kind, req);
      out.parameters = omitKeys(req, ['model', ...INPUT_FIELDS[kind]]);
    } else {
      out.keepRequestBody = true;
      if (!input.request.truncated && input.request.text !== null) {
        schemaErrors.push({
          part: 'request',
          message: input.request.parseError ?? `not an OpenAI ${kind} request: the body must be a JSON object`,
        });
      }
    }
    mapResponse(kind, input, out, schemaErrors);
    if (schemaErrors.length > 0) out.schema_errors = schemaErrors;
    return out;
  });
}

export const mapOpenAiChat = openAiMapper('chat');
export const mapOpenAiCompletion = openAiMapper('completion');
export const mapOpenAiEmbedding = openAiMapper('embedding');

/**
 * Which OpenAI endpoint a payload belongs to, by its shape: `messages` → chat, `prompt` → completions,
 * `input` → embeddings; `prompt` and `input` count only beside a `model` when `strict` (auto-detection
 * on routes of any kind).
 */
export function openAiKindOf(request: unknown, response: unknown, strict = false): OpenAiKind | null {
  if (isObject(request)) {
    const model = !strict || typeof request.model === 'string';
    if (Array.isArray(request.messages)) return 'chat';
    if (request.prompt !== undefined && model) return 'completion';
    if (request.input !== undefined && model) return 'embedding';
  }
  if (isObject(response)) {
    if (response.object === 'chat.completion') return 'chat';
    if (response.object === 'text_completion') return 'completion';
    if (response.object === 'list' && Array.isArray(response.data)) return 'embedding';
  }
  return null;
}

/** The mapper of each OpenAI endpoint. */
export const OPENAI_MAPPERS: Readonly<Record<OpenAiKind, Mapper>> = {
  chat: mapOpenAiChat,
  completion: mapOpenAiCompletion,
  embedding: mapOpenAiEmbedding,
};

/** OpenAI-style, endpoint decided by the payload's shape (chat when it cannot tell). */
export const mapOpenAi: Mapper = (input) => OPENAI_MAPPERS[openAiKindOf(input.request.json, input.response.json) ?? 'chat'](input);
