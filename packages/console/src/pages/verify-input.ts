// The verify form's fields: which chain (or the whole log) and the completeness report's period, read from
// a POSTed form. A field that cannot be read is named, never thrown: the form shows it beside the field.
import { parseFilter } from '../filters';

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

/** Reads the verify form's fields from `form` (empty fields: the whole log, the whole period); the period as the record filters read it. */
export function parseVerifyInput(form: URLSearchParams, now = new Date()): VerifyInput {
  const period = new URLSearchParams();
  for (const name of ['since', 'until'] as const) period.set(name, form.get(name)?.trim() ?? '');
  const parsed = parseFilter(period, now);
  const input: VerifyInput = {
    ...(parsed.filter.since ? { since: parsed.filter.since } : {}),
    ...(parsed.filter.until ? { until: parsed.filter.until } : {}),
    kept: { ...parsed.kept },
    problems: { ...parsed.problems },
  };
  const chain = form.get('chain')?.trim().slice(0, MAX_FIELD) ?? '';
  if (chain) {
    input.kept.chain = chain;
    if (UUID.test(chain)) input.chain = chain.toLowerCase();
    else
      input.problems.chain = 'a chain id is a UUID (8-4-4-4-12 hexadecimal digits), as the table of chains below a verification shows it';
  }
  return input;
}
