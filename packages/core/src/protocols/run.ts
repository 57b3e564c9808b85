import type { ProtocolName } from '../protocol';
import { describe } from '../errors';
import { detectAndMap } from './detect';
import { mapKserveV1 } from './kserve-v1';
import { isObject, type MappedFields, type Mapper, type MapperInput, type SchemaError } from './mapper';
import { mapOipV2 } from './oip-v2/map';
import { mapOpenAi, mapOpenAiChat, mapOpenAiCompletion, mapOpenAiEmbedding } from './openai/map';
import { mapRaw } from './raw';
import { bigIntAsText, bigIntsAsText } from '../exact-json';
import { storedForm } from '../json';

const BUILT_IN: Record<ProtocolName, Mapper> = {
  auto: detectAndMap,
  'oip-v2': mapOipV2,
  'kserve-v1': mapKserveV1,
  openai: mapOpenAi,
  'openai-chat': mapOpenAiChat,
  'openai-completion': mapOpenAiCompletion,
  'openai-embedding': mapOpenAiEmbedding,
  raw: mapRaw,
};

type FieldKind = 'text' | 'json' | 'list' | 'flag' | 'locations';
const FIELD_KINDS: Record<keyof MappedFields, FieldKind> = {
  protocol: 'text',
  model_name: 'text',
  model_version: 'text',
  inference_id: 'text',
  parameters: 'json',
  inputs: 'json',
  outputs: 'json',
  response_parameters: 'json',
  usage: 'json',
  error: 'json',
  schema_errors: 'list',
  truncated: 'list',
  cutStrings: 'locations',
  keepRequestBody: 'flag',
  keepResponseBody: 'flag',
};

/** Schema errors kept per record: enough to see what is wrong, never more than the payload. */
const MAX_SCHEMA_ERRORS = 50;

/** Whether a value can be stored as JSON: serialisable, and not something JSON.stringify silently drops. */
function serialisable(value: unknown): string | null {
  try {
    return JSON.stringify(value, bigIntAsText) === undefined ? 'it is not a JSON value' : null;
  } catch (err) {
    return describe(err);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * A custom mapper's result made safe to store: only known fields, each of its kind. What had to be
 * dropped or changed is said in `schema_errors` (part `mapper`), so a mapper bug shows in the rows.
 */
function checkCustomFields(name: string, result: unknown): MappedFields {
  if (isThenable(result)) {
    // Its rejection would otherwise be unhandled, which ends a Node process by default.
    result.then(undefined, () => {});
    throw new Error(
      'returned a Promise: mappers must be synchronous (they run in the flush path, on the exchange already captured); return the fields themselves',
    );
  }
  if (!isObject(result)) throw new Error(`returned ${result === null ? 'null' : typeof result}, not an object of record fields`);
  const problems: SchemaError[] = [];
  const note = (message: string) => problems.push({ part: 'mapper', message: `custom mapper "${name}" ${message}` });
  const fields: Record<string, unknown> = { protocol: name };
  for (const [key, value] of Object.entries(result)) {
    const kind = FIELD_KINDS[key as keyof MappedFields];
    if (!Object.hasOwn(FIELD_KINDS, key)) {
      note(`returned the unknown field ${JSON.stringify(key)} (ignored)`);
    } else if (value === undefined || value === null) {
    } else if (kind === 'text') {
      if (typeof value === 'string' || typeof value === 'number') fields[key] = String(value);
      else note(`returned ${key} as ${typeof value}, not a string (stored as null)`);
    } else if (kind === 'json') {
      const problem = serialisable(value);
      // As JSON will store it (a Date, a URL, a class with toJSON), so redaction sees what is stored.
      // A BigInt (an exact integer, as request.json gives one past 2^53) is stored as its decimal string.
      if (problem === null) fields[key] = storedForm(bigIntsAsText(value));
      else note(`returned ${key} that is not JSON-serialisable (stored as null): ${problem}`);
    } else if (kind === 'list') {
      if (Array.isArray(value) && (key !== 'truncated' || value.every((v) => typeof v === 'string')) && serialisable(value) === null)
        fields[key] = value;
      else note(`returned ${key} that is not ${key === 'truncated' ? 'a list of strings' : 'a JSON list'} (ignored)`);
    } else if (kind === 'locations') {
      const location = (l: unknown) => Array.isArray(l) && l.length > 0 && l.every((k) => typeof k === 'string' || Number.isSafeInteger(k));
      if (Array.isArray(value) && value.every(location)) fields[key] = value;
      else note(`returned ${key} that is not a list of locations (lists of keys and indexes; ignored)`);
    } else {
      fields[key] = value === true;
    }
  }
  if (problems.length > 0) fields.schema_errors = [...((fields.schema_errors as unknown[] | undefined) ?? []), ...problems];
  return fields as MappedFields;
}

/**
 * Adds the error's message to `cutStrings` when it is the start of the response's text and that text goes
 * on or was cut: the message then ends where text was cut (at 1,000 characters, or at the size cap).
 */
function noteCutErrorMessage(fields: MappedFields, response: MapperInput['response']): void {
  const message = isObject(fields.error) ? fields.error.message : undefined;
  const text = response.text;
  if (typeof message !== 'string' || message === '' || text === null || !text.startsWith(message)) return;
  if (message.length < text.length || response.truncated) fields.cutStrings = [...(fields.cutStrings ?? []), ['error', 'message']];
}

export interface MapOutcome {
  fields: MappedFields;
  /** Why the mapper failed (the exchange was then mapped raw), or null. */
  failure: string | null;
}

/**
 * Maps an exchange with the route's protocol: a built-in mapper by name, or a custom one (whose result
 * is checked). A mapper that throws never loses the record: it is stored raw, the error in `schema_errors`.
 */
export function runMapper(protocol: ProtocolName | Mapper, input: MapperInput): MapOutcome {
  const custom = typeof protocol === 'function';
  const name = custom ? protocol.name || 'custom' : protocol;
  try {
    const fields = custom ? checkCustomFields(name, protocol(input)) : BUILT_IN[protocol](input);
    const errors = fields.schema_errors;
    if (errors && errors.length > MAX_SCHEMA_ERRORS) {
      fields.schema_errors = [
        ...errors.slice(0, MAX_SCHEMA_ERRORS),
        { part: 'mapper', message: `${errors.length - MAX_SCHEMA_ERRORS} more schema errors not stored` },
      ];
    }
    noteCutErrorMessage(fields, input.response);
    return { fields, failure: null };
  } catch (err) {
    const failure = `the ${custom ? 'custom ' : ''}mapper "${name}" failed; the exchange is stored raw: ${describe(err)}`;
    const fields = mapRaw(input);
    // A custom mapper's name says whose payload this is; a built-in one's failure leaves a raw record.
    if (custom) fields.protocol = name;
    fields.schema_errors = [{ part: 'mapper', message: failure }];
    noteCutErrorMessage(fields, input.response);
    return { fields, failure };
  }
}
