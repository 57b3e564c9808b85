// The places personal data is planted in, one case each. A leak found later becomes a case here: a name,
// and the requests that put the value where inferlog let it through. Each case returns what inferlog itself
// answered the client (503 bodies, the event route's answers): that is searched too.
import { chunkFrame } from '../fixtures/planted-sse.js';
import { leaveStream, post, postJson, stopSending } from './http';
import { SECRETS } from './secrets';

/** Base URLs of the planted app: `main` logs with journals, `closed` refuses (503) what it cannot log. */
export interface Target {
  main: string;
  closed: string;
}

/** Something inferlog answered a client, to be searched. */
export interface Output {
  where: string;
  text: string;
}

export interface PlantedCase {
  name: string;
  /** Exchanges it makes the main logger capture. */
  exchanges: number;
  run(target: Target): Promise<Output[]>;
}

const S = SECRETS;
/** One sentence with every detected kind in it. */
export const SENTENCE = `mail ${S.email}, iban ${S.iban}, card ${S.card}, bsn ${S.bsn}, tel ${S.phone}`;

const FULL_WIDTH = (digits: string) => digits.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));
/** The same data written so that a detector reading the text as stored misses it. */
export const UNICODE_VARIANTS = [
  `bsn ${FULL_WIDTH(S.bsn)}`,
  `card ${FULL_WIDTH(S.card2)}`,
  `mail ${S.email.replace('@', '\u200b@')}`,
  `mail ${S.email2.replace('@', '\uff20')}`,
  `mail ${S.email2.replace('.planted', '.\u200cplanted')}`,
  `card ${S.card.replaceAll(' ', '\t')}`,
  `card ${S.card2.replaceAll(' ', '\u202f')}`,
  `iban ${S.iban3.replaceAll(' ', '\u2009')}`,
  `iban ${S.iban2.replaceAll(' ', '\u2013')}`,
  `tel ${S.phone.replaceAll(' ', '\u00a0')}`,
  `bsn ${S.bsn.replace(/\d/g, (d) => String.fromCharCode(0x0660 + Number(d)))}`,
];

const text = { 'content-type': 'text/plain; charset=utf-8' };
const CAP = 8192; // the main logger's maxBodyBytes

const filler = (length: number) => 'lorem ipsum dolor sit amet '.repeat(Math.ceil(length / 27) + 1).slice(0, length);

/** A text whose first `total` bytes end with `kept` (what survives the cut), then `rest`. */
function cutAt(total: number, kept: string, rest: string): string {
  const pad = total - Buffer.byteLength(kept) - 1;
  return `${filler(pad)} ${kept}${rest}`;
}

/** `value`'s groups joined by `sep`, and what a cut after `groups` groups and one more character leaves of it. */
function grouped(value: string, sep: string, groups: number): { whole: string; kept: string } {
  const parts = value.split(' ');
  const whole = parts.join(sep);
  return { whole, kept: `${parts.slice(0, groups).join(sep)}${sep}${parts[groups]!.slice(0, 1)}` };
}

/** Cuts at the size cap: an IBAN after four of its five groups, a card after three of four, with each separator. */
const CAP_CUTS = [' ', '\t', '\u202f', '\u00a0', '\u3000', '-', '\u2013', '\u200b'].flatMap((sep) => [
  grouped(S.iban3, sep, 4),
  grouped(S.card, sep, 3),
]);

const frameBytes = (piece: string) => Buffer.byteLength(chunkFrame(piece));

/** Stream pieces whose frames put exactly the first `arrives` characters of `value` before the cap. */
function streamCutAt(value: string, arrives: number): string[] {
  const one = frameBytes('x');
  const first = CAP - arrives * one - Math.floor(one / 2); // the bytes the first frame takes
  const pad = `${filler(first - frameBytes('') - 1)} `;
  if (frameBytes(pad) + arrives * one > CAP || frameBytes(pad) + (arrives + 1) * one <= CAP) throw new Error('stream cut misplaced');
  return [pad, ...value, ' and so on'];
}

const chat = JSON.stringify({ model: 'planted', stream: true, messages: [{ role: 'user', content: 'read it out' }] });

export const CASES: PlantedCase[] = [
  {
    name: 'an OIP request: request id, user agent, id, parameters, tensors, a password member, an ssn tensor',
    exchanges: 1,
    async run({ main }) {
      await postJson(
        `${main}/v2/models/credit/infer`,
        {
          id: `application-${S.iban.replaceAll(' ', '')}`,
          parameters: { note: SENTENCE, password: S.password, contact: { email: S.email2, password: S.password } },
          inputs: [
            { name: 'ssn', shape: [1], datatype: 'BYTES', data: [S.ssn] },
            { name: 'note', shape: [1], datatype: 'BYTES', data: [SENTENCE] },
          ],
        },
        // A card right after a phone number: the phone's pattern takes the card's first group.
        { 'x-request-id': S.email, 'user-agent': `planted ${S.phone} ${S.card}` },
      );
      return [];
    },
  },
  {
    name: 'Unicode variants: full-width digits and @, zero-width characters, tabs and other spaces or dashes between groups',
    exchanges: 2,
    async run({ main }) {
      await postJson(`${main}/v2/models/credit/infer`, {
        parameters: { notes: UNICODE_VARIANTS },
        inputs: [{ name: 'note', shape: [UNICODE_VARIANTS.length], datatype: 'BYTES', data: UNICODE_VARIANTS }],
      });
      await post(`${main}/raw/echo`, UNICODE_VARIANTS.join('\n'), text);
      return [];
    },
  },
  {
    name: 'raw bodies cut at maxBodyBytes mid-IBAN and mid-card, whatever the separator (request and response)',
    exchanges: CAP_CUTS.length,
    async run({ main }) {
      for (const { whole, kept } of CAP_CUTS) await post(`${main}/raw/echo`, cutAt(CAP, kept, whole.slice(kept.length)), text);
      return [];
    },
  },
  {
    name: 'an error message cut at 1,000 characters mid-IBAN and mid-card',
    exchanges: 2,
    async run({ main }) {
      for (const [value, kept] of [
        [S.iban.replaceAll(' ', ''), 16],
        [S.card.replaceAll(' ', ''), 14],
      ] as const) {
        await post(`${main}/raw/error`, `${filler(999 - kept)} ${value} was refused`, text);
      }
      return [];
    },
  },
  {
    name: 'an OpenAI stream cut at maxBodyBytes after four IBAN groups',
    exchanges: 1,
    async run({ main }) {
      await post(`${main}/v1/chat/completions`, chat, {
        'content-type': 'application/json',
        'x-planted-pieces': JSON.stringify(streamCutAt(S.iban2, 20)),
      });
      return [];
    },
  },
  {
    name: 'an OpenAI stream the client leaves after four IBAN groups',
    exchanges: 1,
    async run({ main }) {
      const pieces = ['your account is ', ...S.iban3, ' and so on'];
      const seen = S.iban3.slice(0, 20);
      const content = (received: string) =>
        [...received.matchAll(/"content":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string).join('');
      await leaveStream(
        `${main}/v1/chat/completions`,
        chat,
        { 'x-planted-pieces': JSON.stringify(pieces), 'x-planted-delay': '30' },
        (received) => content(received).includes(seen),
      );
      return [];
    },
  },
  {
    name: 'a request body the client stops sending mid-IBAN',
    exchanges: 1,
    async run({ main }) {
      const { kept } = grouped(S.iban, '\t', 3);
      await stopSending(`${main}/raw/echo`, Buffer.from(`${filler(500)} ${kept}`), 5000, 'text/plain; charset=utf-8');
      return [];
    },
  },
  {
    name: 'a body labelled charset=utf-16le but sent as ASCII (request and response)',
    exchanges: 2,
    async run({ main }) {
      const ascii = SENTENCE.length % 2 === 0 ? SENTENCE : `${SENTENCE} `;
      for (const charset of ['utf-16le', 'utf-16be']) {
        await post(`${main}/raw/echo`, Buffer.from(ascii, 'latin1'), { 'content-type': `text/plain; charset=${charset}` });
      }
      return [];
    },
  },
  {
    name: 'a RegExp route under a router mounted at a parameterised prefix (route must not hold the path value)',
    exchanges: 2,
    async run({ main }) {
      await postJson(`${main}/tenants/${encodeURIComponent(S.email)}/predict`, { password: S.password, note: 'x' });
      await postJson(`${main}/tenants/${S.iban2.replaceAll(' ', '')}/predict`, { note: 'y' });
      return [];
    },
  },
  {
    name: 'a predicate route under a mounted router',
    exchanges: 1,
    async run({ main }) {
      await post(`${main}/p/${encodeURIComponent(S.email2)}/score`, 'hello', text);
      return [];
    },
  },
  {
    name: 'an oversight event through the route: secrets in subject, type, actor and data',
    exchanges: 0,
    async run({ main }) {
      const answer = await postJson(`${main}/inferences/${encodeURIComponent(S.email)}/events`, {
        type: `incident: ${S.email} ${S.iban}`,
        actor: S.email2,
        data: { note: SENTENCE },
      });
      return [{ where: `event route: ${answer.status}`, text: answer.body }];
    },
  },
  {
    name: "a custom mapper that throws with the request's text; the request id is an email",
    exchanges: 1,
    async run({ main }) {
      await post(`${main}/custom/apply`, SENTENCE, { ...text, 'x-request-id': S.email2 });
      return [];
    },
  },
  {
    name: "a record that cannot be built (an annotation's getter throws with the request's text)",
    exchanges: 1,
    async run({ main }) {
      await post(`${main}/annotate/apply`, SENTENCE, { ...text, 'x-request-id': S.email });
      return [];
    },
  },
  {
    name: 'an oversight event with an unknown field named by an email',
    exchanges: 0,
    async run({ main }) {
      const answer = await postJson(`${main}/inferences/${encodeURIComponent(S.email)}/events`, { type: 'feedback', [S.email2]: 'x' });
      return [{ where: `event route (unknown field): ${answer.status}`, text: answer.body }];
    },
  },
  {
    name: "a handler that throws with the request's text",
    exchanges: 1,
    async run({ main }) {
      await post(`${main}/raw/throw`, SENTENCE, text);
      return [];
    },
  },
];

/** Requests to the fail-closed app once its writes fail: its 503 bodies say why, and must not quote a row. */
export async function refusals(closed: string, attempts: number): Promise<Output[]> {
  const out: Output[] = [];
  for (let i = 0; i < attempts; i++) {
    const answer = await postJson(`${closed}/tenants/${encodeURIComponent(S.email)}/predict`, { pad: 'z'.repeat(900), i });
    if (answer.status === 503) out.push({ where: '503 body of the fail-closed app', text: answer.body });
  }
  return out;
}
