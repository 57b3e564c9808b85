import { parseJsonExact } from '../../exact-json';
import { jsonProblem } from '../../json';
import { isObject, type SchemaError } from '../mapper';
import { parseSse } from './sse';

/** Fields every choice has; the others are kept as the choice's extras. */
export const STANDARD_CHOICE_FIELDS = ['index', 'delta', 'message', 'text', 'finish_reason', 'logprobs'];

/** Choice indexes beyond this are ignored: a real stream has a handful, a hostile one could ask for millions. */
const MAX_CHOICES = 1024;

/** One choice as the chunks build it up (the same way the official clients accumulate deltas). */
interface ChoiceState {
  index: number;
  role: string | null;
  /** String fields of the delta (`content`, `refusal`, `reasoning_content`, …) concatenated; other fields as first seen. */
  fields: Map<string, unknown>;
  toolCalls: Map<number, { id?: string; type?: string; name?: string; arguments: string }>;
  /** Fields of the choice itself beyond the standard ones (vLLM's `stop_reason`, Azure's `content_filter_results`): the last value. */
  extras: Map<string, unknown>;
  functionCall: { name?: string; arguments: string } | null;
  /** Completions streams: `choices[].text` concatenated. */
  text: string | null;
  finishReason: unknown;
  /** `logprobs.content` (chat) or the logprobs arrays (completions) concatenated. */
  logprobs: Map<string, unknown[]> | null;
}

/** A reassembled stream: what a non-streamed response would have said, plus how the stream went. */
export interface ReassembledStream {
  /** The chunks' `id`, `model`, `object`, `created` and the like (the last value of each). */
  header: Record<string, unknown>;
  choices: Record<string, unknown>[];
  usage: unknown;
  /** An error sent inside the stream (`event: error`, or a frame `{"error": …}`). */
  error: unknown;
  /** Whether the stream ended properly: `data: [DONE]`, or every choice finished. */
  complete: boolean;
  chunks: number;
  /** Index in the text of the first event that carried generated content; null when none did. */
  firstTokenAt: number | null;
  schemaErrors: SchemaError[];
}

function newChoice(index: number): ChoiceState {
  return {
    index,
    role: null,
    fields: new Map(),
    toolCalls: new Map(),
    extras: new Map(),
    functionCall: null,
    text: null,
    finishReason: null,
    logprobs: null,
  };
}

function nonEmptyString(value: unknown): boolean {
  return typeof value === 'string' && value !== '';
}

/** Whether a delta (chat) or choice (completions) carries generated output: the moment of the first token. */
function carriesToken(choice: Record<string, unknown>): boolean {
  if (nonEmptyString(choice.text)) return true;
  const delta = choice.delta;
  if (!isObject(delta)) return false;
  return Object.entries(delta).some(
    ([key, value]) => (key !== 'role' && nonEmptyString(value)) || (key === 'tool_calls' && Array.isArray(value) && value.length > 0),
  );
}

/**
 * Where a tool-call delta goes: its `index`; without one (some servers leave it out), a new call when it
 * brings an id not seen yet or there is none, else the last call, whose arguments it continues.
 */
function toolCallIndex(state: ChoiceState, call: Record<string, unknown>): number | null {
  if (call.index !== undefined)
    return Number.isSafeInteger(call.index) && (call.index as number) >= 0 && (call.index as number) < MAX_CHOICES
      ? (call.index as number)
      : null;
  const last = Math.max(-1, ...state.toolCalls.keys());
  const known = typeof call.id === 'string' && [...state.toolCalls.values()].some((entry) => entry.id === call.id);
  const starts = last === -1 || (typeof call.id === 'string' && !known);
  return starts ? (last + 1 < MAX_CHOICES ? last + 1 : null) : last;
}

function mergeToolCalls(state: ChoiceState, calls: unknown[]): void {
  for (const call of calls) {
    if (!isObject(call)) continue;
    const index = toolCallIndex(state, call);
    if (index === null) continue;
    let entry = state.toolCalls.get(index);
    if (!entry) {
      entry = { arguments: '' };
      state.toolCalls.set(index, entry);
    }
    if (typeof call.id === 'string') entry.id = call.id;
    if (typeof call.type === 'string') entry.type = call.type;
    const fn = call.function;
    if (isObject(fn)) {
      if (typeof fn.name === 'string') entry.name = fn.name;
      if (typeof fn.arguments === 'string') entry.arguments += fn.arguments;
    }
  }
}

function mergeDelta(state: ChoiceState, delta: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(delta)) {
    if (key === 'role') {
      if (typeof value === 'string') state.role = value;
    } else if (key === 'tool_calls') {
      if (Array.isArray(value)) mergeToolCalls(state, value);
    } else if (key === 'function_call') {
      if (!isObject(value)) continue;
      state.functionCall ??= { arguments: '' };
      if (typeof value.name === 'string') state.functionCall.name = value.name;
      if (typeof value.arguments === 'string') state.functionCall.arguments += value.arguments;
    } else if (typeof value === 'string') {
      const before = state.fields.get(key);
      state.fields.set(key, (typeof before === 'string' ? before : '') + value);
    } else if (isObject(value)) {
      // e.g. `audio`: its `data` and `transcript` arrive in pieces, its `id` once.
      const before = state.fields.get(key);
      state.fields.set(key, mergeStrings(isObject(before) ? before : {}, value));
    } else if (value !== null && value !== undefined) {
      state.fields.set(key, value);
    }
  }
}

/** `before` with the string fields of `delta` appended to its own, other fields replaced. */
function mergeStrings(before: Record<string, unknown>, delta: Record<string, unknown>): Record<string, unknown> {
  const merged = new Map(Object.entries(before));
  for (const [key, value] of Object.entries(delta)) {
    const current = merged.get(key);
    merged.set(key, typeof value === 'string' && typeof current === 'string' ? current + value : value);
  }
  return Object.fromEntries(merged);
}

function mergeLogprobs(state: ChoiceState, logprobs: unknown): void {
  if (!isObject(logprobs)) return;
  state.logprobs ??= new Map();
  for (const [key, value] of Object.entries(logprobs)) {
    if (!Array.isArray(value)) continue;
    const before = state.logprobs.get(key);
    if (before) for (const item of value) before.push(item);
    else state.logprobs.set(key, value.slice());
  }
}

function applyChoice(choices: Map<number, ChoiceState>, choice: Record<string, unknown>): void {
  const index = choice.index ?? 0;
  if (!Number.isSafeInteger(index) || (index as number) < 0 || (index as number) >= MAX_CHOICES) return;
  let state = choices.get(index as number);
  if (!state) {
    state = newChoice(index as number);
    choices.set(index as number, state);
  }
  if (isObject(choice.delta)) mergeDelta(state, choice.delta);
  if (typeof choice.text === 'string') state.text = (state.text ?? '') + choice.text;
  if (choice.finish_reason !== undefined && choice.finish_reason !== null) state.finishReason = choice.finish_reason;
  mergeLogprobs(state, choice.logprobs);
  for (const [key, value] of Object.entries(choice)) {
    if (!STANDARD_CHOICE_FIELDS.includes(key) && value !== null && value !== undefined) state.extras.set(key, value);
  }
}

/** An error sent in a stream as an object with a message; a bare value (`"overloaded"`, 42) becomes the message. */
function streamError(error: unknown): unknown {
  if (isObject(error)) return error;
  return { message: typeof error === 'string' ? error : jsonText(error) };
}

const BIG = '\u0000bigint:';

/** A value as its JSON text, integers past 2^53 (parsed as BigInt) with all their digits, which JSON.stringify refuses. */
function jsonText(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${BIG}${v}` : v));
  return text === undefined ? String(value) : text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}

/** A choice as the non-streamed response would carry it: `{index, message | text, finish_reason, logprobs, …extras}`. */
function finalChoice(state: ChoiceState): Record<string, unknown> {
  const logprobs = state.logprobs ? Object.fromEntries(state.logprobs) : null;
  const extras = Object.fromEntries(state.extras);
  if (state.text !== null) return { ...extras, index: state.index, text: state.text, finish_reason: state.finishReason, logprobs };
  const toolCalls = [...state.toolCalls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, call]) => ({
      id: call.id ?? null,
      type: call.type ?? 'function',
      function: { name: call.name ?? null, arguments: call.arguments },
    }));
  const message = Object.fromEntries([
    ['role', state.role ?? 'assistant'],
    ['content', state.fields.has('content') ? state.fields.get('content') : null],
    ...[...state.fields.entries()].filter(([key]) => key !== 'content'),
    ...(toolCalls.length > 0 ? [['tool_calls', toolCalls]] : []),
    ...(state.functionCall ? [['function_call', { name: state.functionCall.name ?? null, arguments: state.functionCall.arguments }]] : []),
  ]);
  return { ...extras, index: state.index, message, finish_reason: state.finishReason, logprobs };
}

const HEADER_FIELDS = ['id', 'object', 'created', 'model', 'system_fingerprint', 'service_tier'];

/**
 * Reassembles an OpenAI-style event stream (`chat.completion.chunk` or streamed `text_completion`
 * events) into the choices a non-streamed response would carry: content and other string fields
 * concatenated per choice index, tool calls merged by their `index` with `arguments` concatenated,
 * the last `finish_reason`, logprobs concatenated, and usage from the chunk that carries it (the last
 * one, with `stream_options.include_usage`: pass `expectUsage`). A stream cut off midway yields what arrived.
 */
export function reassembleStream(text: string, expectUsage = false): ReassembledStream {
  const result: ReassembledStream = {
    header: {},
    choices: [],
    usage: null,
    error: null,
    complete: false,
    chunks: 0,
    firstTokenAt: null,
    schemaErrors: [],
  };
  const header = new Map<string, unknown>();
  const choices = new Map<number, ChoiceState>();
  let done = false;
  for (const event of parseSse(text)) {
    if (event.data.trim() === '[DONE]') {
      done = true;
      continue;
    }
    let chunk: unknown;
    try {
      chunk = parseJsonExact(event.data);
    } catch (err) {
      // An `event: error` frame is the stream's error whatever its data is (some servers send plain text).
      if (event.event === 'error') {
        result.chunks++;
        result.error = { message: event.data };
        continue;
      }
      // A last event the stream was cut inside is expected to be partial; any other is an error of the server.
      if (event.complete) result.schemaErrors.push({ part: 'response', message: `event ${result.chunks} is ${jsonProblem(err)}` });
      continue;
    }
    result.chunks++;
    if (event.event === 'error' || (isObject(chunk) && chunk.error !== undefined && chunk.choices === undefined)) {
      result.error = streamError(isObject(chunk) && chunk.error !== undefined ? chunk.error : chunk);
      continue;
    }
    if (!isObject(chunk)) {
      result.schemaErrors.push({ part: 'response', message: `event ${result.chunks - 1} is not a JSON object` });
      continue;
    }
    for (const key of HEADER_FIELDS) if (chunk[key] !== undefined && chunk[key] !== null) header.set(key, chunk[key]);
    if (isObject(chunk.usage)) result.usage = chunk.usage;
    if (!Array.isArray(chunk.choices)) continue;
    for (const choice of chunk.choices) {
      if (!isObject(choice)) continue;
      if (result.firstTokenAt === null && carriesToken(choice)) result.firstTokenAt = event.start;
      applyChoice(choices, choice);
    }
  }
  const states = [...choices.values()].sort((a, b) => a.index - b.index);
  result.header = Object.fromEntries(header);
  result.choices = states.map(finalChoice);
  // Without [DONE], a stream is whole only when every choice finished and, if the client asked for usage
  // (`stream_options.include_usage`), the usage chunk that follows the last finish_reason came too.
  result.complete = done || (states.length > 0 && states.every((s) => s.finishReason !== null) && (!expectUsage || result.usage !== null));
  return result;
}
