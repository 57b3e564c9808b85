// JSON Schemas of the OpenAI-style payloads, from the OpenAI API reference (openai/openai-openapi):
// what every compatible server must get right for the record to mean something. Extra fields that
// servers add (vLLM, Ollama, …) are allowed.
import type { SchemaError } from '../mapper';
import { schemaValidator } from '../validate';

export type OpenAiKind = 'chat' | 'completion' | 'embedding';

const tokensOrText = {
  anyOf: [
    { type: 'string' },
    { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'integer' }, { type: 'array', items: { type: 'integer' } }] } },
  ],
};
const sampling = {
  model: { type: 'string' },
  temperature: { type: 'number', minimum: 0, maximum: 2 },
  top_p: { type: 'number', minimum: 0, maximum: 1 },
  n: { type: 'integer', minimum: 1 },
  stream: { type: 'boolean' },
  max_tokens: { type: ['integer', 'null'], minimum: 0 },
};
const usage = {
  type: 'object',
  properties: { prompt_tokens: { type: 'integer' }, completion_tokens: { type: 'integer' }, total_tokens: { type: 'integer' } },
};

const REQUESTS = {
  chat: schemaValidator({
    type: 'object',
    required: ['model', 'messages'],
    properties: {
      ...sampling,
      max_completion_tokens: { type: ['integer', 'null'], minimum: 0 },
      messages: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['role'],
          properties: { role: { enum: ['system', 'developer', 'user', 'assistant', 'tool', 'function'] } },
        },
      },
      tools: { type: 'array', items: { type: 'object', required: ['type'] } },
    },
  }),
  completion: schemaValidator({ type: 'object', required: ['model', 'prompt'], properties: { ...sampling, prompt: tokensOrText } }),
  embedding: schemaValidator({
    type: 'object',
    required: ['model', 'input'],
    properties: {
      model: { type: 'string' },
      input: tokensOrText,
      encoding_format: { enum: ['float', 'base64'] },
      dimensions: { type: 'integer', minimum: 1 },
    },
  }),
};

const RESPONSES = {
  chat: schemaValidator({
    type: 'object',
    required: ['choices'],
    properties: {
      id: { type: 'string' },
      model: { type: 'string' },
      choices: {
        type: 'array',
        items: {
          type: 'object',
          required: ['index', 'message'],
          properties: { index: { type: 'integer' }, message: { type: 'object', required: ['role'] } },
        },
      },
      usage,
    },
  }),
  completion: schemaValidator({
    type: 'object',
    required: ['choices'],
    properties: {
      id: { type: 'string' },
      model: { type: 'string' },
      choices: {
        type: 'array',
        items: { type: 'object', required: ['index', 'text'], properties: { index: { type: 'integer' }, text: { type: 'string' } } },
      },
      usage,
    },
  }),
  embedding: schemaValidator({
    type: 'object',
    required: ['data'],
    properties: {
      model: { type: 'string' },
      data: {
        type: 'array',
        items: {
          type: 'object',
          required: ['embedding'],
          properties: {
            index: { type: 'integer' },
            embedding: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'number' } }] },
          },
        },
      },
      usage,
    },
  }),
};

export function validateRequest(kind: OpenAiKind, request: unknown): SchemaError[] {
  return REQUESTS[kind](request, 'request');
}

export function validateResponse(kind: OpenAiKind, response: unknown): SchemaError[] {
  return RESPONSES[kind](response, 'response');
}
