// The places personal data is planted in, one case each. A leak found later becomes a case here: a name,
// and the requests that put the value where inferlog let it through. Each case returns what inferlog itself
// answered the client (503 bodies, the event route's answers): that is searched too.
import { post, postJson } from './http';
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
    const answer = await postJson(`${closed}/tenants/acme/predict`, { pad: 'z'.repeat(900), i });
    if (answer.status === 503) out.push({ where: '503 body of the fail-closed app', text: answer.body });
  }
  return out;
}
