// Wherever text is cut (the size cap, an error message's 1,000 characters, a stream cut or left by the
// client, a request body the client stopped sending, a truncate rule), the tail that could be the start of something a
// detector knows goes, whatever separates its groups: a value whose end was cut cannot be recognised, so
// it would otherwise be stored as a recoverable prefix.
import type { IncomingMessage } from 'node:http';
import { Exchange } from '../src/capture/exchange';
import { resolveOptions } from '../src/options';
import { buildRecord } from '../src/record/build';
import { withoutCutTail } from '../src/redact/cut-tail';
import { Redactor } from '../src/redact/redactor';
import { compileRule, type RedactRule } from '../src/redact/rules';

const IBAN = 'NL91 ABNA 0417 1643 00';
const DETECT: RedactRule = { detect: ['email', 'phone', 'iban', 'bsn', 'creditcard'], action: 'mask' };
const fullWidth = (text: string) => text.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));

describe('a cut text loses the tail that may be the start of a value', () => {
  test.each([
    ['spaces', 'pay to: NL91 ABNA 0417 1643 0', 'pay to:'],
    ['tabs', 'pay to: NL91\tABNA\t0417\t1643\t0', 'pay to:'],
    ['narrow no-break spaces', 'pay to: NL91\u202fABNA\u202f0417\u202f1643\u202f0', 'pay to:'],
    ['ideographic spaces', 'pay to: NL91\u3000ABNA\u30000417\u30001643\u3000', 'pay to:'],
    ['en dashes', 'pay to: NL91–ABNA–0417–1643–0', 'pay to:'],
    ['zero-width spaces', 'pay to: NL91\u200bABNA\u200b0417\u200b1643\u200b0', 'pay to:'],
    ['full-width digits', `card: ${fullWidth('4111 1111 1111')}`, 'card:'],
    ['a card cut between groups', 'card: 4111 1111 1111 ', 'card:'],
    ['an email cut in its domain', 'mail: jan@exam', 'mail:'],
    ['an email with a zero-width space cut', 'mail: jan\u200b@exam', 'mail:'],
    ['a phone number with every separator the detector allows', 'tel: +31 - (6) - (1) - (2) - (3) - (4) - (5) - (6) - (7)', 'tel:'],
  ])('%s', (_name, cut, kept) => {
    expect(withoutCutTail(cut)).toBe(kept);
  });

  test('an IBAN of the longest kind with two separators between every character, cut at its end, goes whole', () => {
    const longest = `ref: RU12${' -4'.repeat(29)}`; // 91 characters: no value detectors know is longer
    expect(withoutCutTail(longest)).toBe('ref:');
  });

  test('prose keeps what no value can reach: text before punctuation, and more than the longest value back', () => {
    expect(withoutCutTail('The answer, in short: yes and no')).toBe('The answer, in short:');
    const long = `${'word '.repeat(40)}end`;
    expect(long.length - withoutCutTail(long).length).toBeLessThanOrEqual(100);
  });
});

/** A captured exchange, as the capture path leaves it for the flush path. */
function exchange(
  path: string,
  rules: RedactRule[],
  parts: {
    request?: string;
    response: string;
    responseType?: string;
    status?: number;
    aborted?: boolean;
    incomplete?: boolean;
    cap?: number;
  },
) {
  const options = resolveOptions({
    database: 'postgres://unused@127.0.0.1:1/none',
    spillDir: false,
    maxBodyBytes: parts.cap ?? 1024 * 1024,
    routes: ['/raw/*rest', '/v1/chat/completions'],
    redact: rules,
  });
  const headers = { 'content-type': 'text/plain; charset=utf-8' };
  const route = options.selector.select('POST', path, headers)!;
  const x = new Exchange(route, { method: 'POST', url: path, headers } as unknown as IncomingMessage, options.maxBodyBytes, null);
  x.request.add(Buffer.from(parts.request ?? ''));
  x.response.add(Buffer.from(parts.response));
  x.request.seal();
  x.response.seal();
  x.status = parts.status ?? 200;
  x.aborted = parts.aborted ?? false;
  x.requestIncomplete = parts.incomplete ?? false;
  x.responseHeaders = { 'content-type': parts.responseType ?? 'text/plain; charset=utf-8' };
  return buildRecord(x, options);
}

const frame = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;
const SSE = 'text/event-stream';

describe('every cut in a record', () => {
  test('a response the client left: its raw body', () => {
    const row = exchange('/raw/x', [DETECT], { response: `account: NL91\tABNA\t0417\t1643\t0`, aborted: true });
    expect(row.response_body).toBe('account:');
  });

  test('a request body the client stopped sending', () => {
    const row = exchange('/raw/x', [DETECT], { request: `account: ${IBAN.slice(0, 15)}`, response: 'ok', incomplete: true });
    expect(row.request_body).toBe('account:');
  });

  test('an error message cut at 1,000 characters, and one from a body cut at the cap', () => {
    const long = exchange('/raw/x', [DETECT], { response: `${'x'.repeat(982)}: NL91ABNA0417164300 refused`, status: 400 });
    expect((long.error as { message: string }).message).toBe(`${'x'.repeat(982)}:`);
    const capped = exchange('/raw/x', [DETECT], { response: `refused: ${IBAN}`, status: 400, cap: 20 });
    expect((capped.error as { message: string }).message).toBe('refused:');
  });

  test('an OpenAI stream cut at the cap, or left by the client: the content of each unfinished choice', () => {
    const pieces = ['your account: ', ...IBAN];
    const stream = pieces.map((p) => frame(p)).join('');
    const cap = stream.indexOf(frame(IBAN[20]!)); // 20 characters of the IBAN arrived
    const cut = exchange('/v1/chat/completions', [DETECT], { response: stream, responseType: SSE, cap });
    const left = exchange('/v1/chat/completions', [DETECT], { response: stream.slice(0, cap), responseType: SSE, aborted: true });
    for (const row of [cut, left]) {
      expect(row.truncated).toContain('response_stream');
      expect((row.outputs as { data: { content: string }[] }[])[0]!.data[0]!.content).toBe('your account:');
    }
  });

  test('a finished choice keeps its whole content; without detectors nothing is taken', () => {
    const done = `${frame('call me: 06 1234 5678', 'stop')}data: [DONE]\n\n`;
    const row = exchange('/v1/chat/completions', [DETECT], { response: done, responseType: SSE });
    expect((row.outputs as { data: { content: string }[] }[])[0]!.data[0]!.content).toBe('call me: [REDACTED]');
    const bare = exchange('/raw/x', [], { response: `account: ${IBAN.slice(0, 15)}`, aborted: true });
    expect(bare.response_body).toBe(`account: ${IBAN.slice(0, 15)}`);
  });
});

describe('a truncate rule does not cut inside a value the detectors would find', () => {
  const rules = (keep: number): RedactRule[] => [{ path: '$.parameters.note', action: 'truncate', keep }, DETECT];
  const truncated = (note: string, keep: number) =>
    new Redactor(rules(keep).map((rule, i) => compileRule(`redact[${i}]`, rule, null))).apply({ parameters: { note } }).parts.parameters;

  test('a text cut inside an IBAN keeps what came before it, not its first groups', () => {
    expect(truncated(`pay to ${IBAN} today`, 20)).toEqual({ note: 'pay to ' });
    expect(truncated(`mail jan@example.nl, ${fullWidth('4111 1111 1111 1111')}`, 30)).toEqual({ note: 'mail [REDACTED], ' });
  });

  test('a value that is the whole text is cut where the rule says (first digits kept on purpose)', () => {
    expect(truncated('4111 1111 1111 1111', 7)).toEqual({ note: '4111 11' });
  });
});
