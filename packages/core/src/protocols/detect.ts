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
 * The protocol of routes that do not name one, told by the payloads' shape: OIP tensors (objects with a
 * `datatype`, or binary tensor framing) → oip-v2; `messages`, `prompt` or `input` with a `model` →
 * OpenAI chat, completions or embeddings; `instances`/`inputs` or `predictions`/`explanations` →
 * kserve-v1; anything else is stored raw.
 */
export const detectAndMap: Mapper = (input) => {
  const request = input.request.json;
  const response = input.response.json;
  if (input.request.binary || input.response.binary || looksOip(request, response)) return mapOipV2(input);
  const openAi = openAiKindOf(request, response, true);
  if (openAi) return OPENAI_MAPPERS[openAi](input);
  if (looksKserveV1(request, response)) return mapKserveV1(input);
  return mapRaw(input);
};
