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
        { 'x-request-id': S.email, 'user-agent': `planted ${S.phone}` },
      );
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
