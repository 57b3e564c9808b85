// Flush-path CPU per record: turning one captured exchange into its row (decode, map, validate, digest),
// per protocol, against the same bytes stored raw (no mapping) as the baseline measured alongside; and
// the same mapped record again with a typical set of redaction rules (compiled once, at start).
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { buildRecord } from '../../packages/core/dist/record/build';
import { Exchange } from '../../packages/core/dist/capture/exchange';
import { pseudonym, type InferenceLogOptions, type ProtocolName, type RedactRule } from '@inferlog/core';
import { resolveOptions } from '../../packages/core/dist/options';
import type { CompiledRoute } from '../../packages/core/dist/routes';
import { median } from './writer';

interface Payload {
  label: string;
  path: string;
  protocol: ProtocolName;
  request: Buffer;
  response: Buffer;
  requestHeaders?: Record<string, string>;
  responseHeaders?: Record<string, string>;
}

const floats = (n: number) => Array.from({ length: n }, (_, i) => Math.round(Math.sin(i) * 1e6) / 1e6);
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

function binaryOip(n: number): { request: Buffer; headers: Record<string, string> } {
  const header = json({ inputs: [{ name: 'x', shape: [1, n], datatype: 'FP32', parameters: { binary_data_size: n * 4 } }] });
  return {
    request: Buffer.concat([header, Buffer.from(new Float32Array(floats(n)).buffer)]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
  };
}

function chatStream(tokens: number): Buffer {
  const head = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'm' };
  const events = [{ ...head, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }];
  for (let i = 0; i < tokens; i++)
    events.push({ ...head, choices: [{ index: 0, delta: { content: ` tok${i}` } as never, finish_reason: null }] });
  events.push({ ...head, choices: [{ index: 0, delta: {} as never, finish_reason: 'stop' as never }] });
  return Buffer.from(`${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')}data: [DONE]\n\n`);
}

const oipResponse = json({
  model_name: 'm',
  model_version: '1',
  id: 'b',
  outputs: [{ name: 'score', shape: [1], datatype: 'FP32', data: [0.5] }],
});
const binary = binaryOip(1024);
const messages = [
  { role: 'system', content: 'You are a credit assistant.' },
  { role: 'user', content: 'Summarise the applicant file in two sentences.' },
];

export const PAYLOADS: Payload[] = [
  {
    label: 'OIP v2, 16 floats (the HTTP benchmark payload)',
    path: '/v2/models/m/infer',
    protocol: 'oip-v2',
    request: json({ id: 'b', inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: floats(16) }] }),
    response: oipResponse,
  },
  {
    label: 'OIP v2, 4096 floats',
    path: '/v2/models/m/infer',
    protocol: 'oip-v2',
    request: json({ id: 'b', inputs: [{ name: 'x', shape: [1, 4096], datatype: 'FP32', data: floats(4096) }] }),
    response: oipResponse,
  },
  {
    label: 'OIP v2 binary tensor, 1024 FP32',
    path: '/v2/models/m/infer',
    protocol: 'oip-v2',
    request: binary.request,
    requestHeaders: binary.headers,
    response: oipResponse,
  },
  {
    label: 'KServe v1, 8 × 4 instances',
    path: '/v1/models/m:predict',
    protocol: 'kserve-v1',
    request: json({ instances: Array.from({ length: 8 }, (_, i) => floats(4).map((x) => x + i)) }),
    response: json({ predictions: floats(8) }),
  },
  {
    label: 'OpenAI chat completion',
    path: '/v1/chat/completions',
    protocol: 'openai-chat',
    request: json({ model: 'm', messages, temperature: 0.2 }),
    response: json({
      id: 'chatcmpl-b',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'The applicant earns enough. Debts are low.' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29 },
    }),
  },
  {
    // Text that is not ASCII is searched on its normalised view (NFKC, invisible characters out, every space a separator).
    label: 'OpenAI chat completion, accented and CJK text',
    path: '/v1/chat/completions',
    protocol: 'openai-chat',
    request: json({
      model: 'm',
      messages: [{ role: 'user', content: 'Résumé van de aanvrager: één café in Zürich, 東京の支店に口座があります。'.repeat(8) }],
    }),
    response: json({
      id: 'chatcmpl-b',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'De aanvrager heeft één lening — 返済は順調です。'.repeat(8) },
          finish_reason: 'stop',
        },
      ],
    }),
  },
  {
    label: 'OpenAI chat, streamed (200 events)',
    path: '/v1/chat/completions',
    protocol: 'openai-chat',
    request: json({ model: 'm', messages, stream: true }),
    response: chatStream(200),
    responseHeaders: { 'content-type': 'text/event-stream' },
  },
];

/** A captured exchange of the payload, as the capture path leaves it for the flush path. */
export function exchangeOf(
  payload: Payload,
  options: InferenceLogOptions,
): { exchange: Exchange<CompiledRoute>; resolved: ReturnType<typeof resolveOptions> } {
  const resolved = resolveOptions({
    database: 'postgres://unused@127.0.0.1:1/none',
    spillDir: false,
    routes: [{ path: payload.path, protocol: payload.protocol }],
    ...options,
  });
  const requestHeaders = {
    'content-type': 'application/json',
    'content-length': String(payload.request.length),
    ...payload.requestHeaders,
  };
  const route = resolved.selector.select('POST', payload.path, requestHeaders)!;
  const req = { method: 'POST', url: payload.path, headers: requestHeaders } as unknown as IncomingMessage;
  const exchange = new Exchange(route, req, resolved.maxBodyBytes, resolved.requestIdHeader);
  exchange.request.add(payload.request);
  exchange.response.add(payload.response);
  exchange.status = 200;
  exchange.responseHeaders = { 'content-type': 'application/json', ...payload.responseHeaders };
  return { exchange, resolved };
}

function microsPerRecord(exchange: Exchange<CompiledRoute>, options: ReturnType<typeof resolveOptions>, iterations: number): number {
  const start = performance.now();
  for (let i = 0; i < iterations; i++) buildRecord(exchange, options);
  return ((performance.now() - start) * 1000) / iterations;
}

/**
 * A typical rule set: an identifier tensor pseudonymised, two paths masked (these payloads carry none of
 * them: what every record pays is the queries), and five detectors over every text of the record (the
 * expensive kind: every string is searched).
 */
export const BENCH_RULES: RedactRule[] = [
  { input: 'customer_id', action: 'hash' },
  { paths: ['$.parameters.user', '$..email'], action: 'mask' },
  { detect: ['email', 'phone', 'iban', 'bsn', 'creditcard'], action: 'mask' },
];
const HMAC_KEY = 'bench-hmac-key-0123456789abcdef';

export interface RecordBuildResult {
  label: string;
  bytes: number;
  mappedMicros: number;
  rawMicros: number;
  redactedMicros: number;
}

/** µs per record for each payload mapped by its protocol, for the same bytes stored raw, and mapped and redacted, alternating rounds. */
export function recordBuild(iterations: number, rounds: number): RecordBuildResult[] {
  return PAYLOADS.map((payload) => {
    const mapped = exchangeOf(payload, {});
    const raw = exchangeOf({ ...payload, protocol: 'raw' }, {});
    const redacted = exchangeOf(payload, { redact: BENCH_RULES, hmacKey: HMAC_KEY });
    const n = Math.max(50, Math.floor(iterations / Math.ceil((payload.request.length + payload.response.length) / 2048)));
    microsPerRecord(mapped.exchange, mapped.resolved, n); // warm-up: schemas compile, code optimises
    microsPerRecord(redacted.exchange, redacted.resolved, n);
    const runs = { mapped: [] as number[], raw: [] as number[], redacted: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      runs.raw.push(microsPerRecord(raw.exchange, raw.resolved, n));
      runs.mapped.push(microsPerRecord(mapped.exchange, mapped.resolved, n));
      runs.redacted.push(microsPerRecord(redacted.exchange, redacted.resolved, n));
    }
    return {
      label: payload.label,
      bytes: payload.request.length + payload.response.length,
      mappedMicros: median(runs.mapped),
      rawMicros: median(runs.raw),
      redactedMicros: median(runs.redacted),
    };
  });
}

/** µs per value of the `hash` action (one HMAC-SHA-256): what pseudonymising a tensor costs per element. */
export function hmacMicros(times: number): number {
  const start = performance.now();
  for (let i = 0; i < times; i++) pseudonym(HMAC_KEY, `customer-${i}`);
  return ((performance.now() - start) * 1000) / times;
}

/** µs to validate the options and compile BENCH_RULES (JSONPaths parsed, detectors bound): paid once, at start. */
export function ruleCompileMicros(times: number): number {
  const start = performance.now();
  for (let i = 0; i < times; i++)
    resolveOptions({ database: 'postgres://unused@127.0.0.1:1/none', spillDir: false, redact: BENCH_RULES, hmacKey: HMAC_KEY });
  return ((performance.now() - start) * 1000) / times;
}

/** Texts of about 1 KiB the detectors search: the kinds the normalised view treats differently. */
const DETECTION_TEXTS: { label: string; text: string }[] = [
  { label: 'ASCII', text: 'Order 42 for jan at example, ref 2024-01-15; call back on Monday. '.repeat(16) },
  { label: 'accented and CJK (its own normal view)', text: 'Bestelling 42 voor één café in Zürich, 東京 2024年1月15日。'.repeat(20) },
  {
    label: 'full-width digits, dashes, tabs, zero-width spaces (mapped back)',
    text: 'Order ４２\tfor jan\u200bde vries — ref ２０２４; call back. '.repeat(20),
  },
];

export interface DetectionResult {
  label: string;
  bytes: number;
  micros: number;
}

/** µs for the five detectors of BENCH_RULES over each text (one string of the record), median of `rounds`. */
export function detectionMicros(times: number, rounds: number): DetectionResult[] {
  const { redactor } = resolveOptions({
    database: 'postgres://unused@127.0.0.1:1/none',
    spillDir: false,
    redact: BENCH_RULES,
    hmacKey: HMAC_KEY,
  });
  return DETECTION_TEXTS.map(({ label, text }) => {
    const runs: number[] = [];
    for (let round = 0; round <= rounds; round++) {
      const start = performance.now();
      for (let i = 0; i < times; i++) redactor!.apply({ parameters: { note: text } });
      if (round > 0) runs.push(((performance.now() - start) * 1000) / times); // the first round warms up
    }
    return { label, bytes: Buffer.byteLength(text), micros: median(runs) };
  });
}
