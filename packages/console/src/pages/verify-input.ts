// The verify form's fields: which chain (or the whole log) and the completeness report's period, read from
// a POSTed form. A field that cannot be read is named, never thrown: the form shows it beside the field.
import { parseInstant } from '@inferlog/core/audit';

export type VerifyField = 'chain' | 'since' | 'until';

/** What to verify, the fields as given (to show them back), and each field's problem. */
export interface VerifyInput {
  chain?: string;
  since?: Date;
  until?: Date;
  kept: Partial<Record<VerifyField, string>>;
  problems: Partial<Record<VerifyField, string>>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_FIELD = 1000;

/** Reads the verify form's fields from `form` (empty fields: the whole log, the whole period). */
export function parseVerifyInput(form: URLSearchParams, now = new Date()): VerifyInput {
  const input: VerifyInput = { kept: {}, problems: {} };
  for (const name of ['chain', 'since', 'until'] as const) {
    const raw = form.get(name)?.trim() ?? '';
    if (!raw) continue;
    const value = raw.slice(0, MAX_FIELD);
    input.kept[name] = value;
    if (name === 'chain') {
      if (UUID.test(value)) input.chain = value.toLowerCase();
      else
        input.problems.chain = 'a chain id is a UUID (8-4-4-4-12 hexadecimal digits), as the table of chains below a verification shows it';
      continue;
    }
    try {
      input[name] = parseInstant(value, name, now);
    } catch (err) {
      input.problems[name] = (err as Error).message.replace(/^inferlog: /, '');
    }
  }
  if (input.since && input.until && input.since >= input.until) {
    input.problems.until = 'until must be later than since';
    delete input.until;
  }
  return input;
}
