import { isObject, type Mapper } from './mapper';
import { mapKserveV1 } from './kserve-v1';
import { mapOipV2 } from './oip-v2/map';
import { OPENAI_MAPPERS, openAiKindOf } from './openai/map';
import { mapRaw } from './raw';

function tensors(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0 && value.every((t) => isObject(t) && typeof t.datatype === 'string');
}

function looksOip(request: unknown, response: unknown): boolean {
  return (isObject(request) && tensors(request.inputs)) || (isObject(response) && tensors(response.outputs));
}

function looksKserveV1(request: unknown, response: unknown): boolean {
  return (
    (isObject(request) && (Array.isArray(request.instances) || (request.inputs !== undefined && request.inputs !== null))) ||
    (isObject(response) && (response.predictions !== undefined || response.explanations !== undefined))
  );
}

/**
 * The standard paths of each protocol, matched at the end of the path (an API may be mounted under a
 * prefix; a trailing slash is allowed, as Express and Koa routers allow it). A payload on one of them is mapped as that protocol even when it is invalid for it, so its
 * faults land in `schema_errors` instead of being taken for another protocol's shape.
 */
const BY_PATH: readonly (readonly [RegExp, Mapper])[] = [
  [/\/v2\/models\/[^/]+(?:\/versions\/[^/]+)?\/infer\/?$/i, mapOipV2],
  [/\/v1\/models\/[^/]+:(?:predict|explain)\/?$/i, mapKserveV1],
  [/\/v1\/chat\/completions\/?$/i, OPENAI_MAPPERS.chat],
  [/\/v1\/completions\/?$/i, OPENAI_MAPPERS.completion],
  [/\/v1\/embeddings\/?$/i, OPENAI_MAPPERS.embedding],
];

/**
 * The protocol of routes that do not name one, told first by a standard path (`/v2/models/:model/infer`,
 * `/v1/models/:model:predict`, `/v1/chat/completions`, …, also under a prefix), else by the payloads' shape: OIP tensors (objects with a
 * `datatype`, or binary tensor framing) → oip-v2; `messages`, `prompt` or `input` with a `model` →
 * OpenAI chat, completions or embeddings; `instances`/`inputs` or `predictions`/`explanations` →
 * kserve-v1; anything else is stored raw.
 */
export const detectAndMap: Mapper = (input) => {
  const request = input.request.json;
  const response = input.response.json;
  for (const [path, mapper] of BY_PATH) if (path.test(input.path)) return mapper(input);
  if (input.request.binary || input.response.binary || looksOip(request, response)) return mapOipV2(input);
  const openAi = openAiKindOf(request, response, true);
  if (openAi) return OPENAI_MAPPERS[openAi](input);
  if (looksKserveV1(request, response)) return mapKserveV1(input);
  return mapRaw(input);
};
