import { isObject, omitKeys } from '../mapper';

/** A token count: a finite number, or an integer beyond 2^53 (a BigInt from the exact parser, stored as its digits). */
function count(value: unknown): number | bigint | undefined {
  return (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint' ? value : undefined;
}

/** Two counts added, exactly when either is a BigInt. */
function sum(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  const whole = (n: number | bigint) => typeof n === 'bigint' || Number.isInteger(n);
  return whole(a) && whole(b) ? BigInt(a) + BigInt(b) : Number(a) + Number(b);
}

/**
 * Token usage under one set of names for every provider: `input_tokens`, `output_tokens`,
 * `total_tokens` (OpenAI's `prompt_tokens`/`completion_tokens`, or already so named), their `_details`,
 * any other counters the server sent, and `time_to_first_token_ms` for streams. Null when there is nothing.
 */
export function normalizeUsage(usage: unknown, timeToFirstTokenMs: number | null): Record<string, unknown> | null {
  const u = isObject(usage) ? usage : {};
  const input = count(u.prompt_tokens) ?? count(u.input_tokens);
  const output = count(u.completion_tokens) ?? count(u.output_tokens);
  const total = count(u.total_tokens) ?? (input !== undefined && output !== undefined ? sum(input, output) : undefined);
  const entries = Object.entries({
    input_tokens: input,
    output_tokens: output,
    total_tokens: total,
    input_tokens_details: u.prompt_tokens_details ?? u.input_tokens_details,
    output_tokens_details: u.completion_tokens_details ?? u.output_tokens_details,
  }).filter(([, value]) => value !== undefined && value !== null);
  const known = [
    'prompt_tokens',
    'input_tokens',
    'completion_tokens',
    'output_tokens',
    'total_tokens',
    'prompt_tokens_details',
    'input_tokens_details',
    'completion_tokens_details',
    'output_tokens_details',
  ];
  entries.push(...Object.entries(omitKeys(u, known) ?? {}));
  if (timeToFirstTokenMs !== null) entries.push(['time_to_first_token_ms', timeToFirstTokenMs]);
  return entries.length > 0 ? Object.fromEntries(entries) : null;
}
