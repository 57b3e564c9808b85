// Flush-path CPU of parsing a body's JSON: JSON.parse (what decoding used before integers beyond 2^53
// were kept exact) against parseJsonExact (JSON.parse plus a walk for numbers of magnitude 2^53 or more,
// and the exact re-parse only when there is one), measured alternately in the same run.
import { performance } from 'node:perf_hooks';
import { parseJsonExact } from '../../packages/core/dist/exact-json';
import { median } from './writer';

/** One body's µs per parse, before (JSON.parse) and after (parseJsonExact). */
export interface JsonParseResult {
  label: string;
  bytes: number;
  jsonParseMicros: number;
  exactMicros: number;
}

const floats16 = Array.from({ length: 16 }, (_, i) => Math.fround(Math.sin(i + 1)));
const int64 = (n: number, big: boolean) =>
  `{"inputs":[{"name":"ids","shape":[${n}],"datatype":"INT64","data":[${Array.from({ length: n }, (_, i) =>
    big && i % 2 ? `9007199254740${993 + i}` : String(1234567 * i),
  ).join(',')}]}]}`;

export const JSON_BODIES: { label: string; text: string }[] = [
  { label: 'OIP, 16 FP32', text: JSON.stringify({ id: 'r1', inputs: [{ name: 'x', shape: [4, 4], datatype: 'FP32', data: floats16 }] }) },
  { label: 'OIP, 1000 INT64 within 2^53', text: int64(1000, false) },
  { label: 'OIP, 1000 INT64, half beyond 2^53', text: int64(1000, true) },
];

function micros(parse: (text: string) => unknown, text: string, iterations: number): number {
  const start = performance.now();
  for (let i = 0; i < iterations; i++) parse(text);
  return ((performance.now() - start) * 1000) / iterations;
}

/** Median µs per parse of each body over `rounds` alternating rounds of about `budgetMs` each. */
export function jsonParse(rounds: number, budgetMs = 200): JsonParseResult[] {
  return JSON_BODIES.map(({ label, text }) => {
    const iterations = Math.max(100, Math.round((budgetMs * 1000) / Math.max(1, micros(parseJsonExact, text, 200))));
    const before: number[] = [];
    const after: number[] = [];
    for (let r = 0; r < rounds; r++) {
      before.push(micros(JSON.parse, text, iterations));
      after.push(micros(parseJsonExact, text, iterations));
    }
    return { label, bytes: Buffer.byteLength(text), jsonParseMicros: median(before), exactMicros: median(after) };
  });
}

if (require.main === module) {
  for (const r of jsonParse(7))
    console.log(`${r.label} (${r.bytes} B): JSON.parse ${r.jsonParseMicros.toFixed(2)} µs, exact ${r.exactMicros.toFixed(2)} µs`);
}
